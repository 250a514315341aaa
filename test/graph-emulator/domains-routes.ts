// /v1.0/domains/{id}/federationConfiguration: Graph's internalDomainFederation as documented for v1.0.
// List: GET .../federationConfiguration -> { value: [at most one] }. Create: POST -> 201 with the object
// (an id added). Get, update (PATCH -> 200 with the updated object), delete: .../federationConfiguration/{id}.
// Register with `startGraphEmulator({ ..., routes: [federationRoutes(store)] })`.
import { randomUUID, X509Certificate } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EmulatorContext } from './context.js';
import type { RouteRegistrar } from './emulator.js';

export type FederationObject = Record<string, unknown> & { id: string };

const PROPERTIES = new Set([
  'displayName', 'issuerUri', 'metadataExchangeUri', 'signingCertificate', 'passiveSignInUri', 'preferredAuthenticationProtocol',
  'activeSignInUri', 'signOutUri', 'promptLoginBehavior', 'isSignedAuthenticationRequestRequired', 'nextSigningCertificate',
  'federatedIdpMfaBehavior', 'passwordResetUri',
]);
const ENUMS: Record<string, string[]> = {
  preferredAuthenticationProtocol: ['wsFed', 'saml', 'unknownFutureValue'],
  federatedIdpMfaBehavior: ['acceptIfMfaDoneByFederatedIdp', 'enforceMfaByFederatedIdp', 'rejectMfaByFederatedIdp', 'unknownFutureValue'],
  promptLoginBehavior: ['translateToFreshPasswordAuthentication', 'nativeSupport', 'disabled', 'unknownFutureValue'],
};
const WRITE_ROLES = ['Domain-InternalFederation.ReadWrite.All', 'Domain.ReadWrite.All'];
const READ_ROLES = [...WRITE_ROLES, 'Domain.Read.All', 'Domain-InternalFederation.Read.All'];

/** The federated domains of the tenant, and every write body as received (for assertions). */
export class FederationStore {
  readonly byDomain = new Map<string, FederationObject>();
  readonly received: { method: 'POST' | 'PATCH'; domain: string; id?: string; body: Record<string, unknown> }[] = [];

  /** Puts a configuration in place as if an admin had made it (e.g. a stale ADFS one). */
  seed(domain: string, props: Record<string, unknown>): FederationObject {
    const obj = { '@odata.type': '#microsoft.graph.internalDomainFederation', id: randomUUID(), ...props } as FederationObject;
    this.byDomain.set(domain.toLowerCase(), obj);
    return obj;
  }
}

function validate(body: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(body)) {
    if (k === '@odata.type') {
      if (v !== '#microsoft.graph.internalDomainFederation') return `Invalid @odata.type '${String(v)}'.`;
      continue;
    }
    if (!PROPERTIES.has(k)) return `Property '${k}' does not exist as a declared property or extension property.`;
    if (v === null) continue;
    if (ENUMS[k] && !ENUMS[k]!.includes(String(v))) return `Requested value '${String(v)}' was not found.`;
    if ((k === 'signingCertificate' || k === 'nextSigningCertificate') && typeof v === 'string') {
      try {
        new X509Certificate(Buffer.from(v, 'base64'));
      } catch {
        return `Invalid value specified for property '${k}' of resource 'InternalDomainFederation'.`;
      }
    }
  }
  return undefined;
}

export function federationRoutes(store: FederationStore): RouteRegistrar {
  return (app: FastifyInstance, ctx: EmulatorContext) => {
    const domainOf = (id: string, reply: FastifyReply): string | undefined => {
      const d = ctx.options.domains.find((x) => x.toLowerCase() === id.toLowerCase());
      if (!d) ctx.error(reply, 404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
      return d?.toLowerCase();
    };
    const auth = (req: Parameters<EmulatorContext['authenticate']>[0], reply: FastifyReply, roles: string[]): string | undefined => {
      const client = ctx.authenticate(req, reply);
      if (!client) return undefined;
      if (!ctx.hasRole(client, roles)) {
        ctx.error(reply, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
        return undefined;
      }
      return client;
    };
    const context = (domain: string) => `${ctx.baseUrl}/v1.0/$metadata#domains('${domain}')/federationConfiguration`;

    app.get<{ Params: { id: string } }>('/v1.0/domains/:id/federationConfiguration', (req, reply) => {
      if (!auth(req, reply, READ_ROLES)) return reply;
      const d = domainOf(req.params.id, reply);
      if (!d) return reply;
      const obj = store.byDomain.get(d);
      return reply.send({ '@odata.context': context(d), value: obj ? [obj] : [] });
    });

    app.post<{ Params: { id: string } }>('/v1.0/domains/:id/federationConfiguration', (req, reply) => {
      const client = auth(req, reply, WRITE_ROLES);
      if (!client) return reply;
      const d = domainOf(req.params.id, reply);
      if (!d) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      store.received.push({ method: 'POST', domain: d, body });
      const invalid = validate(body);
      if (invalid) return ctx.error(reply, 400, 'Request_BadRequest', invalid);
      for (const k of ['issuerUri', 'signingCertificate', 'passiveSignInUri']) {
        if (!body[k]) return ctx.error(reply, 400, 'Request_BadRequest', `Property '${k}' is required when creating the entity 'InternalDomainFederation'.`);
      }
      if (store.byDomain.has(d)) return ctx.error(reply, 409, 'Request_MultipleObjectsWithSameKeyValue', `Domain '${d}' already has a federation configuration.`);
      if (!ctx.allowWrite(client, reply, req)) return reply;
      const obj = { '@odata.type': '#microsoft.graph.internalDomainFederation', ...body, id: randomUUID() } as FederationObject;
      store.byDomain.set(d, obj);
      return reply.code(201).send({ '@odata.context': `${context(d)}/$entity`, ...obj });
    });

    const find = (domainId: string, fcId: string, reply: FastifyReply): [string, FederationObject] | undefined => {
      const d = domainOf(domainId, reply);
      if (!d) return undefined;
      const obj = store.byDomain.get(d);
      if (!obj || obj.id !== fcId) {
        ctx.error(reply, 404, 'Request_ResourceNotFound', `Resource '${fcId}' does not exist or one of its queried reference-property objects are not present.`);
        return undefined;
      }
      return [d, obj];
    };

    app.get<{ Params: { id: string; fc: string } }>('/v1.0/domains/:id/federationConfiguration/:fc', (req, reply) => {
      if (!auth(req, reply, READ_ROLES)) return reply;
      const found = find(req.params.id, req.params.fc, reply);
      if (!found) return reply;
      return reply.send({ '@odata.context': `${context(found[0])}/$entity`, ...found[1] });
    });

    app.patch<{ Params: { id: string; fc: string } }>('/v1.0/domains/:id/federationConfiguration/:fc', (req, reply) => {
      const client = auth(req, reply, WRITE_ROLES);
      if (!client) return reply;
      const found = find(req.params.id, req.params.fc, reply);
      if (!found) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      store.received.push({ method: 'PATCH', domain: found[0], id: req.params.fc, body });
      const invalid = validate(body);
      if (invalid) return ctx.error(reply, 400, 'Request_BadRequest', invalid);
      if (!ctx.allowWrite(client, reply, req)) return reply;
      const obj = found[1];
      for (const [k, v] of Object.entries(body)) {
        if (k === '@odata.type') continue;
        if (v === null) delete obj[k];
        else obj[k] = v;
      }
      return reply.send({ '@odata.context': `${context(found[0])}/$entity`, ...obj });
    });

    app.delete<{ Params: { id: string; fc: string } }>('/v1.0/domains/:id/federationConfiguration/:fc', (req, reply) => {
      const client = auth(req, reply, WRITE_ROLES);
      if (!client) return reply;
      const found = find(req.params.id, req.params.fc, reply);
      if (!found) return reply;
      if (!ctx.allowWrite(client, reply, req)) return reply;
      store.byDomain.delete(found[0]);
      return reply.code(204).send();
    });
  };
}
