// The layer rule of src/ (.dependency-cruiser.cjs): no import points up a layer, no import loop. A new
// violation fails here with dependency-cruiser's list of what and where.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('layers', () => {
  it('src/ imports only from its own layer or below, and has no import loop', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/no dependency violations found \(\d+ modules/);
  });
});
