// Helpers for the sync tests: a test OU in the Samba DC written over LDAP as CORP\Administrator, the
// Graph emulator over HTTPS with a fresh test CA, and the CLI (`node dist/cli.js sync`) spawned with
// NODE_EXTRA_CA_CERTS so that MSAL and fetch trust the emulator (never by turning verification off).
import { spawn, spawnSync as spawnChildSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client, Control } from 'ldapts';
import { DC } from '../support/directory.js';
import { CLI, cliEnv, ensureBuilt, writeConfig } from '../support/cli.js';
import { baseConfig } from '../support/gatehouse.js';
import { startGraphEmulator, type GraphEmulator } from '../graph-emulator/emulator.js';
import { createClientCertificate, createTestPki, type TestPki } from '../graph-emulator/test-ca.js';

export const TENANT = '11111111-2222-3333-4444-555555555555';
export const CLIENT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const SECRET = 'test-secret-value';
export const CERT_CLIENT_ID = 'cccccccc-bbbb-cccc-dddd-eeeeeeeeeeee';
const TREE_DELETE = '1.2.840.113556.1.4.805';

export const OU = `OU=SyncTest,${DC.baseDn}`;
export const OUT_OU = `OU=SyncOut,${DC.baseDn}`;

/** LDAP as the domain admin: the tests' way to change the directory quickly (samba-tool takes ~0.5 s a call). */
export class TestDirectory {
  private constructor(private readonly client: Client) {}

  static async open(): Promise<TestDirectory> {
    const client = new Client({ url: DC.url, timeout: 10_000 });
    await client.bind(DC.admin.bindName, DC.admin.password);
    return new TestDirectory(client);
  }

  /** Removes the OU and everything in it (leftovers of an earlier run), then creates it empty. */
  async resetOu(dn: string): Promise<void> {
    await this.client.del(dn, [new Control(TREE_DELETE, { critical: true })]).catch(() => {});
    await this.client.add(dn, { objectClass: ['top', 'organizationalUnit'], ou: /^OU=([^,]+)/.exec(dn)![1]! });
  }

  /** An enabled user without a password (userAccountControl 544 = NORMAL_ACCOUNT | PASSWD_NOTREQD). */
  async addUser(sam: string, opts: { ou?: string; upn?: string; displayName?: string; givenName?: string; sn?: string; title?: string; consistencyGuid?: Buffer } = {}): Promise<string> {
    const dn = `CN=${sam},${opts.ou ?? OU}`;
    const attrs: Record<string, string | string[]> = {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      sAMAccountName: sam,
      userPrincipalName: opts.upn ?? `${sam}@${DC.realm}`,
      userAccountControl: '544',
      displayName: opts.displayName ?? `Sync ${sam}`,
    };
    if (opts.givenName) attrs.givenName = opts.givenName;
    if (opts.sn) attrs.sn = opts.sn;
    if (opts.title) attrs.title = opts.title;
    await this.client.add(dn, attrs);
    if (opts.consistencyGuid) await this.replace(dn, 'mS-DS-ConsistencyGuid', opts.consistencyGuid);
    return dn;
  }

  async addGroup(name: string, members: string[] = [], ou = OU): Promise<string> {
    const dn = `CN=${name},${ou}`;
    await this.client.add(dn, { objectClass: ['top', 'group'], sAMAccountName: name, ...(members.length ? { member: members } : {}) });
    return dn;
  }

  async replace(dn: string, attr: string, value: string | Buffer): Promise<void> {
    await this.client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: attr, values: [value as string] }) }));
  }

  async addMembers(group: string, members: string[]): Promise<void> {
    await this.client.modify(group, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: members }) }));
  }

  async removeMember(group: string, member: string): Promise<void> {
    await this.client.modify(group, new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [member] }) }));
  }

  async move(dn: string, newParent: string): Promise<string> {
    const rdn = dn.split(',')[0]!;
    await this.client.modifyDN(dn, `${rdn},${newParent}`);
    return `${rdn},${newParent}`;
  }

  async delete(dn: string): Promise<void> {
    await this.client.del(dn);
  }

  async guidOf(dn: string): Promise<Buffer> {
    const { searchEntries } = await this.client.search(dn, { scope: 'base', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] });
    return searchEntries[0]!.objectGUID as Buffer;
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => {});
  }
}

export interface SyncHarness {
  pki: TestPki;
  graph: GraphEmulator;
  dir: string;
  certClient: { pemFile: string; certPem: string };
}

export async function startHarness(emulatorOpts: Partial<Parameters<typeof startGraphEmulator>[0]> = {}): Promise<SyncHarness> {
  ensureBuilt();
  const pki = createTestPki();
  const certClient = createClientCertificate(pki.dir);
  const graph = await startGraphEmulator({
    tenantId: TENANT,
    domains: [DC.realm],
    clients: [
      { clientId: CLIENT_ID, secret: SECRET },
      { clientId: CERT_CLIENT_ID, certificatePem: certClient.certPem },
    ],
    tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
    ...emulatorOpts,
  });
  return { pki, graph, dir: mkdtempSync(join(tmpdir(), 'gatehouse-sync-')), certClient };
}

/** A Gatehouse configuration with a sync section pointed at the emulator. */
export function writeSyncConfig(h: SyncHarness, sync: Record<string, unknown> = {}, name = 'gatehouse.yaml', directory: Record<string, unknown> = {}): string {
  const cfg = baseConfig(h.dir) as Record<string, any>;
  cfg.logLevel = 'info';
  cfg.directory = { ...cfg.directory, ...directory };
  cfg.sync = {
    tenantId: TENANT,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    graphUrl: h.graph.url,
    authorityHost: h.graph.url,
    domains: [DC.realm],
    scope: { ous: [OU] },
    ...sync,
  };
  return writeConfig(h.dir, name, cfg);
}

export interface SyncRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let entry: string[] | undefined;
/**
 * `node dist/cli.js sync`, the operator's command. Other engineers rebuild dist while they work: when
 * cli.js cannot load for a reason outside the sync worker, fall back to dist/commands/sync-main.js (same command).
 */
function syncEntry(): string[] {
  if (entry) return entry;
  const probe = spawnChildSync(process.execPath, [CLI, 'sync', '--help'], { encoding: 'utf8', env: cliEnv() });
  if (probe.status === 0) entry = [CLI, 'sync'];
  else {
    console.warn(`dist/cli.js does not load (${probe.stderr.split('\n').find((l) => /Error/.test(l))}); using dist/commands/sync-main.js`);
    entry = [join(CLI, '..', 'sync', 'main.js')];
  }
  return entry;
}

/** `gatehouse sync ARGS` as a child process; the emulator's CA is trusted through NODE_EXTRA_CA_CERTS. */
export function spawnSync(h: SyncHarness, configFile: string, args: string[]): { child: ChildProcess; done: Promise<SyncRun> } {
  const child = spawn(process.execPath, [...syncEntry(), '-c', configFile, ...args], {
    cwd: h.dir,
    env: cliEnv({ NODE_EXTRA_CA_CERTS: h.pki.caFile }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<SyncRun>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export async function runSync(h: SyncHarness, configFile: string, args: string[] = ['--once']): Promise<SyncRun> {
  return spawnSync(h, configFile, args).done;
}

/** The summary numbers printed by the CLI. */
export function summaryOf(stdout: string): Record<string, number> {
  const m = /created (\d+), updated (\d+), disabled (\d+), deleted (\d+), unchanged (\d+), skipped (\d+), errors (\d+)/.exec(stdout);
  if (!m) throw new Error(`no summary in output:\n${stdout}`);
  const [created, updated, disabled, deleted, unchanged, skipped, errors] = m.slice(1).map(Number);
  return { created: created!, updated: updated!, disabled: disabled!, deleted: deleted!, unchanged: unchanged!, skipped: skipped!, errors: errors! };
}
