// /v1.0/users: the user resource as documented for Microsoft Graph v1.0 (the properties the sync uses).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from './context.js';
import { ODataError, parseFilter, project } from './odata.js';

export interface EmulatedUser extends Record<string, unknown> {
  id: string;
  userPrincipalName: string;
  onPremisesImmutableId: string | null;
  accountEnabled: boolean;
  displayName: string;
}

const WRITABLE = new Set([
  'accountEnabled', 'displayName', 'givenName', 'surname', 'mail', 'mailNickname', 'userPrincipalName', 'jobTitle', 'department',
  'companyName', 'officeLocation', 'businessPhones', 'mobilePhone', 'faxNumber', 'streetAddress', 'city', 'state', 'postalCode',
  'country', 'employeeId', 'usageLocation', 'onPremisesImmutableId', 'passwordProfile', 'preferredLanguage',
]);
/** What GET /users returns without $select (Graph v1.0 default set). */
const DEFAULT_SELECT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName'];
const FILTERABLE = new Set(['onPremisesImmutableId', 'userPrincipalName', 'mail', 'displayName', 'accountEnabled', 'id', 'mailNickname', 'givenName', 'surname', 'employeeId']);

/** The tenant's users; soft-deleted ones move to `deleted` (as /directory/deletedItems). */
export class UserStore {
  readonly users = new Map<string, EmulatedUser>();
  readonly deleted = new Map<string, EmulatedUser>();

  all(): EmulatedUser[] {
    return [...this.users.values()];
  }
  byUpn(upn: string): EmulatedUser | undefined {
    return this.all().find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
  }
  byImmutableId(id: string): EmulatedUser | undefined {
    return this.all().find((u) => u.onPremisesImmutableId === id);
  }
  find(idOrUpn: string): EmulatedUser | undefined {
    return this.users.get(idOrUpn) ?? (idOrUpn.includes('@') ? this.byUpn(idOrUpn) : undefined);
  }
}

/** Validation shared by create and update; returns an error message or undefined. */
function validate(ctx: EmulatorContext, store: UserStore, body: Record<string, unknown>, self?: EmulatedUser): string | undefined {
  for (const k of Object.keys(body)) {
    if (k.startsWith('@odata')) continue;
    if (!WRITABLE.has(k)) return `Property '${k}' does not exist as a declared property or extension property.`;
  }
  const upn = body.userPrincipalName;
  if (upn !== undefined) {
    if (typeof upn !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(upn)) return 'Invalid value specified for property \'userPrincipalName\' of resource \'User\'.';
    const domain = upn.split('@')[1]!.toLowerCase();
    if (!ctx.options.domains.some((d) => d.toLowerCase() === domain)) {
      return 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.';
    }
    const other = store.byUpn(upn);
    if (other && other !== self) return 'Another object with the same value for property userPrincipalName already exists.';
  }
  const iid = body.onPremisesImmutableId;
  if (iid !== undefined && iid !== null) {
    const other = store.byImmutableId(String(iid));
    if (other && other !== self) return 'Another object with the same value for property onPremisesImmutableId already exists.';
  }
  if (body.businessPhones !== undefined && (!Array.isArray(body.businessPhones) || body.businessPhones.length > 1)) {
    return "Invalid value specified for property 'businessPhones' of resource 'User'.";
  }
  return undefined;
}

export function registerUserRoutes(app: FastifyInstance, ctx: EmulatorContext, store: UserStore): void {
  const context = () => `${ctx.baseUrl}/v1.0/$metadata#users`;

  app.get('/v1.0/users', (req, reply) => {
    if (!ctx.authenticate(req, reply)) return reply;
    const q = req.query as Record<string, string | undefined>;
    let items = store.all();
    if (q.$filter) {
      try {
        const p = parseFilter(q.$filter, FILTERABLE);
        items = items.filter(p);
      } catch (err) {
        if (err instanceof ODataError) return ctx.error(reply, 400, 'Request_UnsupportedQuery', err.message);
        throw err;
      }
    }
    const top = q.$top === undefined ? (ctx.options.defaultPageSize ?? 100) : Number(q.$top);
    if (!Number.isInteger(top) || top < 1 || top > 999) {
      return ctx.error(reply, 400, 'Request_BadRequest', `Invalid page size specified: '${q.$top}'. Must be between 1 and 999 inclusive.`);
    }
    const skip = q.$skiptoken ? Number(Buffer.from(q.$skiptoken, 'base64url').toString().replace(/^offset:/, '')) : 0;
    const select = q.$select?.split(',').map((s) => s.trim()).filter(Boolean);
    const page = items.slice(skip, skip + top).map((u) => project(u, select, DEFAULT_SELECT));
    const body: Record<string, unknown> = { '@odata.context': context(), value: page };
    if (skip + top < items.length) {
      const next = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined && k !== '$skiptoken') next.set(k, v);
      next.set('$skiptoken', Buffer.from(`offset:${skip + top}`).toString('base64url'));
      body['@odata.nextLink'] = `${ctx.baseUrl}/v1.0/users?${next.toString()}`;
    }
    return reply.send(body);
  });

  app.get<{ Params: { id: string } }>('/v1.0/users/:id', (req, reply) => {
    if (!ctx.authenticate(req, reply)) return reply;
    const u = store.find(req.params.id);
    if (!u) return ctx.error(reply, 404, 'Request_ResourceNotFound', `Resource '${req.params.id}' does not exist or one of its queried reference-property objects are not present.`);
    const select = (req.query as Record<string, string | undefined>).$select?.split(',');
    return reply.send({ '@odata.context': `${context()}/$entity`, ...project(u, select, DEFAULT_SELECT) });
  });

  app.post('/v1.0/users', (req, reply) => {
    const client = ctx.authenticate(req, reply);
    if (!client) return reply;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const missing = ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'passwordProfile'].find((k) => body[k] === undefined || body[k] === null);
    if (missing) return ctx.error(reply, 400, 'Request_BadRequest', `Property '${missing}' is required when creating the entity 'User'.`);
    const invalid = validate(ctx, store, body);
    if (invalid) return ctx.error(reply, 400, 'Request_BadRequest', invalid);
    // Documented: onPremisesImmutableId must be given when the UPN uses a federated domain (all of ours are).
    if (!body.onPremisesImmutableId) return ctx.error(reply, 400, 'Request_BadRequest', "Property 'onPremisesImmutableId' is required for a user on a federated domain.");
    const pw = body.passwordProfile as { password?: string } | undefined;
    if (!pw?.password || pw.password.length < 8) return ctx.error(reply, 400, 'Request_BadRequest', 'The specified password does not comply with password complexity requirements.');
    if (!ctx.allowWrite(client, reply, req)) return reply;
    const { passwordProfile: _pw, ...rest } = body;
    const user: EmulatedUser = {
      businessPhones: [],
      ...Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('@odata'))),
      id: randomUUID(),
      createdDateTime: new Date().toISOString(),
    } as unknown as EmulatedUser;
    store.users.set(user.id, user);
    return reply.code(201).send({ '@odata.context': `${context()}/$entity`, ...user });
  });

  app.patch<{ Params: { id: string } }>('/v1.0/users/:id', (req, reply) => {
    const client = ctx.authenticate(req, reply);
    if (!client) return reply;
    const u = store.find(req.params.id);
    if (!u) return ctx.error(reply, 404, 'Request_ResourceNotFound', `Resource '${req.params.id}' does not exist or one of its queried reference-property objects are not present.`);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const invalid = validate(ctx, store, body, u);
    if (invalid) return ctx.error(reply, 400, 'Request_BadRequest', invalid);
    if (!ctx.allowWrite(client, reply, req)) return reply;
    for (const [k, v] of Object.entries(body)) if (k !== 'passwordProfile') (u as Record<string, unknown>)[k] = v;
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string } }>('/v1.0/users/:id', (req, reply) => {
    const client = ctx.authenticate(req, reply);
    if (!client) return reply;
    const u = store.find(req.params.id);
    if (!u) return ctx.error(reply, 404, 'Request_ResourceNotFound', `Resource '${req.params.id}' does not exist or one of its queried reference-property objects are not present.`);
    if (!ctx.allowWrite(client, reply, req)) return reply;
    store.users.delete(u.id);
    store.deleted.set(u.id, { ...u, deletedDateTime: new Date().toISOString() });
    return reply.code(204).send();
  });

  // Documented: POST /directory/deletedItems/{id}/restore brings a soft-deleted user back with its id
  // (200 and the object); it fails while an active user holds its UPN or onPremisesImmutableId.
  app.post<{ Params: { id: string } }>('/v1.0/directory/deletedItems/:id/restore', (req, reply) => {
    const client = ctx.authenticate(req, reply);
    if (!client) return reply;
    const u = store.deleted.get(req.params.id);
    if (!u) return ctx.error(reply, 404, 'Request_ResourceNotFound', `Resource '${req.params.id}' does not exist or one of its queried reference-property objects are not present.`);
    const { deletedDateTime: _d, ...user } = u as EmulatedUser & { deletedDateTime?: string };
    const conflict = validate(ctx, store, { userPrincipalName: user.userPrincipalName, onPremisesImmutableId: user.onPremisesImmutableId });
    if (conflict) return ctx.error(reply, 400, 'Request_BadRequest', conflict);
    if (!ctx.allowWrite(client, reply, req)) return reply;
    store.deleted.delete(u.id);
    store.users.set(u.id, user as EmulatedUser);
    return reply.code(200).send({ '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryObjects/$entity`, '@odata.type': '#microsoft.graph.user', ...user });
  });
}
