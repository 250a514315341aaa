import type { FastifyRequest } from 'fastify';
import type { CredentialForm } from '../authn/forms.js';
import { clientAddresses } from '../http/client-address.js';
import type { SignInRequest } from './sign-in.js';

/**
 * The request shape with what is left unsaid filled in: the endpoint is the protocol's name, the answer
 * goes to the registered default, nothing special is asked of the authentication, and the client's
 * addresses are the connection's (behind trusted proxies, X-Forwarded-For).
 */
export function signInRequest(
  http: FastifyRequest,
  r: Pick<SignInRequest, 'protocol' | 'relyingParty'> & Partial<SignInRequest>,
): SignInRequest {
  return { endpoint: r.protocol, reply: {}, authn: {}, hints: {}, ...r, addresses: r.addresses ?? clientAddresses(http) };
}

/** The login form, when this request is the form posted back to the page that showed it. */
export function postedLoginForm(http: FastifyRequest): CredentialForm | undefined {
  return http.method === 'POST' ? (http.body as CredentialForm) : undefined;
}
