import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { GatehouseError } from '../errors.js';
import { errorText, pageText, renderPage } from '../http/pages.js';
import { publicUrlOf } from '../http/public-url.js';
import { WEBAUTHN_REFUSED } from './service.js';

/**
 * The second-factor pages and the self-service page; their texts are the `mfaCode.*`, `mfaEnrol.*`,
 * `mfaRecoveryCodes.*` and `mfaPortal.*` keys of locales/*.json.
 */
type Page = 'code' | 'enrol' | 'recoveryCodes' | 'portal';

const VIEWS: Record<Page, string> = { code: 'mfa-code', enrol: 'mfa-enrol', recoveryCodes: 'mfa-recovery-codes', portal: 'mfa-portal' };

/** The passkey pages' script files (src/mfa/static-routes.ts serves them), loaded by the layout at the end of the page. */
const WEBAUTHN_SCRIPTS = ['/adfs/portal/simplewebauthn-browser.js', '/adfs/portal/mfa-webauthn.js'];

/** A WebAuthn ceremony for a page: the options for the browser (JSON) and the sealed challenge it posts back. */
export interface PageCeremony {
  options: unknown;
  token: string;
}

function render(request: FastifyRequest, reply: FastifyReply, publicUrl: string, page: Page, data: Record<string, unknown>, error?: GatehouseError) {
  const webauthn = data.webauthn as PageCeremony | undefined;
  return renderPage(
    reply,
    VIEWS[page],
    {
      action: publicUrlOf(request, publicUrl),
      csrf: reply.generateCsrf(),
      error: error && (error.message === WEBAUTHN_REFUSED ? pageText(reply).t('mfaEnrol.passkeyRefused') : errorText(reply, error)),
      correlationId: error && error.status >= 500 ? request.id : undefined,
      // The typed code was wrong (not a lockout or a refused passkey): its field says so to assistive technology.
      codeWrong: error?.code === 'GH_MFA_CODE_WRONG' && error.message !== WEBAUTHN_REFUSED,
      ...data,
      webauthn: webauthn ? { options: JSON.stringify(webauthn.options), token: webauthn.token } : undefined,
    },
    error?.status ?? 200,
    { scripts: webauthn ? WEBAUTHN_SCRIPTS : [] },
  );
}

/**
 * The code page: the authenticator app's code (when the user has the app), a passkey (when they have
 * one; its form is shown by script), or a recovery code (in a disclosure, no script).
 */
export function renderCodePage(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
  opts: { error?: GatehouseError | undefined; recoveryOpen?: boolean; totp: boolean; webauthn?: PageCeremony | undefined },
) {
  return render(request, reply, publicUrl, 'code', { recoveryOpen: opts.recoveryOpen ?? false, totp: opts.totp, webauthn: opts.webauthn }, opts.error);
}

/** The enrolment page: QR code (SVG markup made by totp.ts), the key as text, and the first code. */
export function renderEnrolPage(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
  opts: { qrSvg: string; secret: string; token: string; canSkip: boolean; webauthn?: PageCeremony | undefined; error?: GatehouseError | undefined; selfService?: boolean },
) {
  return render(
    request,
    reply,
    publicUrl,
    'enrol',
    { qrSvg: opts.qrSvg, secret: opts.secret, token: opts.token, canSkip: opts.canSkip, webauthn: opts.webauthn, selfService: opts.selfService ?? false },
    opts.error,
  );
}

/**
 * The recovery codes, shown once; Continue posts back and the sign-in carries on (or, with `renewed`, the
 * self-service page's new codes: the old ones no longer work).
 */
export function renderRecoveryCodesPage(request: FastifyRequest, reply: FastifyReply, publicUrl: string, codes: string[], renewed = false) {
  return render(request, reply, publicUrl, 'recoveryCodes', { codes, renewed });
}

/** What the self-service page shows: the user's factors (no secrets) and what they may do with them. */
export interface PortalView {
  user: string;
  totp: { added: string } | undefined;
  keys: { id: string; name: string; added: string; lastUsed: string | undefined }[];
  recoveryLeft: number;
  /** The factor being removed would be the last: removing it is refused (policy) or explained. */
  lastFactor: 'kept' | 'mayGo' | undefined;
  /** A change just made (from a fixed list, never text from the request). */
  done: string | undefined;
  webauthn: PageCeremony;
  error?: GatehouseError | undefined;
  /** A refusal of the page's own (`mfaPortal.error.<key>`): the last factor kept, a key gone meanwhile. */
  refusal?: string | undefined;
}

/** The self-service page (src/mfa/portal-routes.ts); its passkey form needs the two script files. */
export function renderPortalPage(request: FastifyRequest, reply: FastifyReply, publicUrl: string, action: string, view: PortalView) {
  const { error, refusal, ...data } = view;
  const own = refusal ? { error: pageText(reply).t(`mfaPortal.error.${refusal}`) } : {};
  return render(request, reply, publicUrl, 'portal', { ...data, ...own, portalAction: action }, error);
}
