import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { Config } from '../config/load.js';
import { createSelfSignedCertificate, newSessionKey, writePublicFile, writeSecretFile } from '../keys/generate.js';
import { loadSessionKeys, loadSigningKey } from '../keys/keystore.js';
import { createNextCertificate, defaultNextDays, loadCurrentKey, promoteNextCertificate, rolloverFiles } from '../keys/rollover.js';
import { underFarmKeys } from '../farm/key-command.js';
import { configOption, loadCommandConfig, runCommand, UsageError } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse certs init -c gatehouse.yaml                       first set-up: certificate, key and session key
  gatehouse certs init -c gatehouse.yaml --cn sts.corp.example.com --days 730
  gatehouse certs rollover -c gatehouse.yaml                   before the certificate expires
  gatehouse certs promote -c gatehouse.yaml                    once Microsoft 365 knows the next one
  gatehouse certs rotate-session-key -c gatehouse.yaml

None of them needs the directory or the service account's password. In a farm (state.redis.url) run
rollover, promote and rotate-session-key on any one server: the result is published to the farm and
every server uses it within seconds.`;

/** The issuer's host (http://sts.corp.example.com/adfs/services/trust -> sts.corp.example.com), else publicUrl's. */
function issuerHost(config: Config): string {
  try {
    const host = new URL(config.issuer).hostname;
    if (host) return host;
  } catch {
    /* a URN issuer has no host */
  }
  return new URL(config.publicUrl).hostname;
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new UsageError('--days must be a whole number from 1 to 3650');
  return n;
}

/** `gatehouse certs init|rotate-session-key|rollover|promote`: files only, never the directory. */
export function registerCertsCommand(program: Command): void {
  const certs = program
    .command('certs')
    .description('manage the token-signing certificate and the session key')
    .addHelpText('after', EXAMPLES);

  certs
    .command('init')
    .description('create a self-signed token-signing certificate and a session key')
    .addOption(configOption())
    .option('--force', "replace existing files (invalidates tokens' trust until the tenant is updated)", false)
    .addOption(new Option('--bits <n>', 'RSA key size').choices(['2048', '3072', '4096']).default('2048'))
    .option('--days <n>', 'validity in days', '1095')
    .option('--cn <name>', "certificate common name (default: the issuer's host)")
    .action(
      runCommand('certs init', (opts: { config?: string; force: boolean; bits: string; days: string; cn?: string }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        const validity = days(opts.days);
        const { certFile, keyFile } = config.signing;
        if (!opts.force) {
          for (const f of [certFile, keyFile]) if (existsSync(f)) throw new Error(`${f} already exists (use --force to replace it)`);
        }
        const cn = opts.cn ?? issuerHost(config);
        const { certPem, keyPem } = createSelfSignedCertificate({ commonName: cn, bits: Number(opts.bits), days: validity });
        writeSecretFile(keyFile, keyPem, opts.force);
        writePublicFile(certFile, certPem, opts.force);
        const key = loadSigningKey(certFile, keyFile);
        process.stdout.write(`token-signing certificate: ${certFile}\n  subject CN=${cn}\n  thumbprint ${key.thumbprint}\n  expires ${key.notAfter.toISOString()}\nprivate key: ${keyFile} (mode 0600)\n`);
        if (!existsSync(config.session.keyFile) || opts.force) {
          writeSecretFile(config.session.keyFile, newSessionKey(), true);
          process.stdout.write(`session key: ${config.session.keyFile} (mode 0600)\n`);
        }
      }),
    );

  certs
    .command('rotate-session-key')
    .description('start sealing session cookies with a new key; the previous key still opens existing ones')
    .addOption(configOption())
    .action(
      runCommand('certs rotate-session-key', async (opts: { config?: string }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        const file = config.session.keyFile;
        let previous: Buffer | undefined;
        const farm = await underFarmKeys(config, () => {
          previous = existsSync(file) ? loadSessionKeys(file)[0] : undefined;
          writeSecretFile(file, newSessionKey() + (previous ? previous.toString('base64') + '\n' : ''), true);
        });
        process.stdout.write(`session key: ${file}: new key first${previous ? ', previous key kept for existing sessions' : ''}\n`);
        process.stdout.write(`${farm ?? 'Reload Gatehouse to use it (kill -HUP <pid>, or restart)'}; rotate again later to drop the old key.\n`);
      }),
    );

  certs
    .command('rollover')
    .description('create the next token-signing certificate: the metadata publishes it beside the current one, which still signs')
    .addOption(configOption())
    .option('--force', 'replace a next certificate that already exists', false)
    .addOption(new Option('--bits <n>', "RSA key size (default: the current key's)").choices(['2048', '3072', '4096']))
    .option('--days <n>', "validity in days (default: the current certificate's, at least 365)")
    .option('--cn <name>', "certificate common name (default: the current certificate's)")
    .action(
      runCommand('certs rollover', async (opts: { config?: string; force: boolean; bits?: string; days?: string; cn?: string }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        if (opts.days !== undefined) days(opts.days);
        let current = loadCurrentKey(config.signing);
        let next: ReturnType<typeof createNextCertificate> | undefined;
        const farm = await underFarmKeys(config, () => {
          current = loadCurrentKey(config.signing);
          next = createNextCertificate(config.signing, {
            days: opts.days === undefined ? defaultNextDays(current) : days(opts.days),
            force: opts.force,
            ...(opts.bits ? { bits: Number(opts.bits) } : {}),
            ...(opts.cn ? { cn: opts.cn } : {}),
          });
        });
        if (!next) throw new Error('no certificate was made');
        const s = config.signing;
        process.stdout.write(
          `next token-signing certificate: ${s.nextCertFile}\n  subject ${next.certificate.subject.replace(/\n/g, ', ')}\n  thumbprint ${next.thumbprint}\n  expires ${next.notAfter.toISOString()}\nprivate key: ${s.nextKeyFile} (mode 0600)\n` +
            `current certificate ${current.thumbprint} (expires ${current.notAfter.toISOString()}) still signs every token.\n\n` +
            'Next steps:\n' +
            (farm
              ? `  1. ${farm} The federation metadata of every server then lists both certificates.\n`
              : '  1. Reload the server (kill -HUP <pid>, or restart; it also re-reads the files once a day): the federation metadata then lists both certificates.\n') +
            '  2. Let Microsoft 365 learn it: it reads the metadata from about 30 days before the current certificate expires, or now with\n' +
            '     gatehouse tenant-setup --domain <domain> --apply      (sets nextSigningCertificate)\n' +
            '  3. gatehouse tenant-setup --domain <domain> --check     (shows both thumbprints on the tenant)\n' +
            (farm ? '  4. gatehouse certs promote (on any one server).\n' : '  4. gatehouse certs promote, then reload every server.\n'),
        );
      }),
    );

  certs
    .command('promote')
    .description('make the next token-signing certificate the current one (the old one is kept as *-previous for a rollback)')
    .addOption(configOption())
    .action(
      runCommand('certs promote', async (opts: { config?: string }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        let old = loadCurrentKey(config.signing);
        let promoted: ReturnType<typeof promoteNextCertificate> | undefined;
        const farm = await underFarmKeys(config, () => {
          old = loadCurrentKey(config.signing);
          promoted = promoteNextCertificate(config.signing);
        });
        if (!promoted) throw new Error('nothing was promoted');
        const { current, previous } = promoted;
        const files = rolloverFiles(config.signing);
        process.stdout.write(
          `token-signing certificate: ${files.current.cert}\n  now ${current.thumbprint} (expires ${current.notAfter.toISOString()})\n` +
            (previous ? `previous: ${old.thumbprint} kept as ${previous.cert} and ${previous.key} (to roll back: copy them back and reload)\n` : '') +
            (farm
              ? `${farm}\n`
              : 'Reload every server to sign with it: kill -HUP <pid>, or restart (each server also re-reads the files once a day).\n') +
            'Then check the tenant: gatehouse tenant-setup --domain <domain> --check\n',
        );
      }),
    );
}
