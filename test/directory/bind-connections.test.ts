// Password checks bind on pooled connections: fewer connects to the DC, and a pooled connection the DC
// dropped is replaced without a refused sign-in or the DC being taken for down. The connections are
// counted by a TCP relay in front of the real Samba DC.
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { Directory, type DirectoryUser } from '../../src/directory/directory.js';
import { DC } from '../support/directory.js';
import { testDirectorySettings } from '../support/gatehouse.js';
import { freshUser } from '../support/users.js';

/** Relays 127.0.0.1:port to the DC's LDAP port; counts connections; can drop them like a DC or a network would. */
class Relay {
  accepted = 0;
  /** The next request on an existing connection closes that connection instead of reaching the DC. */
  dropNextRequest = false;
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => {
    this.accepted++;
    const dc = net.connect(389, '127.0.0.1');
    const pair = [client, dc];
    for (const s of pair) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        for (const o of pair) o.destroy();
      });
    }
    let first = true;
    client.on('data', (d) => {
      if (this.dropNextRequest && !first) {
        this.dropNextRequest = false;
        client.destroy();
        return;
      }
      first = false;
      dc.write(d);
    });
    dc.pipe(client);
  });

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `ldap://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Closes every open connection (a DC restart, an idle timeout, a firewall). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise((r) => this.server.close(r));
  }
}

function directoryOptions(url: string, bindConnections: number): Config['directory'] {
  return testDirectorySettings({ urls: [url], bindConnections });
}

let relay: Relay;
let url: string;
let user: DirectoryUser;
let password: string;
const warnings: string[] = [];
const log = pino(
  { level: 'warn' },
  new Writable({
    write(chunk, _enc, cb) {
      warnings.push(String(chunk));
      cb();
    },
  }),
);

beforeAll(async () => {
  const u = freshUser('pool-user', 'Passw0rd!Pool1');
  password = u.password;
  relay = new Relay();
  url = await relay.listen();
  const lookup = new Directory(directoryOptions(DC.url, 0), log);
  user = (await lookup.findUser(u.upn))!;
  await lookup.close();
  expect(user?.dn).toBe(u.dn);
});

afterAll(async () => {
  await relay?.close();
});

const failure = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string }) => e.code);

describe('password checks on pooled connections', () => {
  it('binds again on the same connection, for right and wrong passwords alike', async () => {
    const directory = new Directory(directoryOptions(url, 4), log);
    const before = relay.accepted;
    try {
      for (let i = 0; i < 3; i++) {
        expect(await failure(directory.verifyPassword(user, password))).toBe('accepted');
        expect(await failure(directory.verifyPassword(user, 'Wrong-Passw0rd!'))).toBe('GH_AUTHN_FAILED');
      }
      await directory.dummyBind('anything');
      expect(relay.accepted - before).toBe(1);
      // Concurrent checks each need a connection of their own: one reused, three new.
      const results = await Promise.all([1, 2, 3, 4].map(() => failure(directory.verifyPassword(user, password))));
      expect(results).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
      expect(relay.accepted - before).toBe(4);
    } finally {
      await directory.close();
    }
  });

  it('bindConnections: 0 connects for every check', async () => {
    const directory = new Directory(directoryOptions(url, 0), log);
    const before = relay.accepted;
    try {
      for (let i = 0; i < 3; i++) expect(await failure(directory.verifyPassword(user, password))).toBe('accepted');
      expect(relay.accepted - before).toBe(3);
    } finally {
      await directory.close();
    }
  });

  it('replaces a pooled connection that was closed, or that fails under a request, without refusing the sign-in', async () => {
    const directory = new Directory(directoryOptions(url, 4), log);
    warnings.length = 0;
    const before = relay.accepted;
    try {
      expect(await failure(directory.verifyPassword(user, password))).toBe('accepted');
      // Closed while idle: noticed before use.
      relay.cutAll();
      await new Promise((r) => setTimeout(r, 50));
      expect(await failure(directory.verifyPassword(user, password))).toBe('accepted');
      expect(relay.accepted - before).toBe(2);
      // Closed under the bind (the request never reached the DC): one retry on a new connection.
      relay.dropNextRequest = true;
      expect(await failure(directory.verifyPassword(user, password))).toBe('accepted');
      expect(relay.dropNextRequest).toBe(false);
      expect(relay.accepted - before).toBe(3);
      expect(warnings.join('')).not.toMatch(/user bind failed/);
    } finally {
      await directory.close();
    }
  });

  it('a DC that closes every connection is reported unavailable, not as a wrong password', async () => {
    const dead = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const directory = new Directory({ ...directoryOptions(`ldap://127.0.0.1:${(dead.address() as net.AddressInfo).port}`, 4), timeoutMs: 1000 }, log);
    try {
      expect(await failure(directory.verifyPassword(user, password))).toBe('GH_DIRECTORY_UNAVAILABLE');
    } finally {
      await directory.close();
      await new Promise((r) => dead.close(r));
    }
  });
});
