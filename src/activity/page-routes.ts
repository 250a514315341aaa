import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatehouseError } from '../errors.js';
import { clientAddresses } from '../http/client-address.js';
import { pageText, renderPage } from '../http/pages.js';
import { publicUrlOf } from '../http/public-url.js';
import { renderLogin } from '../authn/login-page.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from '../authn/forms.js';
import type { Session } from '../authn/session.js';
import { activityReport } from './report.js';
import { activityView } from './page-view.js';
import { hintQuery } from '../i18n/negotiate.js';

const PATH = '/adfs/portal/activity';
const RESET_PATH = `${PATH}/reset`;

const querySchema = { type: 'object', properties: { user: { type: 'string', maxLength: 256 }, reset: { type: 'string', maxLength: 256 } } } as const;
const resetSchema = {
  type: 'object',
  required: ['user'],
  properties: { _csrf: { type: 'string', maxLength: 200 }, user: { type: 'string', minLength: 1, maxLength: 256 }, location: { type: 'string', enum: ['familiar', 'unknown', 'all'] } },
  additionalProperties: false,
} as const;

/** The request's language hints (ui_locales, mkt, lc), to carry to the page's next request. */
function hintsOf(request: FastifyRequest): URLSearchParams {
  const q = request.url.indexOf('?');
  return new URLSearchParams(hintQuery(q < 0 ? undefined : new URLSearchParams(request.url.slice(q + 1))));
}

/** How the login form names this page ("to continue to Sign-in activity (help desk)"), in the page's language. */
const loginRp = (reply: FastifyReply) => ({ id: 'activity', name: pageText(reply).t('activity.loginName') });

/**
 * The help desk's activity page (read-only, plus a lockout reset): recent sign-ins and refusals, smart
 * lockout's state and the spray report, for members of `activity.adminGroup`. It signs in like any
 * Gatehouse page: the single sign-on session cookie, or the login form here, which starts one.
 */
async function activityPage(app: FastifyInstance): Promise<void> {
  const { config, sessions, directory, passwords, state, lockout, activity } = app.gatehouse;
  const group = config.activity.adminGroup;

  /** The signed-in admin, or the page that answers instead (login form, refusal). */
  const admin = async (request: FastifyRequest, reply: FastifyReply, offerLogin = true): Promise<{ name: string } | FastifyReply> => {
    if (!group) {
      return renderPage(reply, 'error', { titleKey: 'activity.title', headingKey: 'activity.notSetUpHeading', messageKey: 'activity.notSetUpMessage', correlationId: request.id }, 404);
    }
    const session: Session | undefined = await sessions.read(request);
    const user = session ? await directory.findByDn(session.dn) : undefined;
    if (!session || !user) {
      if (offerLogin) return renderLogin(request, reply, config, { rp: loginRp(reply) });
      return renderPage(reply, 'error', { titleKey: 'activity.notSignedInTitle', headingKey: 'activity.notSignedInHeading', messageKey: 'activity.notSignedInMessage', correlationId: request.id }, 403);
    }
    const name = user.userPrincipalName ?? user.sAMAccountName;
    if (!(await directory.isMemberOf(user.dn, group))) {
      request.log.warn({ event: 'activity_page_refused', user: name }, 'activity page: not a member of activity.adminGroup');
      const { t } = pageText(reply);
      return renderPage(
        reply,
        'error',
        { title: t('activity.notAllowedTitle'), heading: t('activity.notAllowedHeading'), message: t('activity.notAllowedMessage', { user: name }), correlationId: request.id },
        403,
      );
    }
    return { name };
  };

  app.get<{ Querystring: { user?: string; reset?: string } }>(PATH, { schema: { querystring: querySchema } }, async (request, reply) => {
    const who = await admin(request, reply);
    if (!('name' in who)) return who;
    const user = request.query.user?.trim() || undefined;
    const report = await activityReport({ activity: state.activity, lockout: state.lockout }, { user, limit: 100 });
    const now = Date.now();
    const hints = hintsOf(request);
    const view = activityView(report, pageText(reply), (r) => ({ unknown: lockout.isLocked(r, 'unknown', now), familiar: lockout.isLocked(r, 'familiar', now) }));
    return renderPage(reply, 'activity', {
      admin: who.name,
      user: user ?? '',
      reset: request.query.reset,
      retentionDays: String(config.activity.retentionDays),
      action: publicUrlOf(request, config.publicUrl).split('?')[0],
      // A GET form drops its action's query: the hints go as fields; the reset's POST keeps them in its URL.
      hintFields: [...hints].map(([name, value]) => ({ name, value })),
      resetAction: `${config.publicUrl}${RESET_PATH}${hints.size ? `?${hints}` : ''}`,
      csrf: reply.generateCsrf(),
      view,
    });
  });

  // The login form of this page: a session like any sign-in's, then the page again.
  app.post<{ Body: CredentialForm }>(
    PATH,
    { schema: { body: credentialFormSchema }, preHandler: [...credentialRateLimits(app), app.csrfProtection] },
    async (request, reply) => {
      const b = request.body;
      try {
        const user = await passwords.verify(
          { username: b.UserName ?? '', password: b.Password ?? '', addresses: clientAddresses(request), protocol: 'activity-page', correlationId: request.id },
          request.log,
        );
        sessions.write(reply, sessions.start(user, false));
        return reply.redirect(publicUrlOf(request, config.publicUrl), 303);
      } catch (err) {
        if (err instanceof GatehouseError && err.status < 500) {
          return renderLogin(request, reply, config, { rp: loginRp(reply), username: b.UserName, error: err });
        }
        throw err;
      }
    },
  );

  app.post<{ Body: { user: string; location?: 'familiar' | 'unknown' | 'all' } }>(
    RESET_PATH,
    { schema: { body: resetSchema }, preHandler: app.csrfProtection },
    async (request, reply) => {
      const who = await admin(request, reply, false);
      if (!('name' in who)) return who;
      const { user } = request.body;
      const location = request.body.location === 'all' ? undefined : request.body.location;
      // The same reset as `gatehouse lockout reset` (src/commands/lockout.ts): the counters in the state store.
      const n = await state.lockout.reset(user, location);
      request.log.warn({ event: 'lockout_reset', user, location: location ?? 'all', by: who.name, accounts: n }, 'smart lockout reset from the activity page');
      activity.record({ time: Date.now(), kind: 'lockout_reset', user, outcome: n ? 'success' : 'failure', protocol: 'activity-page', addresses: clientAddresses(request), correlationId: request.id, detail: `by ${who.name}` });
      const back = new URL(`${config.publicUrl}${PATH}`);
      back.searchParams.set('user', user);
      back.searchParams.set('reset', n ? 'done' : 'none');
      for (const [name, value] of hintsOf(request)) back.searchParams.set(name, value);
      return reply.redirect(back.toString(), 303);
    },
  );
}

export const activityRoutes = fp(activityPage, {
  name: 'gatehouse-activity-page',
  decorators: { fastify: ['gatehouse', 'csrfProtection'] },
});
