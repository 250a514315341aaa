// The docker-compose trial, run without a Docker engine (none runs here): compose-emulator.ts starts each
// service from its Dockerfile and docker-compose.yml as Docker would lay it out (volumes that are mount points,
// the shared network namespace, the config at the path compose mounts it, the image's user), then the test
// signs in through the published ports as a person would, stops everything and starts it again.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser as Chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { changePasswordInChromium, DEMO_USERS, launchDemoChromium, REASONS, signInThroughDemoRp, tryEveryDemoUser } from '../support/demo-walk.js';
import { ComposeEmulator, readCompose } from './compose-emulator.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RP = 'http://localhost:8081/';
const GATEHOUSE = 'http://localhost:8080';

let compose: ComposeEmulator | undefined;
let chromium: Chromium | undefined;
let upSeconds = 0;

/** Polls url through the published port until it answers 200; fails with the containers' output. */
async function answers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = String((err as Error).cause ?? err);
    }
    const ended = compose!.ended();
    if (ended.length) compose!.explain(new Error(`waiting for ${url}: container ${ended.join(', ')} ended`));
    if (Date.now() > deadline) compose!.explain(new Error(`${url} did not answer within ${timeoutMs / 1000} s (last: ${last})`));
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function upAndServing(): Promise<number> {
  const t = performance.now();
  await compose!.up().catch((err) => compose!.explain(err));
  await answers(`${GATEHOUSE}/adfs/probe`, 60_000);
  await answers(RP, 30_000);
  // The probe can answer before the test has read Gatehouse's "is serving" line from the pipe, and the
  // tests then read it from the output while spawnSync calls block the event loop: wait for it here.
  for (const deadline = Date.now() + 30_000; !signingThumbprint(compose!); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > deadline) compose!.explain(new Error('Gatehouse answered its probe but logged no "Gatehouse is serving" line with its thumbprint within 30 s'));
  }
  return (performance.now() - t) / 1000;
}

function signingThumbprint(c: ComposeEmulator): string | undefined {
  return /"thumbprint":"([0-9A-F]+)"/.exec(c.history.filter((r) => r.svc.name === 'gatehouse').at(-1)!.proc.output)?.[1];
}

describe('docker-compose.yml', () => {
  it('is valid for docker-compose, and wires the demo application and Gatehouse to the DC like npm run demo', () => {
    const { services, normalized } = readCompose(root);
    expect(services.map((s) => s.name).sort()).toEqual(['dc', 'demo-app', 'gatehouse']);
    expect(normalized.services.gatehouse.network_mode).toBe('service:dc');
    expect(normalized.services['demo-app'].network_mode).toBe('service:dc');
    expect(normalized.services.gatehouse.environment.GATEHOUSE_CONFIG).toBe('/etc/gatehouse/gatehouse.yaml');
    // Published where docker/gatehouse.yaml says the browser finds them: Gatehouse and the reply URL.
    expect(services.find((s) => s.name === 'dc')!.ports.map((p) => `${p.hostIp}:${p.hostPort}`)).toEqual(['127.0.0.1:8080', '127.0.0.1:8081']);
    // The DC's packages are in its image: its start runs no apt-get (the emulator also fails any that would).
    expect(JSON.stringify(normalized.services.dc)).not.toMatch(/apt-get|apt /);
  });

  it("the configuration it mounts passes Gatehouse's own validation, with the DC's CA and certificate name", () => {
    const config = loadConfig({ file: 'docker/gatehouse.yaml', cwd: root, env: { GATEHOUSE_DIRECTORY_BIND_PASSWORD: 'x' } });
    expect(config.directory).toMatchObject({
      urls: ['ldap://127.0.0.1'],
      startTls: true,
      caFile: '/etc/gatehouse/dc-ca/ca.pem',
      tlsServerName: 'DC1.corp.example.test',
    });
    expect(config.issuer).toBe('http://localhost/adfs/services/trust');
    expect(config.relyingParties.get('urn:gatehouse:demo')?.replyUrls).toEqual([RP]);
    // The Gatehouse container reads the CA from the volume the DC container writes it to.
    const { services } = readCompose(root);
    const dc = services.find((s) => s.name === 'dc')!;
    const gh = services.find((s) => s.name === 'gatehouse')!;
    const caVolume = gh.volumes.find((v) => v.target === '/etc/gatehouse/dc-ca')!;
    expect(caVolume).toMatchObject({ named: true, readOnly: true });
    expect(dc.volumes.find((v) => v.source === caVolume.source)?.target).toBe(dc.env.DC_CA_DIR);
  });

  it('the images are built on Node.js 26 (active LTS) and Debian 12', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(['node:26-bookworm', 'node:26-bookworm-slim']);
    expect(readFileSync(join(root, 'docker/dc.Dockerfile'), 'utf8')).toMatch(/^FROM debian:bookworm-slim$/m);
  });
});

describe('docker compose up, emulated: DC, Gatehouse and the demo application', () => {
  beforeAll(async () => {
    compose = new ComposeEmulator(root, mkdtempSync(join(tmpdir(), 'gatehouse-compose-')));
    upSeconds = await upAndServing();
    console.log(`compose up (first start, provisioning the domain): serving in ${upSeconds.toFixed(1)} s`);
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await compose?.close();
  });

  it("the DC's volume is a mount point, and the DC provisioned into it on the first start", () => {
    expect(compose!.exec('dc', ['mountpoint', '-q', '/var/lib/gatehouse-dc']).status, compose!.logs()).toBe(0);
    // With Docker's default capabilities only (0xa80425fb), as the container's processes had.
    expect(compose!.exec('dc', ['grep', 'CapBnd', '/proc/self/status']).stdout).toMatch(/^CapBnd:\s+0*a80425fb$/m);
    expect(readdirSync(compose!.volumeDir('dc-data'))).toContain('.seeded');
    expect(compose!.history[0]!.proc.output).toContain('provisioning CORP.EXAMPLE.TEST');
    expect(readFileSync(join(compose!.volumeDir('dc-ca'), 'ca.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it("Gatehouse runs as the image's user node, made its keys in the certs volume, and its image's HEALTHCHECK passes", () => {
    const gh = compose!.running.get('gatehouse')!;
    expect(compose!.exec('gatehouse', ['id', '-un']).stdout.trim()).toBe('node');
    expect(readdirSync(compose!.volumeDir('gatehouse-certs')).sort()).toEqual(['session.key', 'signing.crt', 'signing.key']);
    const check = compose!.exec('gatehouse', gh.svc.image.healthcheck!);
    expect(check.status, `${check.stderr}\n${compose!.logs()}`).toBe(0);
    expect(signingThumbprint(compose!)).toMatch(/^[0-9A-F]{40}$/);
  });

  it('every demo user gets what the list says, through the published ports', async () => {
    const seen = await tryEveryDemoUser(RP).catch((err) => compose!.explain(err));
    expect(seen, compose!.logs()).toEqual(Object.fromEntries(DEMO_USERS.map((u) => [u.name, u.shows])));
  });

  it('hank changes his expired password in Chromium (StartTLS with the CA from the dc-ca volume) and arrives signed in', async () => {
    chromium = await launchDemoChromium();
    const shown = await changePasswordInChromium(chromium, RP, 'hank', 'Passw0rd!Hank1', 'N3w-Passw0rd!Hank').catch((err) => compose!.explain(err));
    expect(shown.reason).toBe(REASONS.expired);
    expect(shown.heading, compose!.logs()).toBe('Signed in');
    expect(shown.body).toContain('Signature: <b>valid</b>');
    expect(shown.body).toContain('hank@corp.example.test');
  });

  it('down and up again: the domain and the signing certificate are kept, nothing is installed, sign-in works', async () => {
    const thumbprint = signingThumbprint(compose!);
    const stopped: Record<string, { code: number | null; signal: NodeJS.Signals | null; ms: number }> = {};
    for (const name of ['demo-app', 'gatehouse', 'dc']) stopped[name] = await compose!.stop(name);
    // Each ends on docker stop's SIGTERM, without waiting for the SIGKILL 10 s later.
    for (const [name, s] of Object.entries(stopped)) expect(s.ms, `${name}: ${JSON.stringify(s)}\n${compose!.logs()}`).toBeLessThan(9_000);
    await compose!.down();
    const seconds = await upAndServing();
    console.log(`compose up (second start, same volumes): serving in ${seconds.toFixed(1)} s`);
    const dc2 = compose!.history.filter((r) => r.svc.name === 'dc').at(-1)!;
    expect(dc2.proc.output).not.toContain('provisioning');
    // The 'serving' log line can reach us a moment after the port answers.
    await expect.poll(() => signingThumbprint(compose!), { timeout: 5000 }).toBe(thumbprint);
    // hank's new password is still his: the domain is the same.
    const again = await signInThroughDemoRp(RP, 'hank', 'N3w-Passw0rd!Hank');
    expect(again, compose!.logs()).toMatchObject({ kind: 'signed-in', signatureValid: true, claims: { UPN: 'hank@corp.example.test' } });
  });
});
