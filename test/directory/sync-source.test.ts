// The sync worker reaches AD the way the sign-in server does: same connection code, same TLS settings
// (it used to ignore directory.tlsVerify, so it could not use a DC whose certificate the server accepted).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { AdSource } from '../../src/sync/ad-source.js';
import { DC } from '../support/directory.js';
import { testDirectorySettings } from '../support/gatehouse.js';

const log = pino({ level: 'silent' });

function directory(more: Partial<Config['directory']>): Config['directory'] {
  return testDirectorySettings({ urls: [DC.ldapsUrl], bindConnections: 0, ...more });
}

async function rootDseVia(dir: Config['directory']): Promise<string> {
  const source = await AdSource.connect(dir, 100, log);
  try {
    return (await source.rootDse()).defaultNamingContext;
  } finally {
    await source.close();
  }
}

describe("the sync's directory connection", () => {
  it('verifies the DC certificate with directory.caFile and tlsServerName (LDAPS and StartTLS)', async () => {
    expect(await rootDseVia(directory({ caFile: DC.caFile, tlsServerName: DC.tlsServerName }))).toBe(DC.baseDn);
    expect(await rootDseVia(directory({ urls: [DC.url], startTls: true, caFile: DC.caFile, tlsServerName: DC.tlsServerName }))).toBe(DC.baseDn);
  });

  it('refuses an untrusted certificate, and accepts it when directory.tlsVerify is false', async () => {
    await expect(rootDseVia(directory({}))).rejects.toThrow(/^no domain controller usable: ldaps:\/\/127\.0\.0\.1: /);
    expect(await rootDseVia(directory({ tlsVerify: false }))).toBe(DC.baseDn);
  });

  it('fails over to the next DC, as the sign-in server does', async () => {
    expect(await rootDseVia(directory({ urls: ['ldap://127.0.0.1:1', DC.url], timeoutMs: 500 }))).toBe(DC.baseDn);
  });
});
