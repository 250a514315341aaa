// `npm run demo` end to end: scripts/demo.sh itself runs in a network namespace of its own (it starts its own
// DC on the fixed LDAP ports, which the test DC holds here), its ports 8080 and 8081 are published on this
// namespace's loopback, and the test does what the printed text says: it opens the printed URLs, signs in as
// each listed user through the demo application and gets the listed outcome, changes the expired and the
// must-change password (in Chromium and over HTTP), and stops it all with Ctrl-C.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser as Chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  changePasswordHttp,
  changePasswordInChromium,
  DEMO_USERS,
  launchDemoChromium,
  REASONS,
  signInThroughDemoRp,
  tryEveryDemoUser,
  type Outcome,
} from '../support/demo-walk.js';
import { publishPorts, startInOwnNetns, type Proc, type Published } from '../support/private-net.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let demo: Proc;
let published: Published | undefined;
let chromium: Chromium | undefined;
let dcDir: string;
let startSeconds: number;
/** What the demo printed once it was ready. */
let banner: string;
const users: { name: string; password: string; expect: string }[] = [];
let urls: { rp: string; signIn: string; metadata: string };

/** Fails with the demo's own output, so that a broken demo shows why. */
function explain(err: unknown): never {
  throw new Error(`${(err as Error).message}\n${demo.tail(80)}`);
}

beforeAll(async () => {
  expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.demo).toBe('bash scripts/demo.sh');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  dcDir = join(dir, 'dc');
  const env: NodeJS.ProcessEnv = { ...process.env, SAMBA_DC_DIR: dcDir, DEMO_DIR: join(dir, 'demo') };
  // As a person's shell would have it: Gatehouse refuses GATEHOUSE_* variables it does not know.
  for (const k of Object.keys(env)) if (k.startsWith('GATEHOUSE_') || k === 'PORT' || k === 'RP_PORT') delete env[k];
  const started = performance.now();
  demo = startInOwnNetns('npm run demo', ['bash', 'scripts/demo.sh'], { cwd: ROOT, env });
  const m = await demo.waitFor(/\n {2}Gatehouse is running \(ready in (\d+) s\)\.\n[\s\S]*?\n {2}Ctrl-C stops[^\n]*\n/, 120_000);
  startSeconds = (performance.now() - started) / 1000;
  console.log(`npm run demo: ready in ${startSeconds.toFixed(1)} s`);
  banner = m[0];
  // What it says of itself is true, give or take the second it takes to print it.
  expect(Math.abs(Number(m[1]) - startSeconds)).toBeLessThanOrEqual(2);
  const url = (label: string) => new RegExp(`${label}:\\s+(http\\S+)`).exec(banner)?.[1] ?? explain(new Error(`no "${label}:" URL printed`));
  urls = { rp: url('Open'), signIn: url('or'), metadata: url('Metadata') };
  const table = /Users \(domain CORP, corp\.example\.test\):\n([\s\S]*?)\n\n/.exec(banner)?.[1] ?? explain(new Error('no user list printed'));
  for (const line of table.split('\n')) {
    const [name, password, what] = line.trim().split(/\s{2,}/);
    users.push({ name: name!, password: password!, expect: what! });
  }
  const ports = [...new Set(Object.values(urls).map((u) => Number(new URL(u).port)))];
  published = await publishPorts(demo.pid, ports);
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await published?.close();
  await demo?.stop();
  // A DC that a killed demo left running (it runs in a session of its own).
  if (dcDir) spawnSync('bash', [join(ROOT, 'test/fixtures/samba-dc.sh'), 'down'], { env: { ...process.env, SAMBA_DC_DIR: dcDir }, stdio: 'ignore' });
});

describe('npm run demo', () => {
  it('prints the three URLs, the users, and how to stop it; the URLs answer', async () => {
    expect(urls).toEqual({
      rp: 'http://localhost:8081/',
      signIn: 'http://localhost:8080/adfs/ls/?wa=wsignin1.0&wtrealm=urn:gatehouse:demo',
      metadata: 'http://localhost:8080/FederationMetadata/2007-06/FederationMetadata.xml',
    });
    expect(banner).toContain(`SAMBA_DC_DIR=${dcDir}`);
    const rp = await fetch(urls.rp);
    const rpPage = await rp.text();
    expect(rp.status).toBe(200);
    expect(rpPage).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(rpPage).toContain('Sign in with Gatehouse');
    const signIn = await fetch(urls.signIn);
    expect(signIn.status).toBe(200);
    expect(await signIn.text()).toContain('Gatehouse demo application');
    const md = await fetch(urls.metadata);
    expect(md.status).toBe(200);
    expect(await md.text()).toContain('<ds:X509Certificate>');
    // The startup log says it would otherwise: passwords go to the DC over StartTLS.
    expect(demo.output).not.toContain('user passwords cross the network unencrypted');
    // "about 10 s" is printed: generous here, as the test machine's CPU is shared.
    expect(startSeconds).toBeLessThan(60);
  });

  it('every listed user gets what the list says through the demo application', async () => {
    expect(users).toEqual(DEMO_USERS.map((u) => ({ name: u.name, password: u.password, expect: u.listed })));
    const seen = await tryEveryDemoUser(urls.rp).catch(explain);
    expect(seen).toEqual(Object.fromEntries(DEMO_USERS.map((u) => [u.name, u.shows])));
  });

  it('hank changes his expired password in Chromium and arrives signed in at the demo application', async () => {
    chromium = await launchDemoChromium();
    const hank = users.find((u) => u.name === 'hank')!;
    const next = 'N3w-Passw0rd!Hank';
    const shown = await changePasswordInChromium(chromium, urls.rp, hank.name, hank.password, next).catch(explain);
    expect(shown.viewport).toBe('width=device-width, initial-scale=1');
    expect(shown.reason).toBe(REASONS.expired);
    expect(shown.heading).toBe('Signed in');
    expect(shown.body).toContain('Signature: <b>valid</b>');
    expect(shown.body).toContain('hank@corp.example.test');
    // The new password is the one AD holds: it signs in straight away.
    const again = await signInThroughDemoRp(urls.rp, 'hank', next);
    expect(again).toMatchObject({ kind: 'signed-in', signatureValid: true, claims: { UPN: 'hank@corp.example.test' } });
  });

  it('dave changes the password he must change, over plain HTTP', async () => {
    const dave = users.find((u) => u.name === 'dave')!;
    const first = await signInThroughDemoRp(urls.rp, dave.name, dave.password);
    expect(first.kind).toBe('change-password');
    const changed = await changePasswordHttp(first as Outcome & { kind: 'change-password' }, dave.password, 'N3w-Passw0rd!Dave').catch(explain);
    expect(changed).toMatchObject({ kind: 'signed-in', rpStatus: 200, signatureValid: true, claims: { UPN: 'dave@corp.example.test' } });
    expect(demo.output).not.toMatch(/unable to verify|GH_DIRECTORY_UNAVAILABLE/);
  });

  it('Ctrl-C stops Gatehouse, the demo application and the domain controller', async () => {
    await chromium?.close();
    chromium = undefined;
    demo.signalGroup('SIGINT');
    const timer = setTimeout(() => demo.signalGroup('SIGKILL'), 20_000);
    const status = await demo.exited;
    clearTimeout(timer);
    expect(status.signal, demo.tail()).toBeNull();
    const dc = spawnSync('bash', [join(ROOT, 'test/fixtures/samba-dc.sh'), 'status'], { env: { ...process.env, SAMBA_DC_DIR: dcDir }, encoding: 'utf8' });
    expect(dc.stdout.trim()).toBe('stopped');
    await expect(fetch(urls.rp)).rejects.toThrow();
    await expect(fetch(urls.signIn)).rejects.toThrow();
  });
});
