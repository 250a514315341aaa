// Issue 18, items 6, 8 and 10: slow requests, connection floods, protocol confusion, absolute-form targets.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';
import { V13, buildRst, postSoap } from '../wstrust/soap-client.js';

const SAML_RP = { id: 'urn:test:saml2-only', protocol: 'saml2', replyUrls: ['https://sp.test.invalid/acs'] };

let gh: RunningGatehouse;
beforeAll(async () => {
  gh = await startGatehouse((c) => {
    c.relyingParties.push(SAML_RP);
    c.http = { requestTimeoutSeconds: 2, headersTimeoutSeconds: 2, maxConnectionsPerAddress: 8 };
  });
});
afterAll(async () => gh?.close());

function open(): Promise<Socket> {
  const { port } = new URL(gh.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends raw bytes on a new connection and returns everything the server sent until it closed. */
async function raw(request: string): Promise<string> {
  const s = await open();
  const chunks: Buffer[] = [];
  s.on('data', (c) => chunks.push(c));
  s.end(request);
  await new Promise((r) => s.once('close', r));
  return Buffer.concat(chunks).toString('utf8');
}

const closed = (s: Socket) => s.destroyed || s.readyState === 'closed';

describe('absolute-form request targets (item 10)', () => {
  it('builds the login form action from publicUrl, not from the request line', async () => {
    const res = await raw(
      'GET http://evil.test/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Atest%3Arp HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n',
    );
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(res).not.toContain('evil.test');
    expect(res).toContain(`action="${gh.url}/adfs/ls/?wa=wsignin1.0&amp;wtrealm=urn%3Atest%3Arp"`);
  });

  it('does the same for the change-password page, and ignores the Host header', async () => {
    const res = await raw('GET /adfs/portal/updatepassword HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(res).not.toContain('evil.test');
    expect(res).toContain(`action="${gh.url}/adfs/portal/updatepassword"`);
  });
});

describe('slow requests and connection floods (item 6)', () => {
  it('closes connections whose body trickles in one byte at a time', async () => {
    const sockets: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const s = await open();
        s.on('error', () => {});
        s.write('POST /adfs/portal/updatepassword HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n');
        timers.push(setInterval(() => !closed(s) && s.write('a'), 300));
        sockets.push(s);
      }
      // requestTimeoutSeconds is 2 here; Node checks every second.
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline && !sockets.every(closed)) await new Promise((r) => setTimeout(r, 200));
      expect(sockets.filter(closed).length).toBe(sockets.length);
    } finally {
      timers.forEach(clearInterval);
      sockets.forEach((s) => s.destroy());
    }
  });

  it('closes connections with headers that never end', async () => {
    const s = await open();
    s.on('error', () => {});
    s.write('GET /adfs/probe HTTP/1.1\r\nHost: x\r\n');
    const t = setInterval(() => !closed(s) && s.write('X-A: b\r\n'), 300);
    try {
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline && !closed(s)) await new Promise((r) => setTimeout(r, 200));
      expect(closed(s)).toBe(true);
    } finally {
      clearInterval(t);
      s.destroy();
    }
  });

  it('caps the connections one address may hold open, and serves it again once they close', async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const s = await open();
        s.on('error', () => {});
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(held.filter((s) => !closed(s)).length).toBe(8);
    } finally {
      held.forEach((s) => s.destroy());
    }
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${gh.url}/adfs/probe`);
    expect(res.status).toBe(200);
  });
});

describe('a relying party gets tokens only over the protocols it is registered for (item 8)', () => {
  it('WS-Federation sign-in naming a SAML 2.0 relying party: no token, an error page', async () => {
    const b = new Browser();
    const url = `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(SAML_RP.id)}`;
    const page = await b.get(url);
    expect(page.status).toBe(400);
    expect(page.body).not.toContain('name="Password"');
    // Not even with a session: sign in to the WS-Fed test RP first.
    const login = await b.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Atest%3Arp`);
    const f = login.form();
    const ok = await b.post(f.action, { ...f.fields, UserName: USERS.alice.upn, Password: USERS.alice.password });
    expect(ok.body).toContain('wresult');
    const again = await b.get(url);
    expect(again.status).toBe(400);
    expect(again.body).not.toContain('wresult');
    expect(gh.logs.some((l) => l.detail?.includes('registered for SAML 2.0, not for WS-Federation'))).toBe(true);
  });

  it('WS-Trust naming a SAML 2.0 relying party: a fault, no token, and AD is never asked', async () => {
    const res = await postSoap(
      `${gh.url}${V13.path}`,
      buildRst(V13, { baseUrl: gh.url, username: USERS.bob.upn, password: 'wrong-but-never-checked', appliesTo: SAML_RP.id }),
    );
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('Assertion');
    expect(gh.logs.some((l) => l.event === 'signin_attempt' && l.username === USERS.bob.upn)).toBe(false);
  });
});
