import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../../errors.js';
import { renderPage } from '../../http/pages.js';
import { signInRequest } from '../../pipeline/request.js';
import { runSignIn } from '../../pipeline/run.js';
import type { PipelineServices, SignInAdapter } from '../../pipeline/sign-in.js';
import { speaksSaml2 } from '../../relying-parties/registry.js';
import { chooseAcs } from './endpoints.js';
import { redirectToSignInPage, samlAnswer, type SamlSsoMessage } from './sso.js';
import type { Sealer } from '../../crypto/sealed.js';

export const IDP_INITIATED_PATH = '/adfs/ls/idpinitiatedsignon';

interface IdpInitiatedInput {
  loginToRp: string;
  RelayState?: string | undefined;
}

/**
 * IdP-initiated sign-on (ADFS's idpinitiatedsignon page): an unsolicited Response to a relying party the
 * configuration offers (`idpInitiated: true`), at its default ACS, with the RelayState given.
 */
export function idpInitiatedRoutes(app: FastifyInstance, services: PipelineServices, pending: Sealer): void {
  const { relyingParties } = services;
  const offered = () => relyingParties.all().filter((rp) => speaksSaml2(rp) && rp.idpInitiated === true);

  const adapter: SignInAdapter<IdpInitiatedInput, SamlSsoMessage> = {
    ...samlAnswer,
    decode(ctx) {
      const { loginToRp, RelayState } = ctx.input;
      if (!offered().some((rp) => rp.id === loginToRp)) {
        throw new GatehouseError('GH_RP_UNKNOWN', { detail: `${loginToRp} is not offered for IdP-initiated sign-on` });
      }
      return {
        request: signInRequest(ctx.http.request, { protocol: 'saml2', relyingParty: loginToRp }),
        message: { relayState: RelayState, forceAuthn: false, at: Date.now() },
      };
    },
    replyEndpoint: (ctx) => chooseAcs(ctx.sp!, {}).location,
    challenge: redirectToSignInPage(pending),
    moveToSignInPage: redirectToSignInPage(pending),
  };

  const query = { type: 'object', properties: { loginToRp: { type: 'string', maxLength: 1024 }, RelayState: { type: 'string', maxLength: 1024 } } } as const;
  for (const path of [IDP_INITIATED_PATH, `${IDP_INITIATED_PATH}.aspx`]) {
    app.get<{ Querystring: { loginToRp?: string; RelayState?: string } }>(path, { schema: { querystring: query } }, (request, reply) => {
      const { loginToRp, RelayState } = request.query;
      if (loginToRp) return runSignIn(adapter, services, { request, reply }, { loginToRp, RelayState });
      return renderPage(reply, 'idp-initiated', {
        parties: offered().map((rp) => ({ name: rp.name ?? rp.id, href: `${IDP_INITIATED_PATH}?${new URLSearchParams({ loginToRp: rp.id })}` })),
      });
    });
  }
}
