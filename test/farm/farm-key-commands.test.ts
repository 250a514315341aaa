// Issue 13: the key commands an administrator runs by hand (certs rollover, promote, rotate-session-key) on
// one server of a farm reach every server within seconds, without a reload and without copying files; the
// second server started with no key files at all.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../support/directory.js';
import { Browser } from '../support/http.js';
import { metadataCertificates } from '../rollover/support.js';
import { Farm, M365, RedisServer, until, type FarmNode } from './support.js';

const SIGN_IN = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
let redis: RedisServer;
let farm: Farm;
/** Each server's own key directory. */
const keyDirs: string[] = [];

beforeAll(async () => {
  redis = await RedisServer.create();
  farm = await Farm.start({
    redis,
    nodes: 2,
    // Key files of each server's own (the farm's shared directory holds only the farm key): node 1 starts
    // with the test keys, node 2 with none.
    mutate: (c, i) => {
      const shared = dirname(c.session.keyFile as string);
      const own = (keyDirs[i] = mkdtempSync(join(tmpdir(), `farm-keys-${i}-`)));
      if (i === 0) for (const f of ['signing.crt', 'signing.key', 'session.key']) copyFileSync(join(shared, f), join(own, f));
      c.signing = { ...c.signing, certFile: join(own, 'signing.crt'), keyFile: join(own, 'signing.key') };
      c.session = { ...c.session, keyFile: join(own, 'session.key') };
      c.state = { ...c.state, farmKeyFile: join(shared, 'farm.key') };
    },
  });
}, 120_000);

afterAll(async () => {
  await farm?.stop();
  await redis?.stop();
});

const certificates = async (node: FarmNode) => metadataCertificates(await (await fetch(`${node.url}/FederationMetadata/2007-06/FederationMetadata.xml`)).text());
const everyNodeHas = (want: (certs: string[]) => boolean) => async () => (await Promise.all(farm.nodes.map(certificates))).every(want);
const cli = async (args: string[], node: FarmNode) => {
  const r = await farm.cli(args, node);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

async function signIn(node: FarmNode): Promise<Browser> {
  const b = new Browser({ 'x-forwarded-for': '198.51.100.41' });
  const form = (await b.get(node.url + SIGN_IN)).form();
  const page = await b.post(form.action.replace(/^http:\/\/127\.0\.0\.1:\d+/, node.url), { ...form.fields, UserName: USERS.alice.upn, Password: USERS.alice.password });
  expect(page.body).toContain('name="wresult"');
  return b;
}
const singleSignOn = async (b: Browser, node: FarmNode) => (await b.get(node.url + SIGN_IN)).body.includes('name="wresult"');

describe('key commands by hand in a farm', () => {
  it('certs rollover on one server: every server publishes the next certificate; certs promote on another: every server signs with it', async () => {
    const [first] = await certificates(farm.nodes[0]!);
    expect(await certificates(farm.nodes[1]!)).toEqual([first]);

    const out = await cli(['certs', 'rollover'], farm.nodes[1]!);
    expect(out).toContain('Published to the farm');
    await until('both servers publish two certificates', everyNodeHas((c) => c.length === 2 && c[0] === first), 15_000);
    const next = (await certificates(farm.nodes[0]!))[1]!;

    expect(await cli(['certs', 'promote'], farm.nodes[0]!)).toContain('Published to the farm');
    await until('both servers publish the new certificate alone', everyNodeHas((c) => c.length === 1 && c[0] === next), 15_000);
    // A token from either server is signed with it.
    for (const node of farm.nodes) {
      const b = await signIn(node);
      const last = (await b.get(node.url + SIGN_IN)).body;
      expect(last.replace(/\s+/g, '')).toContain(next.slice(0, 200));
    }
  });

  it('certs rotate-session-key on one server: cookies sealed with the new key open on every server, and old ones still do', async () => {
    const before = await signIn(farm.nodes[0]!);

    expect(await cli(['certs', 'rotate-session-key'], farm.nodes[1]!)).toContain('Published to the farm');
    await until("both servers took the farm's session keys", () => new Set(farm.logs().filter((l) => /took the farm's session keys/.test(l.msg ?? '')).map((l) => l.node)).size === 2, 15_000);

    const after = await signIn(farm.nodes[0]!);
    for (const node of farm.nodes) {
      expect(await singleSignOn(after, node), `new cookie on ${node.name}`).toBe(true);
      expect(await singleSignOn(before, node), `old cookie on ${node.name}`).toBe(true);
    }
  });

  it('Redis down: the command changes nothing and says so', async () => {
    const sessionFile = join(keyDirs[0]!, 'session.key');
    const keys = readFileSync(sessionFile, 'utf8');
    await redis.stop();
    const r = await farm.cli(['certs', 'rotate-session-key'], farm.nodes[0]!);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Redis \(state\.redis\.url\) does not answer.*Nothing was changed/s);
    expect(readFileSync(sessionFile, 'utf8')).toBe(keys);
  });
});
