import { MFA, SAML2, SAML2_STATUS } from '../../constants.js';
import type { RelyingPartyConfig } from '../../config/schema/relying-party.js';
import { Refusal } from '../../pipeline/error-policy.js';
import { signInRequest } from '../../pipeline/request.js';
import type { SignInAdapter, SignInContext } from '../../pipeline/sign-in.js';
import { serializeSaml20Response, type Saml2Status } from '../../tokens/saml20.js';
import { saml20Message, signEnveloped } from '../../tokens/sign.js';
import { chooseAcs } from './endpoints.js';
import { readAuthnRequest, readHead, type InboundMessage, type MessageHead } from './parse.js';
import { sendPost } from './respond.js';
import { SignatureError } from '../../xml/signature.js';
import { checkSignature } from './signature-policy.js';
import { isReplayedRequest } from '../../state/replay-guards.js';
import type { Sealer } from '../../crypto/sealed.js';
import { hintQuery } from '../../i18n/negotiate.js';

export const SIGNIN_PATH = '/adfs/ls/saml2/signin';
/** RequestedAuthnContext classes that ask for a password (Entra's prompt=login asks for PasswordProtectedTransport). */
const PASSWORD_CLASSES = new Set<string>([SAML2.passwordProtectedTransport, SAML2.password]);
const PENDING_TTL_SECONDS = 15 * 60;

/** A validated AuthnRequest (or IdP-initiated sign-on) waiting for the user, sealed into the sign-in page's URL. */
export interface Pending {
  rp: string;
  /** AuthnRequest ID (InResponseTo); absent for IdP-initiated. */
  id?: string;
  acs: string;
  relayState?: string;
  forceAuthn: boolean;
  /** When the request arrived: ForceAuthn needs a password typed after it. */
  at: number;
  /** RequestedAuthnContext asked for multi-factor authentication. */
  mfa?: boolean;
  /** RequestedAuthnContext asked for Windows authentication or MFA (wiaormultiauthn). */
  wiaOrMfa?: boolean;
  /** RequestedAuthnContext asks for a password class: no Windows sign-in. */
  passwordRequired?: boolean;
}

/** What a SAML answer echoes (RelayState), and what the sign-in page must still know (ForceAuthn, arrival). */
export interface SamlSsoMessage {
  relayState: string | undefined;
  forceAuthn: boolean;
  at: number;
  passwordRequired?: boolean;
}

const STATUS: Record<Refusal['reason'], Saml2Status> = {
  requestDenied: { code: SAML2_STATUS.requester, subCode: SAML2_STATUS.requestDenied },
  invalidNameIdPolicy: { code: SAML2_STATUS.requester, subCode: SAML2_STATUS.invalidNameIdPolicy },
  noPassive: { code: SAML2_STATUS.responder, subCode: SAML2_STATUS.noPassive },
};

type SsoAdapter<I> = SignInAdapter<I, SamlSsoMessage>;

/**
 * What every SAML 2.0 sign-in shares, whichever way it started (an AuthnRequest, IdP-initiated, the
 * sign-in page): the token is a SAML 2.0 assertion in a samlp:Response (signed too when the relying party
 * asks) posted to the ACS with the RelayState; a refusal is a signed error Response to the same ACS.
 */
export const samlAnswer: Pick<SsoAdapter<unknown>, 'name' | 'tokenFormat' | 'browser' | 'encode' | 'encodeError'> = {
  name: 'SAML 2.0',
  tokenFormat: 'saml20',
  browser: true,

  encode(ctx) {
    const { config, signingKey } = ctx.services;
    // The Response names the assertion's Issuer (per domain for Microsoft 365 with several domains).
    let response = serializeSaml20Response({ issuer: ctx.assertion?.issuer ?? config.issuer, destination: ctx.replyTo!, inResponseTo: ctx.request.messageId, assertionXml: ctx.token });
    if (ctx.rp.signResponse) response = signEnveloped(response, signingKey, saml20Message('Response'));
    return sendPost(ctx.http.reply, ctx.replyTo!, 'SAMLResponse', response, ctx.message.relayState, ctx.passwordNotice);
  },

  encodeError(ctx, err) {
    if (!(err instanceof Refusal)) throw err;
    const { config, signingKey } = ctx.services;
    const status: Saml2Status = { ...STATUS[err.reason], message: err.statusMessage };
    const inResponseTo = ctx.request?.messageId;
    ctx.http.request.log.warn(
      { event: 'saml2_refused', realm: ctx.rp?.id, requestId: inResponseTo, status: status.subCode ?? status.code, detail: err.detail },
      'SAML request refused',
    );
    const xml = serializeSaml20Response({ issuer: config.issuer, destination: ctx.replyTo!, inResponseTo, status });
    return sendPost(ctx.http.reply, ctx.replyTo!, 'SAMLResponse', signEnveloped(xml, signingKey, saml20Message('Response')), ctx.message?.relayState);
  },
};

/** The user must sign in: the validated request is sealed into the sign-in page's URL, and the browser sent there. */
export function redirectToSignInPage(pending: Sealer) {
  return (ctx: SignInContext<unknown, SamlSsoMessage>) => {
    const { relayState, forceAuthn, at, passwordRequired } = ctx.message;
    const id = ctx.request.messageId;
    const p: Pending = {
      rp: ctx.rp.id,
      ...(id !== undefined ? { id } : {}),
      acs: ctx.replyTo!,
      forceAuthn,
      at,
      ...(relayState !== undefined ? { relayState } : {}),
      ...(ctx.request.authn.mfa ? { mfa: true } : {}),
      ...(ctx.request.authn.wiaOrMfa ? { wiaOrMfa: true } : {}),
      ...(passwordRequired ? { passwordRequired } : {}),
    };
    // The request's language hints (mkt, lc, ui_locales) go along: the sign-in page and its form's answers speak that language.
    const q = ctx.http.request.url.indexOf('?');
    const hints = hintQuery(q < 0 ? undefined : new URLSearchParams(ctx.http.request.url.slice(q + 1)));
    const url = `${ctx.services.config.publicUrl}${SIGNIN_PATH}?ctx=${pending.seal(p, PENDING_TTL_SECONDS)}${hints ? `&${hints}` : ''}`;
    return ctx.http.reply.header('cache-control', 'no-store').redirect(url, 303);
  };
}

function defaultNameIdFormat(rp: RelyingPartyConfig): string {
  const source = rp.nameId?.source ?? 'immutableId';
  return source === 'immutableId' ? SAML2.nameIdPersistent : source === 'sAMAccountName' ? SAML2.nameIdUnspecified : SAML2.nameIdEmail;
}

/** An AuthnRequest that arrived at /adfs/ls/, decoded and schema-valid, with the raw query its signature covers. */
export interface AuthnRequestInput {
  msg: InboundMessage;
  rawQuery: string;
}

/** Read by Gatehouse before the signature check: the Issuer (whose keys), the ID, the ACS asked for. */
type AuthnRequestMessage = SamlSsoMessage & { head: MessageHead };

/**
 * SAML 2.0 Web Browser SSO (saml-profiles 4.1) from an AuthnRequest: the relying party from its Issuer,
 * the ACS from the metadata (so a refusal can go back to it), the signature checked strictly against the
 * SP's pinned certificates, then Destination and NameIDPolicy, ForceAuthn and IsPassive.
 */
export function authnRequestSignIn(pending: Sealer): SignInAdapter<AuthnRequestInput, AuthnRequestMessage> {
  return {
    ...samlAnswer,
    decode(ctx) {
      const { msg } = ctx.input;
      const head = readHead(msg.doc);
      return {
        // ForceAuthn and IsPassive are read once the signature is checked (verify).
        request: signInRequest(ctx.http.request, {
          protocol: 'saml2',
          relyingParty: head.issuer,
          messageId: head.id,
          reply: { url: head.acsUrl, index: head.acsIndex, binding: head.protocolBinding },
        }),
        message: { relayState: msg.relayState, forceAuthn: false, at: Date.now(), head },
      };
    },
    replyEndpoint: (ctx) => chooseAcs(ctx.sp!, ctx.request.reply).location,
    async verify(ctx) {
      const { msg, rawQuery } = ctx.input;
      const sp = ctx.sp!;
      try {
        checkSignature(msg, sp, rawQuery, sp.authnRequestsSigned);
      } catch (err) {
        if (!(err instanceof SignatureError)) throw err;
        throw new Refusal('GH_SAML_SIGNATURE', 'requestDenied', { detail: err.message, statusMessage: 'The request signature was not accepted.' });
      }
      // Only a checked message reaches samlify's extractor (parse.ts says why).
      const req = readAuthnRequest(msg, ctx.message.head);
      if (await isReplayedRequest(ctx.services.state.replay, ctx.rp.id, req.id, PENDING_TTL_SECONDS * 1000)) {
        throw new Refusal('GH_BAD_REQUEST', 'requestDenied', { detail: `AuthnRequest ${req.id} was received before (replay)` });
      }
      const { publicUrl } = ctx.services.config;
      if (req.destination && !req.destination.startsWith(`${publicUrl}/adfs/ls`)) {
        throw new Refusal('GH_BAD_REQUEST', 'requestDenied', { detail: `Destination ${req.destination} is not this IdP` });
      }
      if (req.nameIdFormat && req.nameIdFormat !== SAML2.nameIdUnspecified) {
        // The NameID format is the relying party's configuration; a request may only ask for that one.
        const ours = ctx.rp.nameId?.format ?? defaultNameIdFormat(ctx.rp);
        if (req.nameIdFormat !== ours) {
          throw new Refusal('GH_BAD_REQUEST', 'invalidNameIdPolicy', { detail: `NameIDPolicy ${req.nameIdFormat}, configured ${ours}` });
        }
      }
      ctx.message.forceAuthn = req.forceAuthn;
      ctx.message.passwordRequired = req.authnContextClassRefs.some((c) => PASSWORD_CLASSES.has(c));
      ctx.request.authn = { notBefore: req.forceAuthn ? ctx.message.at : undefined, passive: req.isPassive, passwordRequired: ctx.message.passwordRequired, mfa: req.authnContextClassRefs.includes(MFA.multipleAuthn), wiaOrMfa: req.authnContextClassRefs.includes(MFA.wiaOrMultipleAuthn) };
    },
    challenge: redirectToSignInPage(pending),
    moveToSignInPage: redirectToSignInPage(pending),
  };
}
