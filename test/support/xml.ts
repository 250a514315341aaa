// The XML helpers every suite shares: parse what Gatehouse sends, read it with XPath under a namespace
// map, verify its signatures with xmlsec1 (an independent implementation), and PEM from base64 DER.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';

export { certificatePem } from '../../src/crypto/pem.js';
export { childElements } from '../../src/xml/dom.js';

/** Parses without Gatehouse's safety checks: tests read what the server wrote (or what they wrote). */
export function parseXml(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
}

export interface XPathReader {
  /** The text or attribute value of the first match, or undefined. */
  value(node: Node, path: string): string | undefined;
  count(node: Node, path: string): number;
  nodes<T extends Node = Node>(node: Node, path: string): T[];
}

/** XPath with these prefixes (each suite has its own: `saml` is SAML 1.1 in some, SAML 2.0 in others). */
export function xpathReader(namespaces: Record<string, string>): XPathReader {
  const select = xpath.useNamespaces(namespaces);
  const nodes = <T extends Node = Node>(node: Node, path: string) => select(path, node) as T[];
  return {
    nodes,
    value(node, path) {
      const n = nodes(node, path)[0];
      if (!n) return undefined;
      return n.nodeType === 2 ? (n as Attr).value : (n.textContent ?? undefined);
    },
    count: (node, path) => nodes(node, path).length,
  };
}

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
