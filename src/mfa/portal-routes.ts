import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatehouseError } from '../errors.js';
import { clientAddresses } from '../http/client-address.js';
import { insideCorporateNetwork } from '../http/network-location.js';
import { pageText } from '../http/pages.js';
import { renderLogin } from '../authn/login-page.js';
import { credentialFormSchema, credentialRateLimits } from '../authn/forms.js';
import type { Session } from '../authn/session.js';
import type { DirectoryUser } from '../directory/user.js';
import { renderCodePage, renderEnrolPage, renderPortalPage, renderRecoveryCodesPage } from './pages.js';
import { alwaysRequired } from './policy.js';
import { accountKey, MfaService, type Factors } from './service.js';
import { groupedSecret, qrSvg, totpUri } from './totp.js';

/** The self-service page, beside ADFS's other portal pages (/adfs/portal/updatepassword). */
export const MFA_PORTAL_PATH = '/adfs/portal/mfa';

/** What the page's forms post: the sign-in (password, then the second factor), then the changes. */
const ACTIONS = [
  'signIn',
  'mfaCode',
  'mfaRecovery',
  'mfaWebauthn',
  'mfaAddTotp',
  'mfaEnrol',
  'mfaEnrolWebauthn',
  'mfaRenameKey',
  'mfaRemoveKey',
  'mfaRemoveTotp',
  'mfaNewRecoveryCodes',
  'mfaContinue',
] as const;
type Action = (typeof ACTIONS)[number];

interface PortalForm {
  Action?: Action;
  UserName?: string;
  Password?: string;
  Kmsi?: string;
  Code?: string;
  Enrolment?: string;
  WebauthnState?: string;
  WebauthnResponse?: string;
  KeyName?: string;
  KeyId?: string;
}

const p = credentialFormSchema.properties;
const bodySchema = {
  type: 'object',
  properties: {
    _csrf: p._csrf,
    Action: { type: 'string', enum: ACTIONS },
    UserName: p.UserName,
    Password: p.Password,
    Kmsi: p.Kmsi,
    Code: p.Code,
    Enrolment: p.Enrolment,
    WebauthnState: p.WebauthnState,
    WebauthnResponse: p.WebauthnResponse,
    KeyName: p.KeyName,
    // A credential ID (base64url).
    KeyId: { type: 'string', maxLength: 1024, pattern: '^[A-Za-z0-9_-]+$' },
  },
  additionalProperties: false,
} as const;

/** The changes the page confirms after its redirect (?done=…): a fixed list, never text from the request. */
const DONE = ['totpAdded', 'totpRemoved', 'keyAdded', 'keyRenamed', 'keyRemoved'] as const;
const querySchema = { type: 'object', properties: { done: { type: 'string', enum: DONE } } } as const;

/** Where the visitor stands: not (or too long ago) signed in, the second factor still to give, or ready. */
interface SignedIn {
  session: Session;
  user: DirectoryUser;
  factors: Factors | undefined;
}
type Ready = SignedIn & { kind: 'ready' };
type Stage = { kind: 'signIn'; stale: boolean; username?: string | undefined } | (SignedIn & { kind: 'secondFactor' }) | Ready;

/**
 * The page where users manage their own factors: add an authenticator app or a passkey, rename or remove
 * a passkey, remove the app, new recovery codes. Changing factors needs a recent full sign-in
 * (mfa.selfService.freshMinutes): the password and, for a user who has a factor, the second factor, both
 * given that recently, here or at a sign-in to an application. An older session cookie (a stolen one, a
 * browser left signed in) gets the sign-in again, never the page.
 */
async function mfaPortal(app: FastifyInstance): Promise<void> {
  const { config, sessions, accounts, passwords, directory } = app.gatehouse;
  const mfa = app.gatehouse.mfa!;
  const { publicUrl } = config;
  const action = `${publicUrl.replace(/\/+$/, '')}${MFA_PORTAL_PATH}`;
  const fresh = (t: number) => t >= Date.now() - config.mfa.selfService.freshMinutes * 60_000;

  async function stageOf(request: FastifyRequest): Promise<Stage> {
    const session = await sessions.read(request);
    const user = session && (await accounts.findByDn(session.dn));
    if (!session || !user) return { kind: 'signIn', stale: false };
    if (!fresh(session.authInstant)) return { kind: 'signIn', stale: true, username: session.upn };
    const factors = await mfa.factorsOf(user);
    const proven = session.mfa !== undefined && session.mfa.at >= session.authInstant && fresh(session.mfa.at);
    return MfaService.hasFactor(factors) && !proven ? { kind: 'secondFactor', session, user, factors } : { kind: 'ready', session, user, factors };
  }

  const audit = (request: FastifyRequest, event: string, user: DirectoryUser, session: Session | undefined, extra: Record<string, unknown> = {}) =>
    request.log.info({ event, user: user.userPrincipalName ?? user.sAMAccountName, realm: 'mfa-portal', addresses: clientAddresses(request), sid: session?.sid, ...extra }, event.replace(/_/g, ' '));

  const login = (request: FastifyRequest, reply: FastifyReply, opts: { stale?: boolean; username?: string | undefined; error?: GatehouseError }) => {
    const t = pageText(reply).t;
    return renderLogin(request, reply, config, {
      rp: { id: 'mfa-portal', name: t('mfaPortal.appName'), signInText: opts.stale ? t('mfaPortal.signInAgain') : undefined },
      username: opts.username,
      error: opts.error,
    });
  };

  const codePage = async (request: FastifyRequest, reply: FastifyReply, user: DirectoryUser, factors: Factors | undefined, error?: GatehouseError, recoveryOpen = false) =>
    renderCodePage(request, reply, publicUrl, { totp: Boolean(factors?.totp), webauthn: await mfa.startWebauthnAuthentication(user, factors), error, recoveryOpen });

  const dateOf = (reply: FastifyReply) => {
    const format = new Intl.DateTimeFormat(pageText(reply).lang, { dateStyle: 'medium' });
    return (t: number) => format.format(new Date(t));
  };

  const portalPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    s: Ready,
    extra: { done?: string | undefined; error?: GatehouseError; refusal?: string } = {},
  ) => {
    const summary = MfaService.summary(s.factors);
    const date = dateOf(reply);
    const count = (summary.totp ? 1 : 0) + summary.keys.length;
    return renderPortalPage(request, reply, publicUrl, action, {
      user: s.user.userPrincipalName ?? s.user.sAMAccountName,
      totp: summary.totp && { added: date(summary.totp.added) },
      keys: summary.keys.map((k) => ({ id: k.id, name: k.name, added: date(k.added), lastUsed: k.lastUsed === undefined ? undefined : date(k.lastUsed) })),
      recoveryLeft: summary.recoveryLeft,
      lastFactor: count === 1 ? ((await mayRemoveLast(s.user)) ? 'mayGo' : 'kept') : undefined,
      done: extra.done,
      webauthn: await mfa.startWebauthnRegistration(s.user, s.factors),
      error: extra.error,
      refusal: extra.refusal,
    });
  };

  const mayRemoveLast = async (user: DirectoryUser) => !(await alwaysRequired(mfa.config, user, (dn, group) => directory.isMemberOf(dn, group)));

  const showEnrolment = async (request: FastifyRequest, reply: FastifyReply, user: DirectoryUser, secret: string, token: string, error?: GatehouseError) =>
    renderEnrolPage(request, reply, publicUrl, {
      qrSvg: await qrSvg(totpUri(secret, mfa.config.totp.issuer, user.userPrincipalName ?? user.sAMAccountName)),
      secret: groupedSecret(secret),
      token,
      canSkip: false,
      error,
      selfService: true,
    });

  const back = (reply: FastifyReply, done?: (typeof DONE)[number]) => reply.redirect(done ? `${action}?done=${done}` : action, 303);

  /** The page for where the visitor stands, when it is not the self-service page itself. */
  const notReady = (request: FastifyRequest, reply: FastifyReply, s: Stage) =>
    s.kind === 'signIn' ? login(request, reply, { stale: s.stale, username: s.username }) : s.kind === 'secondFactor' ? codePage(request, reply, s.user, s.factors) : undefined;

  app.get<{ Querystring: { done?: string } }>(MFA_PORTAL_PATH, { schema: { querystring: querySchema } }, async (request, reply) => {
    const s = await stageOf(request);
    if (s.kind !== 'ready') return notReady(request, reply, s);
    return portalPage(request, reply, s, { done: request.query.done });
  });

  app.post<{ Body: PortalForm }>(
    MFA_PORTAL_PATH,
    { schema: { body: bodySchema }, preHandler: [...credentialRateLimits(app), app.csrfProtection] },
    async (request, reply) => {
      const b = request.body;
      const act: Action = b.Action ?? 'signIn';
      if (act === 'signIn') return signIn(request, reply, b);
      const s = await stageOf(request);
      if (act === 'mfaCode' || act === 'mfaRecovery' || act === 'mfaWebauthn') {
        if (s.kind === 'signIn') return notReady(request, reply, s);
        return secondFactor(request, reply, s, act, b);
      }
      // Every change needs the full, recent sign-in; without it the sign-in is asked for and nothing changes.
      if (s.kind !== 'ready') {
        request.log.warn({ event: 'mfa_portal_refused', action: act, stage: s.kind, stale: s.kind === 'signIn' && s.stale }, 'self-service page: a change without a recent sign-in');
        return notReady(request, reply, s);
      }
      return change(request, reply, s, act, b);
    },
  );

  /** The password: a session starts (or the browser's session of the same user is renewed), then the page again. */
  async function signIn(request: FastifyRequest, reply: FastifyReply, b: PortalForm) {
    let user: DirectoryUser;
    try {
      user = await passwords.verify(
        { username: b.UserName ?? '', password: b.Password ?? '', addresses: clientAddresses(request), protocol: 'mfa-portal', correlationId: request.id },
        request.log,
      );
    } catch (err) {
      if (err instanceof GatehouseError && err.status < 500) return login(request, reply, { username: b.UserName, error: err });
      throw err;
    }
    accounts.remember(user);
    const current = await sessions.read(request);
    const now = Date.now();
    // The same user's session keeps its relying parties (single logout) and gets the new sign-in instant.
    const session = current && current.dn === user.dn ? { ...current, authInstant: now } : sessions.start(user, b.Kmsi === 'true', now);
    sessions.write(reply, session);
    audit(request, 'mfa_portal_signin', user, session);
    return back(reply);
  }

  async function secondFactor(request: FastifyRequest, reply: FastifyReply, s: SignedIn, act: Action, b: PortalForm) {
    const kind = act === 'mfaCode' ? 'totp' : act === 'mfaRecovery' ? 'recovery' : 'webauthn';
    try {
      const method = kind === 'webauthn' ? await mfa.verifyWebauthn(s.user, b.WebauthnState, b.WebauthnResponse ?? '') : await mfa.verify(s.user, b.Code ?? '', kind);
      const session: Session = { ...s.session, mfa: { at: Date.now(), methods: [method] } };
      sessions.write(reply, session);
      audit(request, 'mfa_verified', s.user, session, { method });
      return back(reply);
    } catch (err) {
      if (!(err instanceof GatehouseError) || (err.code !== 'GH_MFA_CODE_WRONG' && err.code !== 'GH_MFA_LOCKED')) throw err;
      audit(request, err.code === 'GH_MFA_LOCKED' ? 'mfa_locked' : 'mfa_failed', s.user, s.session, { method: kind, detail: err.detail });
      return codePage(request, reply, s.user, s.factors, err, kind === 'recovery');
    }
  }

  async function change(request: FastifyRequest, reply: FastifyReply, s: Ready, act: Action, b: PortalForm) {
    const { user, session, factors } = s;
    const account = accountKey(user);
    /**
     * A first factor was just proven (its first code, a registration with user verification): it is the
     * session's second factor now, as after enrolment at a sign-in, so the page stays open.
     */
    const added = (method: string) => {
      if (!MfaService.hasFactor(factors)) sessions.write(reply, { ...session, mfa: { at: Date.now(), methods: [method] } });
      audit(request, 'mfa_factor_added', user, session, { method, account, ...(method === 'totp' ? { replaced: Boolean(factors?.totp) } : {}) });
    };
    // A first factor from outside when mfa.enrolment.onlyFromCorporateNetwork: the same rule as at sign-in
    // (a stolen password alone must not enrol the thief's app from anywhere).
    const adding = act === 'mfaAddTotp' || act === 'mfaEnrol' || act === 'mfaEnrolWebauthn';
    if (adding && !MfaService.hasFactor(factors) && mfa.config.enrolment.onlyFromCorporateNetwork && !insideCorporateNetwork(request, config.network)) {
      return portalPage(request, reply, s, { error: new GatehouseError('GH_MFA_ENROL_INSIDE_ONLY', { detail: `${user.userPrincipalName}: self-service enrolment from outside` }) });
    }
    switch (act) {
      case 'mfaAddTotp': {
        const started = mfa.startTotpEnrolment(user);
        return showEnrolment(request, reply, user, started.secret, started.token);
      }
      case 'mfaEnrol': {
        const secret = mfa.pendingSecret(user, b.Enrolment);
        if (!secret) {
          const started = mfa.startTotpEnrolment(user);
          return showEnrolment(request, reply, user, started.secret, started.token);
        }
        try {
          const codes = await mfa.confirmTotp(user, secret, b.Code ?? '');
          added('totp');
          return codes.length ? renderRecoveryCodesPage(request, reply, publicUrl, codes) : back(reply, 'totpAdded');
        } catch (err) {
          if (!(err instanceof GatehouseError) || err.code !== 'GH_MFA_CODE_WRONG') throw err;
          return showEnrolment(request, reply, user, secret, b.Enrolment!, err);
        }
      }
      case 'mfaEnrolWebauthn': {
        try {
          const codes = await mfa.confirmWebauthn(user, b.WebauthnState, b.WebauthnResponse ?? '', b.KeyName ?? '');
          added('webauthn');
          return codes.length ? renderRecoveryCodesPage(request, reply, publicUrl, codes) : back(reply, 'keyAdded');
        } catch (err) {
          if (!(err instanceof GatehouseError) || err.code !== 'GH_MFA_CODE_WRONG') throw err;
          audit(request, 'mfa_failed', user, session, { method: 'webauthn', detail: err.detail });
          return portalPage(request, reply, s, { error: err });
        }
      }
      case 'mfaRenameKey': {
        if (!b.KeyId || !(await mfa.renameKey(user, b.KeyId, b.KeyName ?? ''))) return portalPage(request, reply, s, { refusal: 'keyGone' });
        audit(request, 'mfa_factor_renamed', user, session, { method: 'webauthn' });
        return back(reply, 'keyRenamed');
      }
      case 'mfaRemoveKey':
      case 'mfaRemoveTotp': {
        const which = act === 'mfaRemoveTotp' ? 'totp' : b.KeyId ? { key: b.KeyId } : undefined;
        const outcome = which ? await mfa.removeFactor(user, which, await mayRemoveLast(user)) : 'notFound';
        if (outcome === 'lastFactor') {
          audit(request, 'mfa_portal_refused', user, session, { action: act, why: 'last factor, MFA required' });
          return portalPage(request, reply, s, { refusal: 'lastFactor' });
        }
        if (outcome === 'notFound') return portalPage(request, reply, s, { refusal: 'keyGone' });
        audit(request, 'mfa_factor_removed', user, session, { method: which === 'totp' ? 'totp' : 'webauthn', account });
        return back(reply, which === 'totp' ? 'totpRemoved' : 'keyRemoved');
      }
      case 'mfaNewRecoveryCodes': {
        if (!MfaService.hasFactor(factors)) return back(reply);
        const codes = await mfa.newRecoveryCodes(user);
        audit(request, 'mfa_recovery_codes_renewed', user, session, { account });
        return renderRecoveryCodesPage(request, reply, publicUrl, codes, true);
      }
      default:
        // mfaContinue (after the recovery codes), or a sign-in form posted again: the page.
        return back(reply);
    }
  }
}

export const mfaPortalRoutes = fp(mfaPortal, {
  name: 'gatehouse-mfa-portal',
  decorators: { fastify: ['gatehouse', 'csrfProtection'] },
});
