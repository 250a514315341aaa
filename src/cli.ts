#!/usr/bin/env node
import { Command, Option } from 'commander';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { createSelfSignedCertificate, newSessionKey, writePublicFile, writeSecretFile } from './keys/generate.js';
import { loadSessionKeys, loadSigningKey } from './keys/keystore.js';
import { Directory } from './directory/directory.js';
import { existsSync } from 'node:fs';
import { GatehouseError } from './errors.js';
import { registerSyncCommand } from './sync/command.js';
import { openAdminState } from './state/admin.js';
import { registerFarmCommand } from './farm/command.js';
import { createNextCertificate, defaultNextDays, loadCurrentKey, promoteNextCertificate, rolloverFiles } from './keys/rollover.js';
import { registerTenantSetupCommand } from './tenant/command.js';
import { registerSessionsCommand } from './commands/sessions.js';

const configOption = () =>
  new Option('-c, --config <file>', 'configuration file (.yaml, .yml or .json); default $GATEHOUSE_CONFIG');

function load(opts: { config?: string }): Config {
  return loadConfig({ file: opts.config });
}

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`gatehouse: configuration error:\n  ${err.message.split('\n').join('\n  ')}\n`);
  } else {
    process.stderr.write(`gatehouse: ${(err as Error).message ?? String(err)}\n`);
  }
  process.exit(1);
}

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

const program = new Command()
  .name('gatehouse')
  .description('On-premises sign-in for Microsoft 365 with Active Directory passwords (an ADFS replacement).')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the sign-in server')
  .addOption(configOption())
  .action(async (opts) => {
    try {
      // Loaded on demand: `gatehouse sync` and the admin commands do not need the web server.
      const { serveCluster } = await import('./cluster.js');
      await serveCluster(load(opts));
    } catch (err) {
      fail(err);
    }
  });

program
  .command('check-config')
  .description('validate the configuration, the keys and the directory connection, then exit')
  .addOption(configOption())
  .option('--no-directory', 'do not try to reach the domain controllers')
  .action(async (opts: { config?: string; directory: boolean }) => {
    try {
      const config = load(opts);
      const key = loadSigningKey(config.signing.certFile, config.signing.keyFile);
      loadSessionKeys(config.session.keyFile);
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`configuration:  ${config.source}: OK`);
      out(`issuer:         ${config.issuer}`);
      out(`sign-in URL:    ${config.publicUrl}/adfs/ls/`);
      out(`metadata:       ${config.publicUrl}/FederationMetadata/2007-06/FederationMetadata.xml`);
      out(`certificate:    ${key.thumbprint}, expires ${key.notAfter.toISOString()}`);
      out(`relying parties: ${[...config.relyingParties.keys()].join(', ')}`);
      if (opts.directory) {
        const directory = new Directory(config.directory, pino({ level: 'silent' }));
        try {
          await directory.ping();
          out(`directory:      service account bound OK (${config.directory.urls.join(', ')})`);
        } catch (err) {
          throw new Error(`directory: cannot use the service account: ${(err as GatehouseError).detail ?? (err as Error).message}`);
        } finally {
          await directory.close();
        }
      }
    } catch (err) {
      fail(err);
    }
  });

const certs = program.command('certs').description('manage the token-signing certificate and the session key');
certs
  .command('init')
  .description('create a self-signed token-signing certificate and a session key')
  .addOption(configOption())
  .option('--force', 'replace existing files (invalidates tokens\' trust until the tenant is updated)', false)
  .addOption(new Option('--bits <n>', 'RSA key size').choices(['2048', '3072', '4096']).default('2048'))
  .option('--days <n>', 'validity in days', '1095')
  .option('--cn <name>', 'certificate common name (default: the issuer\'s host)')
  .action((opts: { config?: string; force: boolean; bits: string; days: string; cn?: string }) => {
    try {
      const config = load(opts);
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error('--days must be a whole number from 1 to 3650');
      const { certFile, keyFile } = config.signing;
      if (!opts.force) {
        for (const f of [certFile, keyFile]) if (existsSync(f)) throw new Error(`${f} already exists (use --force to replace it)`);
      }
      const cn = opts.cn ?? issuerHost(config);
      const { certPem, keyPem } = createSelfSignedCertificate({ commonName: cn, bits: Number(opts.bits), days });
      writeSecretFile(keyFile, keyPem, opts.force);
      writePublicFile(certFile, certPem, opts.force);
      const key = loadSigningKey(certFile, keyFile);
      process.stdout.write(`token-signing certificate: ${certFile}\n  subject CN=${cn}\n  thumbprint ${key.thumbprint}\n  expires ${key.notAfter.toISOString()}\nprivate key: ${keyFile} (mode 0600)\n`);
      if (!existsSync(config.session.keyFile) || opts.force) {
        writeSecretFile(config.session.keyFile, newSessionKey(), true);
        process.stdout.write(`session key: ${config.session.keyFile} (mode 0600)\n`);
      }
    } catch (err) {
      fail(err);
    }
  });

certs
  .command('rotate-session-key')
  .description('start sealing session cookies with a new key; the previous key still opens existing ones')
  .addOption(configOption())
  .action((opts: { config?: string }) => {
    try {
      const config = load(opts);
      const file = config.session.keyFile;
      const previous = existsSync(file) ? loadSessionKeys(file)[0] : undefined;
      const lines = newSessionKey() + (previous ? previous.toString('base64') + '\n' : '');
      writeSecretFile(file, lines, true);
      process.stdout.write(`session key: ${file}: new key first${previous ? ', previous key kept for existing sessions' : ''}\n`);
      process.stdout.write('Restart Gatehouse (every server of a farm) to use it; rotate again later to drop the old key.\n');
    } catch (err) {
      fail(err);
    }
  });

certs
  .command('rollover')
  .description('create the next token-signing certificate: the metadata publishes it beside the current one, which still signs')
  .addOption(configOption())
  .option('--force', 'replace a next certificate that already exists', false)
  .addOption(new Option('--bits <n>', 'RSA key size (default: the current key\'s)').choices(['2048', '3072', '4096']))
  .option('--days <n>', 'validity in days (default: the current certificate\'s, at least 365)')
  .option('--cn <name>', 'certificate common name (default: the current certificate\'s)')
  .action((opts: { config?: string; force: boolean; bits?: string; days?: string; cn?: string }) => {
    try {
      const config = load(opts);
      const current = loadCurrentKey(config.signing);
      const days = opts.days === undefined ? defaultNextDays(current) : Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error('--days must be a whole number from 1 to 3650');
      const next = createNextCertificate(config.signing, {
        days,
        force: opts.force,
        ...(opts.bits ? { bits: Number(opts.bits) } : {}),
        ...(opts.cn ? { cn: opts.cn } : {}),
      });
      const s = config.signing;
      process.stdout.write(
        `next token-signing certificate: ${s.nextCertFile}\n  subject ${next.certificate.subject.replace(/\n/g, ', ')}\n  thumbprint ${next.thumbprint}\n  expires ${next.notAfter.toISOString()}\nprivate key: ${s.nextKeyFile} (mode 0600)\n` +
          `current certificate ${current.thumbprint} (expires ${current.notAfter.toISOString()}) still signs every token.\n\n` +
          'Next steps:\n' +
          '  1. Reload the server (kill -HUP <pid>, or restart; it also re-reads the files once a day): the federation metadata then lists both certificates.\n' +
          '  2. Let Microsoft 365 learn it: it reads the metadata from about 30 days before the current certificate expires, or now with\n' +
          '     gatehouse tenant-setup --domain <domain> --apply      (sets nextSigningCertificate)\n' +
          '  3. gatehouse tenant-setup --domain <domain> --check     (shows both thumbprints on the tenant)\n' +
          '  4. gatehouse certs promote, then reload every server.\n',
      );
    } catch (err) {
      fail(err);
    }
  });

certs
  .command('promote')
  .description('make the next token-signing certificate the current one (the old one is kept as *-previous for a rollback)')
  .addOption(configOption())
  .action((opts: { config?: string }) => {
    try {
      const config = load(opts);
      const old = loadCurrentKey(config.signing);
      const { current, previous } = promoteNextCertificate(config.signing);
      const files = rolloverFiles(config.signing);
      process.stdout.write(
        `token-signing certificate: ${files.current.cert}\n  now ${current.thumbprint} (expires ${current.notAfter.toISOString()})\n` +
          (previous ? `previous: ${old.thumbprint} kept as ${previous.cert} and ${previous.key} (to roll back: copy them back and reload)\n` : '') +
          'Reload every server to sign with it: kill -HUP <pid>, or restart (each server also re-reads the files once a day).\n' +
          'Then check the tenant: gatehouse tenant-setup --domain <domain> --check\n',
      );
    } catch (err) {
      fail(err);
    }
  });

registerSessionsCommand(program, fail);
registerFarmCommand(program, fail);

const lockout = program.command('lockout').description('smart lockout state (bad-password counters per user)');
lockout
  .command('list')
  .description('list accounts with bad-password counters or familiar addresses')
  .addOption(configOption())
  .option('--user <name>', 'only this user (UPN or sAMAccountName, as stored)')
  .option('--json', 'print JSON')
  .action(async (opts: { config?: string; user?: string; json?: boolean }) => {
    try {
      const config = load(opts);
      const state = await openAdminState(config);
      const rows = await Promise.resolve(state.lockout.list(opts.user)).finally(() => state.close());
      if (opts.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      if (!rows.length) return void process.stdout.write('no lockout state recorded\n');
      const when = (t: number) => (t ? new Date(t).toISOString() : '-');
      for (const r of rows) {
        process.stdout.write(
          `${r.userName}\n  unknown locations:  ${r.badUnknown} bad (last ${when(r.lastBadUnknown)})\n` +
            `  familiar locations: ${r.badFamiliar} bad (last ${when(r.lastBadFamiliar)})\n` +
            `  familiar addresses: ${r.familiarAddresses.join(', ') || '-'}\n`,
        );
      }
    } catch (err) {
      fail(err);
    }
  });
lockout
  .command('reset')
  .description("clear a user's bad-password counters (familiar addresses are kept)")
  .argument('<user>', 'UPN or sAMAccountName, as shown by lockout list')
  .addOption(configOption())
  .addOption(new Option('--location <where>', 'only this kind of location').choices(['familiar', 'unknown']))
  .action(async (user: string, opts: { config?: string; location?: 'familiar' | 'unknown' }) => {
    try {
      const config = load(opts);
      const state = await openAdminState(config);
      const n = await Promise.resolve(state.lockout.reset(user, opts.location)).finally(() => state.close());
      if (!n) throw new Error(`no lockout state for ${user}`);
      process.stdout.write(`reset ${opts.location ?? 'all'} counters of ${user}\n`);
    } catch (err) {
      fail(err);
    }
  });

registerSyncCommand(program);
registerTenantSetupCommand(program);

program.parseAsync().catch(fail);
