#!/usr/bin/env node
// `npm test`: installs the Debian packages the tests need (when missing), then runs vitest in a network
// namespace of its own (root: `unshare -n`) with its own temporary directory. The run's Samba DC, Shibboleth
// SP, Redis and servers then listen on a private loopback: they never meet the host's 127.0.0.1:389 (a demo,
// another checkout's tests) and several runs can go at once.
//
//   node scripts/test.mjs [vitest arguments]       e.g. npm test -- test/saml2
//   GATEHOUSE_TEST_NETNS=0   run on the host's loopback instead (then one run at a time)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (msg) => process.stderr.write(`[test] ${msg}\n`);
const args = process.argv.slice(2);

if (process.env.GATEHOUSE_TEST_SKIP_PACKAGES !== '1') {
  const r = spawnSync('bash', [join(ROOT, 'scripts/system-packages.sh'), 'ensure', 'test'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const run = mkdtempSync(join(tmpdir(), 'gatehouse-test-run-'));
// apache's workers (www-data) serve the Shibboleth SP from under it: others may pass through, as through /tmp.
chmodSync(run, 0o711);
const tmp = join(run, 'tmp');
mkdirSync(tmp, { mode: 0o711 });
chmodSync(tmp, 0o711);
const env = { ...process.env, TMPDIR: tmp, SAMBA_DC_DIR: join(run, 'dc'), GATEHOUSE_TEST_RUN_DIR: run };
delete env.GATEHOUSE_TEST_KEEP_DC; // a kept DC lives on the host's loopback; this run has its own

const vitest = [process.execPath, join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...args];
const canUnshare = () =>
  spawnSync('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' }).status === 0;
let argv = vitest;
if (process.env.GATEHOUSE_TEST_NETNS !== '0' && canUnshare()) {
  argv = ['unshare', '-n', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...vitest];
  say(`own network namespace and temporary directory ${run}`);
} else {
  say(`no private network namespace (needs root and unshare): the tests use the host's 127.0.0.1; run directory ${run}`);
}

/** The pages' screenshots (test/browser/pages.test.ts) outlive the run in var/screenshots/ (gitignored), for a person or CI to look at. */
const SCREENSHOTS = join(ROOT, 'var', 'screenshots');
function keepScreenshots() {
  const shots = join(run, 'screenshots');
  if (!existsSync(shots) || !readdirSync(shots).length) return;
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(join(ROOT, 'var'), { recursive: true });
  cpSync(shots, SCREENSHOTS, { recursive: true });
  say(`screenshots of the pages: ${SCREENSHOTS} (${readdirSync(SCREENSHOTS).length} files)`);
}

const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env, cwd: ROOT });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  // Whatever the tests left (a DC that did not stop dies with the namespace once its processes end).
  spawnSync('bash', [join(ROOT, 'test/fixtures/samba-dc.sh'), 'down'], { env, stdio: 'ignore' });
  keepScreenshots();
  rmSync(run, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
