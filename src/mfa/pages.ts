import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { GatehouseError } from '../errors.js';
import { errorText, pageText, renderPage } from '../http/pages.js';
import { publicUrlOf } from '../http/public-url.js';
import { WEBAUTHN_REFUSED } from './service.js';

/** The second-factor pages; their texts are the `mfaCode.*`, `mfaEnrol.*` and `mfaRecoveryCodes.*` keys of locales/*.json. */
type Page = 'code' | 'enrol' | 'recoveryCodes';

const VIEWS: Record<Page, string> = { code: 'mfa-code', enrol: 'mfa-enrol', recoveryCodes: 'mfa-recovery-codes' };

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
  opts: { qrSvg: string; secret: string; token: string; canSkip: boolean; webauthn: PageCeremony; error?: GatehouseError | undefined },
) {
  return render(request, reply, publicUrl, 'enrol', { qrSvg: opts.qrSvg, secret: opts.secret, token: opts.token, canSkip: opts.canSkip, webauthn: opts.webauthn }, opts.error);
}

/** The recovery codes, shown once; Continue posts back and the sign-in carries on. */
export function renderRecoveryCodesPage(request: FastifyRequest, reply: FastifyReply, publicUrl: string, codes: string[]) {
  return render(request, reply, publicUrl, 'recoveryCodes', { codes });
}
