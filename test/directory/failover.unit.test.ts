// The directory's one retry-across-DCs loop and its one TLS setting, without a DC.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidCredentialsError } from 'ldapts';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DcFailover } from '../../src/directory/failover.js';
import { directoryTlsOptions } from '../../src/directory/tls.js';
import { GatehouseError } from '../../src/errors.js';

const log = pino({ level: 'silent' });
const URLS = ['ldap://dc1', 'ldap://dc2', 'ldap://dc3'];
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('DcFailover', () => {
  it('tries the DCs in order and starts with the one that answered last', async () => {
    const dcs = new DcFailover(URLS, 30, log);
    const tried: string[] = [];
    const url = await dcs.run({
      what: 'test',
      attempt: async (u) => {
        tried.push(u);
        if (u !== 'ldap://dc2') throw new Error('busy');
        return u;
      },
    });
    expect(url).toBe('ldap://dc2');
    expect(tried).toEqual(['ldap://dc1', 'ldap://dc2']);
    expect(dcs.order()).toEqual(['ldap://dc2', 'ldap://dc3', 'ldap://dc1']);
  });

  it('tries a DC that did not answer last, until retryDownAfterSeconds have passed', async () => {
    const dcs = new DcFailover(URLS, 30, log);
    await dcs.run({
      what: 'test',
      attempt: async (u) => {
        if (u === 'ldap://dc1') throw unreachable();
        return u;
      },
    });
    expect(dcs.order()).toEqual(['ldap://dc2', 'ldap://dc3', 'ldap://dc1']);
    dcs.skip('ldap://dc3'); // dc1 would come first again, but it is still down
    expect(dcs.order()).toEqual(['ldap://dc2', 'ldap://dc3', 'ldap://dc1']);
    expect(dcs.order(Date.now() + 31_000)).toEqual(['ldap://dc1', 'ldap://dc2', 'ldap://dc3']);
  });

  it('a DC that answered with an LDAP error is not taken for down', async () => {
    const dcs = new DcFailover(URLS, 30, log);
    dcs.failed('ldap://dc1', new InvalidCredentialsError('data 52e'));
    dcs.failed('ldap://dc2', new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { cause: new InvalidCredentialsError('x') }));
    expect(dcs.order()).toEqual(URLS);
  });

  it('stops at a final error, and names every DC when none would do', async () => {
    const dcs = new DcFailover(URLS, 30, log);
    const tried: string[] = [];
    const final = new GatehouseError('GH_AUTHN_FAILED');
    await expect(
      dcs.run({
        what: 'test',
        attempt: async (u) => {
          tried.push(u);
          throw final;
        },
        isFinal: (e) => e === final,
      }),
    ).rejects.toBe(final);
    expect(tried).toEqual(['ldap://dc1']);

    const err = await dcs.run({ what: 'test', attempt: async () => Promise.reject(unreachable()), describe: () => 'no answer' }).catch((e: GatehouseError) => e);
    expect(err).toBeInstanceOf(GatehouseError);
    expect(err.code).toBe('GH_DIRECTORY_UNAVAILABLE');
    expect(err.detail).toBe('ldap://dc1: no answer; ldap://dc2: no answer; ldap://dc3: no answer');
  });
});

describe('directoryTlsOptions', () => {
  it('verifies certificates unless directory.tlsVerify is false, with caFile and tlsServerName when set', () => {
    expect(directoryTlsOptions({ tlsVerify: true, caFile: undefined, tlsServerName: undefined })).toEqual({ minVersion: 'TLSv1.2', rejectUnauthorized: true });
    const dir = mkdtempSync(join(tmpdir(), 'gh-tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    expect(directoryTlsOptions({ tlsVerify: false, caFile: join(dir, 'ca.pem'), tlsServerName: 'dc1.corp' })).toEqual({
      minVersion: 'TLSv1.2',
      rejectUnauthorized: false,
      ca: Buffer.from('PEM'),
      servername: 'dc1.corp',
    });
  });
});
