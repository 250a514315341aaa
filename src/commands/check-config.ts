import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { issuerUriOf } from '../config/federated-domains.js';
import type { Command } from 'commander';
import pino from 'pino';
import { readSecrets, type Config } from '../config/load.js';
import { workerCount } from '../config/workers.js';
import { Directory } from '../directory/directory.js';
import { loadSessionKeys } from '../keys/keystore.js';
import { loadCurrentKey, loadNextKey } from '../keys/rollover.js';
import { derivePolicy } from '../lockout/smart-lockout.js';
import { createPageKit, pageKitDirs } from '../http/page-kit.js';
import { checkDomainController, type CheckLine } from './check-directory.js';
import { checkKerberos } from './check-kerberos.js';
import { configOption, EXIT_FAILED, EXIT_OK, loadCommandConfig, runCommand } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse check-config -c /etc/gatehouse/gatehouse.yaml
  gatehouse check-config -c gatehouse.yaml --no-directory      files and keys only, no domain controller

Every check runs; "OK" is printed last, and only when all of them passed. Otherwise each problem is
listed on stderr with what to change, followed by the error as it was given, and the exit status is 1.`;

const DAY = 86_400_000;
const LABEL = 17;
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Collects what check-config found: information lines as they come, problems for the list at the end. */
class Findings {
  readonly problems: { text: string; raw?: string | undefined }[] = [];
  private lastLabel = '';

  /** "label:           text"; a repeated label is left blank, so a block of lines reads as one. */
  line(label: string, text: string): void {
    const head = label === this.lastLabel ? '' : `${label}:`;
    this.lastLabel = label;
    // A label as long as the column ("next certificate:", "federated domains:") still gets its space.
    process.stdout.write(`${head.padEnd(Math.max(LABEL, head.length + 1))}${text}\n`);
  }

  problem(label: string, text: string, raw?: string): void {
    this.line(label, `PROBLEM: ${text}`);
    this.problems.push({ text, raw });
  }

  warning(label: string, text: string): void {
    this.line(label, `warning: ${text}`);
  }

  /** Runs a check that throws a ConfigError (or any error) for its problem. */
  attempt<T>(label: string, check: () => T): T | undefined {
    try {
      return check();
    } catch (err) {
      this.problem(label, errorText(err));
      return undefined;
    }
  }
}

function checkFiles(config: Config, f: Findings): void {
  const key = f.attempt('certificate', () => loadCurrentKey(config.signing));
  if (key) {
    const days = Math.floor((key.notAfter.getTime() - Date.now()) / DAY);
    const text = `${key.thumbprint}, expires ${key.notAfter.toISOString()}`;
    if (days < 0) {
      f.problem('certificate', `signing.certFile: the token-signing certificate expired on ${key.notAfter.toISOString()}: make the next one ("gatehouse certs rollover", then "certs promote" and "gatehouse tenant-setup --apply")`);
    } else if (days < config.signing.warnDaysBefore) {
      f.line('certificate', text);
      f.warning('certificate', `it expires in ${days} days: "gatehouse certs rollover" makes the next one (or set signing.autoRollover.enabled)`);
    } else {
      f.line('certificate', text);
    }
  }
  const next = f.attempt('next certificate', () => loadNextKey(config.signing));
  if (next) f.line('next certificate', `${next.thumbprint}, expires ${next.notAfter.toISOString()} (published; "gatehouse certs promote" makes it sign)`);
  const sessionKeys = f.attempt('session key', () => loadSessionKeys(config.session.keyFile));
  if (sessionKeys) f.line('session key', `${config.session.keyFile} (${sessionKeys.length} key${sessionKeys.length === 1 ? '' : 's'})`);
  // The pages' languages, override file and pictures, as the server reads them at start.
  const kit = f.attempt('pages', () => createPageKit(config, pageKitDirs()));
  if (kit) {
    const brand = kit.brand.organisationName ? `branded for ${kit.brand.organisationName}${kit.logo ? ' (logo)' : ''}` : 'no branding';
    f.line('pages', `languages ${kit.languages.join(', ')} (default ${kit.defaultLanguage}); ${brand}`);
  }
}

/** directory.caFile as Directory reads it; a problem when it cannot be read or holds no certificate. */
function readCa(config: Config, f: Findings): { ok: boolean; ca?: Buffer } {
  const file = config.directory.caFile;
  if (!file) return { ok: true };
  try {
    const ca = readFileSync(file);
    new X509Certificate(ca); // the first certificate must parse
    return { ok: true, ca };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    f.problem('directory', code ? `directory.caFile: cannot read ${file} (${code})` : `directory.caFile: ${file} is not a PEM certificate`);
    return { ok: false };
  }
}

/** The smart-lockout thresholds and window the server would derive from AD's policy (src/lockout/create.ts does the same call), with why. */
async function checkLockout(config: Config, f: Findings): Promise<void> {
  const { mode } = config.lockout;
  if (mode === 'off') {
    f.line('smart lockout', 'off (lockout.mode)');
    return;
  }
  const directory = new Directory(config.directory, pino({ level: 'silent' }));
  let ad: Awaited<ReturnType<Directory['readDomainPolicy']>>;
  try {
    ad = await directory.readDomainPolicy();
  } catch (err) {
    const detail = (err as { detail?: string }).detail ?? errorText(err);
    f.problem('smart lockout', "cannot read AD's lockoutThreshold from the domain head (the service account needs read access to it)", detail);
    return;
  } finally {
    await directory.close();
  }
  const r = derivePolicy(config.lockout, ad);
  const source = `AD's lockoutThreshold ${ad.lockoutThreshold || '0 (AD never locks accounts)'}; lockout.threshold ${config.lockout.threshold ?? 'not set'}`;
  f.line('smart lockout', `${mode}: threshold ${r.threshold} bad password${r.threshold === 1 ? '' : 's'} per unknown location, ${r.familiarThreshold} per familiar one (${source})`);
  for (const why of r.explanation) f.line('smart lockout', `  ${why}`);
  if (r.problem) {
    if (mode === 'enforce') f.problem('smart lockout', `${r.problem} ("gatehouse serve" refuses to start)`);
    else f.warning('smart lockout', r.problem);
  }
}

async function checkConfig(opts: { config?: string; directory: boolean }): Promise<number> {
  // A configuration that does not load stops here (runCommand prints its lines): nothing else can be checked.
  let config = loadCommandConfig(opts, { secrets: false });
  const f = new Findings();
  f.line('configuration', config.source);
  f.line('issuer', config.issuer);
  if (config.federatedDomains.length) {
    f.line('federated domains', config.federatedDomains.map((d) => `${d} (IssuerUri ${issuerUriOf(config, d)})`).join(', '));
  }
  f.line('sign-in URL', `${config.publicUrl}/adfs/ls/`);
  f.line('metadata', `${config.publicUrl}/FederationMetadata/2007-06/FederationMetadata.xml`);
  f.line('relying parties', [...config.relyingParties.keys()].join(', '));
  const n = workerCount(config);
  f.line('workers', `${n} server process${n === 1 ? '' : 'es'}${config.workers === 0 ? ' (workers: 0, one per core)' : ''}`);
  checkFiles(config, f);
  for (const l of checkKerberos(config)) {
    if (l.status === 'ok') f.line('kerberos', l.text);
    else if (l.status === 'warning') f.warning('kerberos', l.text);
    else f.problem('kerberos', l.text);
  }

  try {
    config = readSecrets(config);
  } catch (err) {
    f.problem('service account', errorText(err));
  }

  if (!opts.directory) {
    f.line('directory', 'not checked (--no-directory)');
  } else if (config.directory.bindPassword === undefined) {
    f.line('directory', 'not checked (no service account password)');
  } else {
    const { ok, ca } = readCa(config, f);
    if (ok) {
      const results = await Promise.all(config.directory.urls.map((url) => checkDomainController(url, config.directory, ca)));
      for (const line of results.flat()) print(f, line);
      if (results.flat().some((l) => l.bound)) await checkLockout(config, f);
      else f.line('smart lockout', 'not checked (no domain controller answered)');
    }
  }

  if (f.problems.length === 0) {
    process.stdout.write('OK\n');
    return EXIT_OK;
  }
  const n2 = f.problems.length;
  let out = `gatehouse check-config: ${n2} problem${n2 === 1 ? '' : 's'}:\n`;
  for (const p of f.problems) out += `  ${p.text}\n${p.raw ? `      (${p.raw})\n` : ''}`;
  process.stderr.write(out);
  return EXIT_FAILED;
}

function print(f: Findings, l: CheckLine): void {
  if (l.status === 'ok') f.line('directory', `${l.subject}: ${l.text}`);
  else if (l.status === 'warning') f.warning('directory', `${l.subject}: ${l.text}`);
  else f.problem('directory', `${l.subject}: ${l.text}`, l.raw);
}

/** `gatehouse check-config`: every check, then OK or the list of problems (exit 1). */
export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('check the configuration, the keys, each domain controller (reach, TLS, service account, password changes) and the smart-lockout threshold; exit 1 listing each problem')
    .addOption(configOption())
    .option('--no-directory', 'do not contact the domain controllers')
    .addHelpText('after', EXAMPLES)
    .action(runCommand('check-config', checkConfig));
}
