// vitest globalSetup: one fresh Samba AD DC (test/fixtures/samba-dc.sh) shared by all test files.
//
// GATEHOUSE_TEST_KEEP_DC=1 (local iterations): reuse a DC that is already running instead of
// re-provisioning (~10 s), and leave it running afterwards. State then carries over between runs
// (lockouts, users created by tests), so tests must not assume a pristine directory beyond the seed.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/samba-dc.sh', import.meta.url));

function dc(cmd: 'install' | 'up' | 'down' | 'destroy' | 'status', quiet = false): boolean {
  const r = spawnSync('bash', [script, cmd], { stdio: quiet ? 'ignore' : 'inherit' });
  if (r.error) throw r.error;
  return r.status === 0;
}

function must(cmd: 'install' | 'up' | 'down' | 'destroy'): void {
  if (!dc(cmd)) throw new Error(`test/fixtures/samba-dc.sh ${cmd} failed (see output above)`);
}

export default async function setup(): Promise<() => void> {
  // samba lives in /usr/sbin, which a non-root PATH may lack.
  const hasSamba = spawnSync('sh', ['-c', 'command -v samba || test -x /usr/sbin/samba'], { stdio: 'ignore' }).status === 0;
  if (!hasSamba) must('install');

  const keep = process.env.GATEHOUSE_TEST_KEEP_DC === '1';
  const started = performance.now();
  if (!(keep && dc('status', true))) must('destroy');
  must('up');
  console.log(`Samba AD DC ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // Every temporary file of the run (configs, keys, state, browser profiles) goes under one directory,
  // removed at the end: test files inherit TMPDIR, and os.tmpdir() reads it.
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-tests-'));
  // Others may pass through, as through /tmp: apache's workers (www-data) serve the Shibboleth SP from here.
  chmodSync(tmp, 0o711);
  process.env.TMPDIR = tmp;

  return () => {
    rmSync(tmp, { recursive: true, force: true });
    if (!keep) must('down');
  };
}
