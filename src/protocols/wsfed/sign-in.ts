import { MFA, WSFED } from '../../constants.js';
import { renderLogin } from '../../authn/login-page.js';
import { renderFormPost } from '../../http/pages.js';
import { postedLoginForm, signInRequest } from '../../pipeline/request.js';
import type { SignInAdapter } from '../../pipeline/sign-in.js';
import type { SignInRequest as WsFedSignIn } from './parse.js';
import { wrapInRstr } from './rstr.js';

/** What the answer echoes: the relying party's opaque state. */
interface WsFedMessage {
  wctx: string | undefined;
}

/**
 * WS-Federation passive requestor profile (WS-Federation 1.2, section 13) at ADFS's /adfs/ls/: `wsignin1.0`
 * into the sign-in pipeline, and the SAML 1.1 token back in an RSTR posted to a registered reply URL.
 * The login form posts back to the same URL, so the request travels with it.
 */
export const wsFedSignIn: SignInAdapter<WsFedSignIn, WsFedMessage> = {
  name: 'WS-Federation',
  tokenFormat: 'saml11',
  browser: true,

  decode(ctx) {
    const req = ctx.input;
    const request = signInRequest(ctx.http.request, {
      protocol: 'wsfed',
      relyingParty: req.realm,
      reply: { url: req.wreply },
      authn: {
        // wfresh: the authentication may be at most this many minutes old (0: the password again).
        notBefore: req.freshness === undefined ? undefined : Date.now() - req.freshness * 60_000,
        form: postedLoginForm(ctx.http.request),
        mfa: req.wauth === MFA.multipleAuthn,
        wiaOrMfa: req.wauth === MFA.wiaOrMultipleAuthn,
        passwordRequired: req.passwordRequired,
      },
      hints: { username: req.loginHint },
    });
    return { request, message: { wctx: req.wctx } };
  },

  replyEndpoint(ctx) {
    const wreply = ctx.request.reply.url;
    const replyTo = ctx.services.relyingParties.replyUrl(ctx.rp, wreply);
    if (wreply && wreply !== replyTo) {
      ctx.http.request.log.warn({ event: 'wreply_ignored', realm: ctx.rp.id, wreply }, 'unregistered wreply ignored');
    }
    return replyTo;
  },

  challenge(ctx) {
    const { request, reply } = ctx.http;
    return renderLogin(request, reply, ctx.services.config, { rp: ctx.rp, username: ctx.request.hints.username });
  },

  encode(ctx) {
    const fields = [
      { name: 'wa', value: WSFED.signIn },
      { name: 'wresult', value: wrapInRstr(ctx.token, ctx.assertion) },
    ];
    if (ctx.message.wctx !== undefined) fields.push({ name: 'wctx', value: ctx.message.wctx });
    return renderFormPost(ctx.http.reply, ctx.replyTo!, fields, ctx.passwordNotice);
  },
};
