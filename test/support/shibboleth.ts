// A Shibboleth SP (test/fixtures/shibboleth-sp.sh: Debian's apache2 + mod_shib + shibd on loopback)
// started and stopped from a test. Each instance has its own folder and port.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './cli.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/shibboleth-sp.sh', import.meta.url));

export interface ShibbolethOptions {
  /** The SP's entityID; default http://127.0.0.1:PORT/shibboleth. */
  entityId?: string;
  /** Sign AuthnRequests (and declare AuthnRequestsSigned in the metadata). */
  signRequests?: boolean;
  /** Publish an encryption key, so the IdP encrypts assertions (default true). */
  encryption?: boolean;
  /**
   * Extra attributes to expose: SAML 2.0 Attribute Name -> the id /secure prints it under. Each is
   * mapped for NameFormat uri, unspecified and basic. Replaces the fixture's built-in map.
   */
  attributes?: Record<string, string>;
}

export interface ShibbolethSp {
  /** http://127.0.0.1:PORT */
  url: string;
  entityId: string;
  /** The SP's metadata, to register at the IdP. */
  metadataFile: string;
  dir: string;
  /** Starts apache and shibd, trusting the IdP described by this metadata file. */
  start(idpMetadataFile: string): void;
  stop(): void;
  /** The tails of shibd's, mod_shib's and apache's logs, for failure messages. */
  logs(lines?: number): string;
}

function run(args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync('bash', [SCRIPT, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`shibboleth-sp.sh ${args[0]} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Installs the Debian packages when they are missing (needs root and the package mirror). */
export function installShibboleth(): void {
  run(['install'], {});
}

function attributeMap(attrs: Record<string, string>): string {
  const formats = ['uri', 'unspecified', 'basic'].map((f) => `urn:oasis:names:tc:SAML:2.0:attrname-format:${f}`);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return (
    '<Attributes xmlns="urn:mace:shibboleth:2.0:attribute-map" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
    '  <Attribute name="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" id="persistent-id">\n' +
    '    <AttributeDecoder xsi:type="NameIDAttributeDecoder" formatter="$Name" defaultQualifiers="true"/>\n' +
    '  </Attribute>\n' +
    Object.entries(attrs)
      .flatMap(([name, id]) => formats.map((f) => `  <Attribute name="${esc(name)}" nameFormat="${f}" id="${esc(id)}"/>\n`))
      .join('') +
    '</Attributes>\n'
  );
}

/**
 * Makes the SP's keys and metadata (no IdP needed yet), so Gatehouse can be configured with it first;
 * then `start(idpMetadataFile)`.
 */
export async function prepareShibbolethSp(opts: ShibbolethOptions = {}): Promise<ShibbolethSp> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shib-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const entityId = opts.entityId ?? `${url}/shibboleth`;
  const env: NodeJS.ProcessEnv = {
    SHIB_DIR: dir,
    SHIB_PORT: String(port),
    SHIB_ENTITY_ID: entityId,
    SHIB_SIGN_REQUESTS: opts.signRequests ? '1' : '0',
    SHIB_ENCRYPTION: opts.encryption === false ? '0' : '1',
  };
  if (opts.attributes) {
    const map = join(dir, 'attribute-map.input.xml');
    writeFileSync(map, attributeMap(opts.attributes));
    env.SHIB_ATTRIBUTE_MAP = map;
  }
  run(['prepare'], env);
  let started = false;
  return {
    url,
    entityId,
    metadataFile: join(dir, 'sp-metadata.xml'),
    dir,
    start(idpMetadataFile: string) {
      started = true;
      run(['up', idpMetadataFile], env);
    },
    stop() {
      if (started) run(['down'], env);
      started = false;
      if (!process.env.GATEHOUSE_TEST_KEEP_SHIB) rmSync(dir, { recursive: true, force: true });
    },
    logs(lines = 30) {
      return ['shibd.log', 'native.log', 'apache-error.log', 'apache-access.log']
        .map((f) => {
          try {
            return `== ${f}\n${readFileSync(join(dir, 'log', f), 'utf8').split('\n').slice(-lines).join('\n')}`;
          } catch {
            return `== ${f}: none`;
          }
        })
        .join('\n');
    },
  };
}

/**
 * The attributes /secure printed (mod_shib's CGI variables): id -> values. Shibboleth joins several
 * values with ';' and escapes a ';' inside a value as '\;'.
 */
export function parseSecurePage(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const values = line
      .slice(eq + 1)
      .split(/(?<!\\);/)
      .map((v) => v.replace(/\\;/g, ';'));
    out[line.slice(0, eq)] = values;
  }
  return out;
}
