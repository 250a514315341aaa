import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // One DC for every file, and tests change its state (lockouts): run files one at a time.
    fileParallelism: false,
    pool: 'forks',
  },
});
