import pino from 'pino';
import { buildApp, LOG_REDACT } from './app.js';
import type { Config } from './config/load.js';
import { Directory } from './directory/directory.js';
import { loadSessionKeys } from './keys/keystore.js';
import { SigningKeyRing } from './keys/keyring.js';
import { CertificateMonitor, loadCurrentKey, loadNextKey, reloadSigningKeys } from './keys/rollover.js';
import { startFarmServer } from './farm/serve.js';
import { SecretRing } from './crypto/sealed.js';
import cluster from 'node:cluster';
import { registry } from './metrics/metrics.js';
import { joinClusterMetrics, metricsAccess, startMetricsListener } from './metrics/serve.js';

/**
 * Loads keys, builds the app, listens, and closes cleanly on SIGTERM/SIGINT. SIGHUP re-reads the
 * token-signing certificates (after `certs rollover` or `certs promote`) and the session keys (after
 * `certs rotate-session-key`); a daily check re-reads the certificates too, runs
 * automatic rollover when enabled and warns when the certificate nears expiry.
 */
export async function serve(config: Config, opts: { workerIndex: number; serverProcesses: number } = { workerIndex: 0, serverProcesses: 1 }): Promise<void> {
  const log = pino({ level: config.logLevel, redact: LOG_REDACT });
  // Farm mode (state.redis.url): the keys come from the farm, the state is shared, rollover has a leader.
  const farm = await startFarmServer(config, log.child({ component: 'farm' }));
  const signingKeys = farm?.signingKeys ?? new SigningKeyRing(loadCurrentKey(config.signing), loadNextKey(config.signing));
  const signingKey = signingKeys.current;
  const sessionKeys = farm?.sessionKeys ?? new SecretRing(loadSessionKeys(config.session.keyFile));
  const directory = new Directory(config.directory, log.child({ component: 'directory' }));
  const app = await buildApp({ config, directory, signingKey, signingKeys, sessionKeys, loggerInstance: log, serverProcesses: opts.serverProcesses, ...(farm ? { state: farm.state } : {}) });
  const monitor = new CertificateMonitor({
    config,
    ring: signingKeys,
    log: log.child({ component: 'certificates' }),
    manageRollover: farm ? () => opts.workerIndex === 0 && farm.manageRollover() : opts.workerIndex === 0,
    ...(farm ? { onRollover: farm.onRollover } : {}),
  });
  monitor.start();

  if (!config.directory.tlsVerify) {
    log.warn('directory.tlsVerify is false: DC certificates are NOT verified; anyone on the path can read passwords. Fix the CA (directory.caFile) and turn it back on.');
  }
  const plain = config.directory.urls.filter((u) => u.startsWith('ldap://'));
  if (plain.length && !config.directory.startTls) {
    log.warn({ dcs: plain }, 'directory: user passwords cross the network unencrypted; use ldaps:// or directory.startTls in production');
  }

  await app.listen({ host: config.listen.host, port: config.listen.port });
  if (config.metrics.enabled) {
    // A worker's figures go to the primary, which serves them (cluster.ts); a single process serves its own.
    if (cluster.isWorker) joinClusterMetrics();
    else if (config.metrics.listen) {
      await startMetricsListener(config.metrics.listen, metricsAccess(config.metrics), () => registry.metrics(), (err) => log.error({ err: err.message }, 'metrics could not be collected'));
      log.info({ metrics: `http://${config.metrics.listen}/metrics` }, 'metrics listener started');
    }
  }
  log.info(
    {
      publicUrl: config.publicUrl,
      issuer: config.issuer,
      passiveEndpoint: `${config.publicUrl}/adfs/ls/`,
      metadata: `${config.publicUrl}/FederationMetadata/2007-06/FederationMetadata.xml`,
      thumbprint: signingKeys.current.thumbprint,
      nextThumbprint: signingKeys.next?.thumbprint,
      ...(opts.serverProcesses > 1 ? { worker: opts.workerIndex, serverProcesses: opts.serverProcesses } : {}),
    },
    'Gatehouse is serving',
  );
  // Not fatal: sign-ins answer 503 until a DC answers, and the probe says so.
  directory.ping().catch((err: Error) => log.error({ detail: (err as { detail?: string }).detail ?? err.message }, 'directory unreachable at start-up'));

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal, drainSeconds: config.http.drainSeconds, detail: 'the probe answers 503 for drainSeconds, then requests in flight are finished' }, 'shutting down');
    monitor.stop();
    void farm?.stop();
    app.gatehouse.lifecycle.draining = true;
    new Promise((resolve) => setTimeout(resolve, config.http.drainSeconds * 1000))
      .then(() => app.close())
      .then(() => directory.close())
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, 're-reading the token-signing certificates and the session keys');
    if (!reloadSigningKeys(config.signing, signingKeys, log)) log.info('token-signing certificates unchanged');
    try {
      if (sessionKeys.replace(loadSessionKeys(config.session.keyFile))) log.warn({ event: 'session_keys' }, 'session keys: the first key of the file now seals new cookies');
    } catch (err) {
      log.error({ event: 'session_keys', detail: (err as Error).message }, 'session keys: cannot read the file; still using the keys loaded before');
    }
  });
}
