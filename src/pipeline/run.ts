import type { FastifyReply, FastifyRequest } from 'fastify';
import { SIGN_IN } from './chain.js';
import { answerError } from './error-policy.js';
import { ANSWERED, type PipelineServices, type SignInAdapter, type SignInContext } from './sign-in.js';
import { countSignIn } from './outcome.js';

/**
 * Runs one sign-in through the steps of the chain, until a step answers (a login page, a redirect) or
 * `encode` sends the token. An error goes where the error policy says: to the relying party in its
 * protocol, or (rethrown) to the app's error page.
 */
export async function runSignIn<I, M>(
  adapter: SignInAdapter<I, M>,
  services: PipelineServices,
  http: { request: FastifyRequest; reply: FastifyReply },
  input: I,
): Promise<FastifyReply> {
  const ctx = { adapter, services, http, input } as SignInContext<I, M>;
  try {
    for (const step of SIGN_IN) {
      if ((await step(ctx as SignInContext)) === ANSWERED) {
        countSignIn(ctx as SignInContext);
        return ctx.http.reply;
      }
    }
    throw new Error('sign-in pipeline ended without an answer');
  } catch (err) {
    countSignIn(ctx as SignInContext, err);
    return answerError(ctx as SignInContext, err);
  }
}
