import { readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema, type RawConfig } from './schema.js';
import type { RelyingPartyConfig } from './schema/relying-party.js';
import { checkFederatedDomains } from './federated-domains.js';
import { resolveRelyingParties } from './relying-parties.js';
import { resolveStateConfig } from './schema/state.js';
import { ConfigError } from '../errors.js';
import { isAddressRange } from './address-range.js';
import { resolveKerberos, type KerberosConfig } from './kerberos.js';
import { resolveMetricsConfig } from './schema/metrics.js';

/** Neither a file (--config, GATEHOUSE_CONFIG) nor any GATEHOUSE_* setting: there is nothing to load. */
export class NoConfigurationError extends ConfigError {
  override name = 'NoConfigurationError';
  constructor() {
    super('no configuration given (use --config FILE or set GATEHOUSE_CONFIG)');
  }
}

/** The signing section with every file path resolved (the next certificate's paths derived when not set). */
export interface SigningConfig extends Omit<RawConfig['signing'], 'nextCertFile' | 'nextKeyFile'> {
  nextCertFile: string;
  nextKeyFile: string;
}

export interface Config extends Omit<RawConfig, 'issuer' | 'relyingParties' | 'signing' | 'mfa' | 'kerberos'> {
  issuer: string;
  kerberos: KerberosConfig;
  signing: SigningConfig;
  /** The mfa section with its key file resolved (default beside session.keyFile). */
  mfa: RawConfig['mfa'] & { keyFile: string };
  /** Relying parties by realm, built-in ones merged with configured ones. */
  relyingParties: Map<string, RelyingPartyConfig>;
  /** Where the configuration came from, for messages. */
  source: string;
}

export const ENV_PREFIX = 'GATEHOUSE_';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, useDefaults: true, strict: false }));
ajv.addFormat('address-range', isAddressRange);
const validate = ajv.compile<RawConfig>(ConfigSchema);

/** `directory.bindPassword` -> `GATEHOUSE_DIRECTORY_BIND_PASSWORD` */
export function envName(path: string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

interface Leaf {
  path: string[];
  schema: TSchema;
}

/** Every settable key of the schema (objects are walked, arrays and scalars are leaves). */
export function configLeaves(schema: TSchema = ConfigSchema, path: string[] = []): Leaf[] {
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([k, s]) => configLeaves(s, [...path, k]));
  }
  return [{ path, schema }];
}

function coerceEnv(raw: string, leaf: Leaf, name: string): unknown {
  const t = leaf.schema.type ?? (leaf.schema.anyOf ? 'string' : undefined);
  const key = leaf.path.join('.');
  if (t === 'integer' || t === 'number') {
    const n = Number(raw);
    if (!/^\s*-?\d+(\.\d+)?\s*$/.test(raw) || Number.isNaN(n)) throw new ConfigError(`${name} (${key}): expected a number, got "${raw}"`);
    return n;
  }
  if (t === 'boolean') {
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    throw new ConfigError(`${name} (${key}): expected true or false, got "${raw}"`);
  }
  if (t === 'array') {
    const trimmed = raw.trim();
    if (trimmed.startsWith('[')) {
      try {
        return JSON.parse(trimmed);
      } catch {
        throw new ConfigError(`${name} (${key}): not valid JSON`);
      }
    }
    return trimmed.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return raw;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function keyOf(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function describe(e: ErrorObject): string {
  const key = keyOf(e);
  const at = (k: string) => (key ? `${key}.${k}` : k);
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at(String(e.params.additionalProperty))}: unknown key`;
    case 'required':
      return `${at(String(e.params.missingProperty))}: required but missing`;
    case 'type':
      return `${key || '(top level)'}: must be ${e.params.type}`;
    case 'pattern':
      return `${key}: ${key === 'publicUrl' ? 'must start with http:// or https://' : key.startsWith('directory.urls') ? 'must be an ldap:// or ldaps:// URL' : `must match ${e.params.pattern}`}`;
    case 'anyOf': {
      const options = (configLeaves().find((l) => l.path.join('.') === key)?.schema.anyOf as TSchema[] | undefined)?.map((x) => x.const);
      if (options?.length && options.every((o) => o !== undefined)) return `${key}: must be one of ${options.join(', ')}`;
      return `${key}: ${e.message ?? 'invalid'}`;
    }
    case 'format':
      if (e.params.format === 'address-range') return `${key}: not an IP address or CIDR range (such as 10.0.0.0/8 or 2001:db8::/32)`;
      return `${key}: must be a valid ${e.params.format}`;
    default:
      return `${key || '(top level)'}: ${e.message ?? 'invalid'}`;
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const ext = extname(file).toLowerCase();
  let data: unknown;
  try {
    if (ext === '.json') data = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') data = parseYaml(text, { maxAliasCount: 100 });
    else throw new ConfigError(`${file}: unsupported extension "${ext}" (use .yaml, .yml or .json)`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${file}: the top level must be a mapping of keys`);
  return data as Record<string, unknown>;
}

export interface LoadOptions {
  /**
   * Config file path; falls back to GATEHOUSE_CONFIG. Without either, only the environment is used, and
   * when it has no GATEHOUSE_* setting either, loading fails with NoConfigurationError.
   */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Base for relative paths; default the current directory. */
  cwd?: string;
  /**
   * Read the secrets the configuration points at (directory.bindPasswordFile) and require the service
   * account's password. Default true. Commands that never contact the directory (certs, lockout) pass
   * false: then directory.bindPassword may be missing and bindPasswordFile is only resolved, not read
   * (readSecrets does that later).
   */
  secrets?: boolean;
}

/**
 * Reads the file, applies environment overrides, validates against the schema and resolves derived values.
 * @throws ConfigError naming the key and the problem.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.file || env.GATEHOUSE_CONFIG || undefined;
  if (!file && !Object.entries(env).some(([k, v]) => k.startsWith(ENV_PREFIX) && k !== 'GATEHOUSE_CONFIG' && v)) {
    throw new NoConfigurationError();
  }
  const data: Record<string, unknown> = file ? readConfigFile(resolve(cwd, file)) : {};

  const known = new Set<string>();
  for (const leaf of configLeaves()) {
    const name = envName(leaf.path);
    known.add(name);
    const raw = env[name];
    // An empty variable (docker-compose's unset ${VAR}) does not override the file.
    if (raw !== undefined && raw !== '') setPath(data, leaf.path, coerceEnv(raw, leaf, name));
  }
  const stray = Object.keys(env).filter((k) => k.startsWith(ENV_PREFIX) && k !== 'GATEHOUSE_CONFIG' && !known.has(k));
  if (stray.length) throw new ConfigError(`${stray[0]}: unknown environment variable (no such configuration key)`);

  if (!validate(data)) {
    const msgs = [...new Set((validate.errors ?? []).filter((e) => e.keyword !== 'if' && e.keyword !== 'const').map(describe))];
    // Only variables were read: say so, or "publicUrl: required but missing" puzzles whoever forgot --config.
    if (!file) msgs.push('(no configuration file given, only GATEHOUSE_* variables: use --config FILE or set GATEHOUSE_CONFIG)');
    throw new ConfigError(msgs.join('\n'));
  }
  const raw = data as RawConfig;
  const config = resolveConfig(raw, cwd, file ? resolve(cwd, file) : 'environment');
  return opts.secrets === false ? config : readSecrets(config);
}

/**
 * The configuration with the service account's password in directory.bindPassword, read from
 * directory.bindPasswordFile when that is how it is given (a no-op when already read).
 * @throws ConfigError when neither is set, or the file cannot be read or is empty.
 */
export function readSecrets(config: Config): Config {
  const dir = config.directory;
  if (!dir.bindPasswordFile) {
    if (!dir.bindPassword) throw new ConfigError('directory.bindPassword: required (or set directory.bindPasswordFile)');
    return config;
  }
  let bindPassword: string;
  try {
    bindPassword = readFileSync(dir.bindPasswordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(`directory.bindPasswordFile: cannot read ${dir.bindPasswordFile} (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!bindPassword) throw new ConfigError('directory.bindPasswordFile: the file is empty');
  return { ...config, directory: { ...dir, bindPassword, bindPasswordFile: undefined } };
}

function resolveConfig(raw: RawConfig, cwd: string, source: string): Config {
  const pub = new URL(raw.publicUrl);
  if (pub.search || pub.hash) throw new ConfigError('publicUrl: must not have a query or fragment');
  const dir = raw.directory;
  if (dir.bindPassword && dir.bindPasswordFile) {
    throw new ConfigError('directory.bindPasswordFile: set either bindPassword or bindPasswordFile, not both');
  }

  const rps = resolveRelyingParties(raw.relyingParties);

  return {
    ...raw,
    publicUrl: raw.publicUrl.replace(/\/+$/, ''),
    issuer: raw.issuer ?? `http://${pub.hostname}/adfs/services/trust`,
    federatedDomains: checkFederatedDomains(raw.federatedDomains),
    // The password file is read by readSecrets, only for the commands that need it.
    directory: { ...dir, bindPasswordFile: dir.bindPasswordFile ? resolve(cwd, dir.bindPasswordFile) : undefined },
    signing: resolveSigning(raw.signing, cwd),
    session: { ...raw.session, keyFile: resolve(cwd, raw.session.keyFile) },
    branding: {
      ...raw.branding,
      ...(raw.branding.logoFile ? { logoFile: resolve(cwd, raw.branding.logoFile) } : {}),
      ...(raw.branding.illustrationFile ? { illustrationFile: resolve(cwd, raw.branding.illustrationFile) } : {}),
    },
    languages: { ...raw.languages, ...(raw.languages.overridesFile ? { overridesFile: resolve(cwd, raw.languages.overridesFile) } : {}) },
    stateDir: resolve(cwd, raw.stateDir),
    kerberos: resolveKerberos(raw.kerberos, pub.hostname, dir.baseDn, cwd, checkFederatedDomains(raw.federatedDomains)),
    state: resolveStateConfig(raw.state, cwd, resolve(cwd, raw.session.keyFile)),
    mfa: { ...raw.mfa, keyFile: raw.mfa.keyFile ? resolve(cwd, raw.mfa.keyFile) : join(dirname(resolve(cwd, raw.session.keyFile)), 'mfa.key') },
    metrics: resolveMetricsConfig(raw.metrics, cwd),
    ...(raw.sync
      ? {
          sync: {
            ...raw.sync,
            ...(raw.sync.clientSecretFile ? { clientSecretFile: resolve(cwd, raw.sync.clientSecretFile) } : {}),
            ...(raw.sync.clientCertificateFile ? { clientCertificateFile: resolve(cwd, raw.sync.clientCertificateFile) } : {}),
          },
        }
      : {}),
    ...(raw.tenant
      ? {
          tenant: {
            ...raw.tenant,
            ...(raw.tenant.clientSecretFile ? { clientSecretFile: resolve(cwd, raw.tenant.clientSecretFile) } : {}),
            ...(raw.tenant.clientCertificateFile ? { clientCertificateFile: resolve(cwd, raw.tenant.clientCertificateFile) } : {}),
          },
        }
      : {}),
    relyingParties: rps,
    source,
  };
}

/** certs/signing.crt -> certs/signing-next.crt (the rollover files live beside the current ones). */
export function siblingFile(file: string, suffix: string): string {
  const ext = extname(file);
  return `${file.slice(0, file.length - ext.length)}-${suffix}${ext}`;
}

function resolveSigning(s: RawConfig['signing'], cwd: string): SigningConfig {
  const certFile = resolve(cwd, s.certFile);
  const keyFile = resolve(cwd, s.keyFile);
  const auto = s.autoRollover;
  if (auto.enabled && auto.promoteDaysAfter >= auto.generateDaysBefore) {
    throw new ConfigError(
      `signing.autoRollover.promoteDaysAfter: must be less than generateDaysBefore (${auto.promoteDaysAfter} >= ${auto.generateDaysBefore}), or the current certificate expires before the next one signs`,
    );
  }
  const next = {
    nextCertFile: s.nextCertFile ? resolve(cwd, s.nextCertFile) : siblingFile(certFile, 'next'),
    nextKeyFile: s.nextKeyFile ? resolve(cwd, s.nextKeyFile) : siblingFile(keyFile, 'next'),
  };
  for (const [k, f] of Object.entries(next)) {
    if (f === certFile || f === keyFile) throw new ConfigError(`signing.${k}: must not be the current certificate or key file (${f})`);
  }
  return { ...s, certFile, keyFile, ...next };
}
