import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatehouseError } from '../errors.js';
import { clientAddresses } from '../http/client-address.js';
import { renderPage } from '../http/pages.js';
import { publicUrlOf } from '../http/public-url.js';
import { renderLogin } from '../authn/login-page.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from '../authn/forms.js';
import type { Session } from '../authn/session.js';
import { activityReport } from './report.js';

const PATH = '/adfs/portal/activity';
const RESET_PATH = `${PATH}/reset`;

const querySchema = { type: 'object', properties: { user: { type: 'string', maxLength: 256 }, reset: { type: 'string', maxLength: 256 } } } as const;
const resetSchema = {
  type: 'object',
  required: ['user'],
  properties: { _csrf: { type: 'string', maxLength: 200 }, user: { type: 'string', minLength: 1, maxLength: 256 }, location: { type: 'string', enum: ['familiar', 'unknown', 'all'] } },
  additionalProperties: false,
} as const;

const iso = (t: number) => (t ? new Date(t).toISOString().replace('.000Z', 'Z') : '–');

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
      return renderPage(reply, 'error', { title: 'Activity', heading: 'The activity page is not set up', message: 'An administrator must name the help desk\'s AD group in activity.adminGroup first.', correlationId: request.id }, 404);
    }
    const session: Session | undefined = await sessions.read(request);
    const user = session ? await directory.findByDn(session.dn) : undefined;
    if (!session || !user) {
      if (offerLogin) return renderLogin(request, reply, config, { rp: { id: 'activity', name: 'Sign-in activity (help desk)' } });
      return renderPage(reply, 'error', { title: 'Not signed in', heading: 'You are not signed in', message: 'Open the activity page and sign in there first.', correlationId: request.id }, 403);
    }
    const name = user.userPrincipalName ?? user.sAMAccountName;
    if (!(await directory.isMemberOf(user.dn, group))) {
      request.log.warn({ event: 'activity_page_refused', user: name }, 'activity page: not a member of activity.adminGroup');
      return renderPage(
        reply,
        'error',
        {
          title: 'Not allowed',
          heading: 'You may not see sign-in activity',
          message: `You are signed in as ${name}, who is not in the help desk's group. Ask an administrator to add you to it, or sign out and sign in as a help-desk user.`,
          correlationId: request.id,
        },
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
    return renderPage(reply, 'activity', {
      title: 'Sign-in activity',
      admin: who.name,
      user: user ?? '',
      reset: request.query.reset,
      retentionDays: config.activity.retentionDays,
      action: publicUrlOf(request, config.publicUrl).split('?')[0],
      resetAction: `${config.publicUrl}${RESET_PATH}`,
      csrf: reply.generateCsrf(),
      events: report.events.map((e) => ({ ...e, when: iso(e.time), source: e.addresses.join(', ') })),
      lockouts: report.lockouts.map((r) => ({
        user: r.userName,
        badUnknown: r.badUnknown,
        badFamiliar: r.badFamiliar,
        lastBad: iso(Math.max(r.lastBadUnknown, r.lastBadFamiliar)),
        locked: [lockout.isLocked(r, 'unknown', now) ? 'unknown locations' : '', lockout.isLocked(r, 'familiar', now) ? 'familiar locations' : ''].filter(Boolean).join(', ') || 'no',
      })),
      spray: report.spray.map((s) => ({ ...s, firstAt: iso(s.first), lastAt: iso(s.last) })),
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
          return renderLogin(request, reply, config, { rp: { id: 'activity', name: 'Sign-in activity (help desk)' }, username: b.UserName, error: err });
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
      return reply.redirect(back.toString(), 303);
    },
  );
}

export const activityRoutes = fp(activityPage, {
  name: 'gatehouse-activity-page',
  decorators: { fastify: ['gatehouse', 'csrfProtection'] },
});
