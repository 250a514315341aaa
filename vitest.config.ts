import { configDefaults, defineConfig } from 'vitest/config';

// Two projects, told apart by the file name:
// - unit (test/**/*.unit.test.ts): no Samba DC and no shared state (pure functions, XML, configuration,
//   key serial numbers, documentation, the Graph client against its in-process emulator): files run in
//   parallel, and a run of only these starts no DC.
// - integration (every other test/**/*.test.ts): one Samba AD DC for the run (test/global-setup.ts), whose
//   state the tests change (lockouts, users): files run one at a time, after the unit files.
// `npm test -- --project unit` runs one of them; `npm test -- <files or folders>` what they name.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.unit.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/**/*.unit.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
