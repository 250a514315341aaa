// Shared by the tenant-setup and rollover tests: the CLI as an asynchronous child process (the Graph
// emulator runs in this process, so spawnSync would block it), metadata certificates, and a WS-Trust token.
import { spawn } from 'node:child_process';
import { CLI, cliEnv } from '../support/cli.js';
import { USERS } from '../support/directory.js';
import { parseXml, xpathReader } from '../support/xml.js';
import { V2005, buildRst, postSoap } from '../wstrust/soap-client.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function gatehouse(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const { nodes } = xpathReader({ md: 'urn:oasis:names:tc:SAML:2.0:metadata', ds: 'http://www.w3.org/2000/09/xmldsig#' });

/** The base64 certificates of the metadata's signing KeyDescriptors, in document order. */
export function metadataCertificates(xml: string): string[] {
  return nodes(parseXml(xml), '/md:EntityDescriptor/md:RoleDescriptor/md:KeyDescriptor[@use="signing"]/ds:KeyInfo/ds:X509Data/ds:X509Certificate').map((n) => (n.textContent ?? '').replace(/\s+/g, ''));
}

/** The certificate inside the metadata's own signature. */
export function signatureCertificate(xml: string): string | undefined {
  const n = nodes(parseXml(xml), '/md:EntityDescriptor/ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate')[0];
  return n?.textContent?.replace(/\s+/g, '');
}

/** A WS-Trust 2005 response (RSTR holding a signed SAML 1.1 assertion) for alice, from a server at baseUrl. */
export async function wsTrustToken(baseUrl: string): Promise<string> {
  const res = await postSoap(`${baseUrl}${V2005.path}`, buildRst(V2005, { baseUrl, username: USERS.alice.upn, password: USERS.alice.password }));
  if (res.status !== 200) throw new Error(`WS-Trust answered ${res.status}:\n${res.body.slice(0, 500)}`);
  return res.body;
}
