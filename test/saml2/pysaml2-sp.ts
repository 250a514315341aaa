// A pysaml2 SP (Debian's python3-pysaml2, run by test/saml2/pysaml2-sp.py) as a child process on
// loopback: its metadata first (so Gatehouse can be configured with it), then the server, once
// Gatehouse's IdP metadata exists.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/ports.js';
import { spKeyPair } from './sp.js';

const SCRIPT = fileURLToPath(new URL('./pysaml2-sp.py', import.meta.url));
// Debian's interpreter, where python3-pysaml2 is installed (a python3 earlier on PATH may be another one).
const PYTHON = '/usr/bin/python3';

export interface Pysaml2Sp {
  /** http://127.0.0.1:PORT: /login starts a sign-in, /logout a logout, /events lists what pysaml2 did. */
  url: string;
  entityId: string;
  metadataFile: string;
  keys: { certPem: string; keyPem: string };
  /** Starts the server, trusting the IdP this metadata file describes. */
  start(idpMetadataFile: string): Promise<void>;
  /** What pysaml2 did and concluded, in order (signed_in, logout_request_handled, logout_response, error). */
  events(): Promise<Record<string, any>[]>;
  /** pysaml2's stderr (tracebacks), for failure messages. */
  output(): string;
  stop(): void;
}

/** `sloBinding`: the binding of pysaml2's SingleLogoutService (default HTTP-Redirect). */
export async function preparePysaml2Sp(dir: string, name = 'pysaml2', opts: { sloBinding?: 'redirect' | 'post' } = {}): Promise<Pysaml2Sp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const entityId = `https://${name}.test.invalid/sp`;
  const keys = spKeyPair();
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  writeFileSync(keyFile, keys.keyPem, { mode: 0o600 });
  writeFileSync(certFile, keys.certPem);
  const configFile = join(dir, `${name}.json`);
  const config: Record<string, unknown> = { entityId, baseUrl: url, port, keyFile, certFile, sloBinding: opts.sloBinding ?? 'redirect' };
  writeFileSync(configFile, JSON.stringify(config));
  const metadataFile = join(dir, `${name}-metadata.xml`);
  writeFileSync(metadataFile, execFileSync(PYTHON, [SCRIPT, configFile, 'metadata'], { encoding: 'utf8', timeout: 60_000 }));

  let child: ChildProcess | undefined;
  let stderr = '';
  return {
    url,
    entityId,
    metadataFile,
    keys,
    async start(idpMetadataFile) {
      writeFileSync(configFile, JSON.stringify({ ...config, idpMetadataFile }));
      const proc = spawn(PYTHON, [SCRIPT, configFile, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stderr!.on('data', (d) => (stderr += String(d)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pysaml2 SP did not start in 60 s:\n${stderr}`)), 60_000);
        proc.stdout!.on('data', (d) => {
          if (String(d).includes('listening')) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`pysaml2 SP exited (${code}):\n${stderr}`));
        });
      });
    },
    async events() {
      return (await fetch(`${url}/events`)).json() as Promise<Record<string, any>[]>;
    },
    output: () => stderr,
    stop() {
      child?.kill();
    },
  };
}
