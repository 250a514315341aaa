// The app registration that sync and tenant-setup both sign in to Graph with (src/graph/auth.ts,
// credential.ts): one reading of a configuration section, whichever feature it is for.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { graphAppSettings, needsDisableInstanceDiscovery } from '../../src/graph/auth.js';
import { testKeys } from '../support/gatehouse.js';

const APP = { tenantId: 'contoso', clientId: 'app-id', graphUrl: 'https://graph.microsoft.us//', authorityHost: 'https://login.microsoftonline.us/' };
const dir = mkdtempSync(join(tmpdir(), 'gh-graph-app-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const failure = (f: () => unknown) => {
  try {
    f();
    return 'accepted';
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};

describe('graphAppSettings', () => {
  it('reads the one credential and drops trailing slashes from the URLs', () => {
    expect(graphAppSettings('tenant', { ...APP, clientSecret: 's3cret' })).toEqual({
      tenantId: 'contoso',
      clientId: 'app-id',
      credential: { kind: 'secret', secret: 's3cret' },
      graphUrl: 'https://graph.microsoft.us',
      authorityHost: 'https://login.microsoftonline.us',
    });
    expect(graphAppSettings('sync', { ...APP, clientSecretFile: file('secret', 'from-file\n') }).credential).toEqual({ kind: 'secret', secret: 'from-file' });
    const { certPem, keyPem } = testKeys();
    const pem = file('app.pem', certPem + keyPem);
    expect(graphAppSettings('sync', { ...APP, clientCertificateFile: pem }).credential).toEqual({ kind: 'certificate', pem: certPem + keyPem.replace(/\r?\n$/, ''), file: pem });
  });

  it('names the section and key of a missing, doubled or unreadable credential', () => {
    expect(failure(() => graphAppSettings('tenant', APP))).toBe('tenant.clientSecret: required (or set tenant.clientSecretFile or tenant.clientCertificateFile)');
    expect(failure(() => graphAppSettings('sync', { ...APP, clientSecret: 'a', clientSecretFile: 'b' }))).toBe('sync.clientSecretFile: set only one of clientSecret, clientSecretFile');
    expect(failure(() => graphAppSettings('sync', { ...APP, clientSecretFile: file('empty', '') }))).toBe(`sync.clientSecretFile: the file ${join(dir, 'empty')} is empty`);
    expect(failure(() => graphAppSettings('tenant', { ...APP, clientCertificateFile: file('cert-only.pem', testKeys().certPem) }))).toBe(
      'tenant.clientCertificateFile: must hold the PEM certificate and its private key',
    );
  });
});

describe('needsDisableInstanceDiscovery', () => {
  it("skips MSAL's instance discovery for any authority that is not Microsoft's", () => {
    expect(needsDisableInstanceDiscovery('https://login.microsoftonline.us')).toBe(false);
    expect(needsDisableInstanceDiscovery('https://127.0.0.1:8443')).toBe(true);
  });
});
