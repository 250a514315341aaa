import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SAML11_ID = ['AssertionID', 'urn:oasis:names:tc:SAML:1.0:assertion:Assertion'] as const;
export const METADATA_ID = ['ID', 'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor'] as const;

/**
 * Verifies an enveloped signature with xmlsec1 (an independent implementation), trusting only `certPem`.
 * `--enabled-key-data x509` stops xmlsec1 from accepting a key carried inside the signature itself.
 */
export function xmlsecVerify(xml: string, certPem: string, id: readonly [string, string]): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'xmlsec-'));
  writeFileSync(join(dir, 'doc.xml'), xml);
  writeFileSync(join(dir, 'cert.pem'), certPem);
  const r = spawnSync(
    'xmlsec1',
    ['--verify', '--enabled-key-data', 'x509', '--pubkey-cert-pem', join(dir, 'cert.pem'), `--id-attr:${id[0]}`, id[1], join(dir, 'doc.xml')],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** PEM from the base64 DER found in KeyInfo or metadata. */
export function pemFromBase64(b64: string): string {
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\s+/g, '').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}
