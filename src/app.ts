import type { Secrets } from './crypto/sealed.js';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import view from '@fastify/view';
import csrf from '@fastify/csrf-protection';
import { Eta } from 'eta';
import type { Config } from './config/load.js';
import type { Directory } from './directory/directory.js';
import type { SigningKey } from './keys/keystore.js';
import { SigningKeyRing } from './keys/keyring.js';
import { RelyingPartyRegistry } from './relying-parties/registry.js';
import { SessionStore } from './authn/session-cookie.js';
import { AccountCache } from './authn/account-cache.js';
import { GatehouseError, ERRORS } from './errors.js';
import { errorText, renderPage } from './http/pages.js';
import { createPageKit, pageKitDirs, PORTAL_PATHS } from './http/page-kit.js';
import { imageHeaders } from './http/brand-assets.js';
import { createLimitedServer } from './http/connection-limits.js';
import { frontDoorRoutes } from './protocols/front-door.js';
import { saml2Routes } from './protocols/saml2/routes.js';
import { wsTrustRoutes } from './protocols/wstrust/routes.js';
import { metadataRoutes } from './metadata/routes.js';
import { healthRoutes } from './health/routes.js';
import type { Services } from './services.js';
import { openState, type StateStores } from './farm/stores.js';
import { createSmartLockout } from './lockout/create.js';
import type { SmartLockout } from './lockout/lockout.js';
import { PasswordVerifier } from './authn/password-check.js';
import { portalRoutes } from './authn/portal-routes.js';
import { MfaService } from './mfa/service.js';
import { webAuthnRp } from './mfa/webauthn.js';
import { mfaStaticRoutes } from './mfa/static-routes.js';
import { mfaPortalRoutes } from './mfa/portal-routes.js';
import { loadSessionKeys } from './keys/keystore.js';
import { assertKerberosReady } from './authn/kerberos-acceptor.js';
import { metricsRoutes } from './health/metrics-route.js';
import { ActivityRecorder } from './activity/recorder.js';
import { activityRoutes } from './activity/page-routes.js';
import { certificateDays, httpDuration, lockedLocations, refreshOnScrape } from './metrics/metrics.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VIEWS = join(ROOT, 'views');

export interface AppDeps {
  config: Config;
  directory: Directory;
  signingKey: SigningKey;
  /** Current and next signing keys; default a ring holding only signingKey. The server swaps keys through it. */
  signingKeys?: SigningKeyRing;
  /** Session secrets: the first seals cookies, all open them (rotation). */
  /** The session secrets (a ring: SIGHUP or the farm's record can rotate them while the server runs). */
  sessionKeys: Secrets;
  /** Default: built from config.lockout and AD's policy, with counters in stateDir. */
  lockout?: SmartLockout;
  /** Default: opened from config.stateDir and config.state (SQLite, or Redis for a farm); closed with the app. */
  state?: StateStores;
  /** Logger options (tests), or a ready pino logger (the server); default: pino at config.logLevel. */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** Secrets that encrypt the enrolled second factors; default read from mfa.keyFile when mfa.enabled. */
  mfaKeys?: Buffer[];
  /** How many server processes share the port (the cluster's workers); default 1. Rate limits are split between them. */
  serverProcesses?: number;
}

/** Passwords, cookies and tokens never reach the log. */
export const LOG_REDACT = ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', 'Password', 'password', '*.Password', '*.password', 'Code', '*.Code', 'Enrolment', '*.Enrolment', 'WebauthnResponse', '*.WebauthnResponse'];

/** Builds the whole app without listening (tests use it directly). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  assertKerberosReady(config.kerberos);
  const app = Fastify({
    ...(deps.loggerInstance
      ? { loggerInstance: deps.loggerInstance }
      : { logger: deps.logger ?? { level: config.logLevel, redact: LOG_REDACT } }),
    trustProxy: config.trustedProxies.length ? config.trustedProxies : false,
    bodyLimit: 64 * 1024,
    genReqId: () => crypto.randomUUID(),
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    routerOptions: { ignoreTrailingSlash: false },
    serverFactory: (handler) => createLimitedServer(config, handler),
  });

  // Languages and branding first: a bad logo or override file stops the start with the key to fix.
  app.decorate('pageKit', createPageKit(config, pageKitDirs()));
  const state = deps.state ?? (await openState(config, app.log));
  const lockout = deps.lockout ?? (await createSmartLockout(config, deps.directory, state.lockout, app.log));
  const signingKeys = deps.signingKeys ?? new SigningKeyRing(deps.signingKey);
  const activity = new ActivityRecorder(state.activity, config.activity.retentionDays * 86_400_000, app.log);
  app.addHook('onClose', async () => {
    // The last events reach the store before it closes.
    await activity.flush();
    await state.close();
  });
  const services: Services = {
    config,
    directory: deps.directory,
    get signingKey() {
      return signingKeys.current;
    },
    signingKeys,
    relyingParties: new RelyingPartyRegistry(config.relyingParties, { stateDir: config.stateDir, log: app.log }),
    sessions: new SessionStore(deps.sessionKeys, config.session, config.publicUrl, state.revocations),
    accounts: new AccountCache(deps.directory, config.session.accountRecheckSeconds),
    lockout,
    passwords: new PasswordVerifier(deps.directory, lockout, activity),
    state,
    mfa: config.mfa.enabled
      ? new MfaService(config.mfa, state.mfa, deps.mfaKeys ?? loadSessionKeys(config.mfa.keyFile, 'mfa.keyFile', 'run "gatehouse mfa init-key"'), state.replay, webAuthnRp(config.publicUrl, config.mfa.totp.issuer))
      : undefined,
    activity,
    lifecycle: { draining: false },
    serverProcesses: Math.max(1, deps.serverProcesses ?? 1),
  };
  app.decorate('gatehouse', services);
  observeForMetrics(app, services);
  // SAML 2.0 SP metadata from URLs: fetched before the first request, refreshed in the background.
  await services.relyingParties.start();
  app.addHook('onClose', async () => services.relyingParties.stop());

  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(cookie);
  // Double-submit token for every form; the secret cookie is SameSite=Strict (forms post to our own pages).
  await app.register(csrf, {
    cookieKey: 'gatehouse_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', secure: config.publicUrl.startsWith('https:') },
  });
  // Pages set their own CSP (the auto-post page allows the relying party's origin as form-action).
  await app.register(helmet, {
    contentSecurityPolicy: false,
    strictTransportSecurity: config.publicUrl.startsWith('https:') ? { maxAge: 31536000 } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(view, {
    engine: { eta: new Eta({ views: VIEWS, cache: true, autoEscape: true }) },
    templates: VIEWS,
    viewExt: 'eta',
    // Templates never change while the server runs: compile each once (the default recompiles per request
    // unless NODE_ENV=production, about 1 ms of every sign-in).
    production: true,
  });

  app.setErrorHandler((err: FastifyError | GatehouseError, request, reply) => {
    let ghErr: GatehouseError;
    if (err instanceof GatehouseError) ghErr = err;
    else if ((err as FastifyError).validation) ghErr = new GatehouseError('GH_BAD_REQUEST', { detail: err.message });
    else if (String((err as FastifyError).code ?? '').startsWith('FST_CSRF')) ghErr = new GatehouseError('GH_CSRF', { detail: err.message });
    else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
      ghErr = new GatehouseError('GH_BAD_REQUEST', { detail: err.message });
    } else ghErr = new GatehouseError('GH_INTERNAL', { detail: err.message, cause: err });
    if (ghErr.status >= 500 && ghErr.code !== 'GH_DIRECTORY_UNAVAILABLE') request.log.error({ err, code: ghErr.code }, 'request failed');
    else request.log.warn({ code: ghErr.code, detail: ghErr.detail }, 'request refused');
    if (ghErr.code === 'GH_DIRECTORY_UNAVAILABLE') reply.header('retry-after', '30');
    return renderPage(
      reply,
      'error',
      {
        titleKey: ghErr.isSignOutProblem ? 'error.titleSignOut' : 'error.title',
        headingKey: ghErr.status >= 500 ? 'error.headingUnavailable' : ghErr.isSignOutProblem ? 'error.headingSignOut' : 'error.heading',
        message: errorText(reply, ghErr),
        correlationId: request.id,
      },
      ghErr.status,
    );
  });
  app.setNotFoundHandler((request, reply) =>
    renderPage(reply, 'error', { titleKey: 'notFound.title', headingKey: 'notFound.heading', messageKey: 'notFound.message', correlationId: request.id }, 404),
  );

  // The stylesheet (with the branding's colours) and pictures: pages link them with ?v=<content hash>.
  const { css, logo, illustration } = app.pageKit;
  app.get(PORTAL_PATHS.css, (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(css),
  );
  if (logo) app.get(PORTAL_PATHS.logo, (_req, reply) => reply.headers(imageHeaders(logo)).send(logo.body));
  if (illustration) app.get(PORTAL_PATHS.illustration, (_req, reply) => reply.headers(imageHeaders(illustration)).send(illustration.body));

  if (services.mfa) await app.register(mfaStaticRoutes);
  await app.register(portalRoutes);
  await app.register(frontDoorRoutes, { sessionKeys: deps.sessionKeys });
  await app.register(saml2Routes, { sessionKeys: deps.sessionKeys });
  await app.register(wsTrustRoutes);
  await app.register(metadataRoutes);
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(activityRoutes);
  if (services.mfa && config.mfa.selfService.enabled) await app.register(mfaPortalRoutes);
  return app;
}

/** Request latency per route pattern, and the gauges read at scrape time from this app's services. */
function observeForMetrics(app: FastifyInstance, services: Services): void {
  app.addHook('onResponse', (request, reply, done) => {
    // The route's pattern (never the URL, which carries user input); unmatched requests share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe({ method: request.method, route, status: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
    done();
  });
  let lockedReadAt = 0;
  const stops = [
    refreshOnScrape(certificateDays, () => {
      const [current, next] = services.signingKeys.published();
      const days = (d: Date) => (d.getTime() - Date.now()) / 86_400_000;
      certificateDays.reset();
      if (current) certificateDays.set({ slot: 'current' }, days(current.notAfter));
      if (next) certificateDays.set({ slot: 'next' }, days(next.notAfter));
    }),
    refreshOnScrape(lockedLocations, async () => {
      // Reads every account's counters: at most every 15 s, however often (and by however many workers) it is scraped.
      if (Date.now() - lockedReadAt < 15_000) return;
      lockedReadAt = Date.now();
      const counts = await services.lockout.lockedCounts();
      for (const [location, n] of Object.entries(counts)) lockedLocations.set({ location }, n);
    }),
  ];
  app.addHook('onClose', async () => stops.forEach((stop) => stop()));
}

export { ERRORS };
