import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { GatehouseError } from '../errors.js';
import { renderPage } from '../http/pages.js';
import { publicUrlOf } from '../http/public-url.js';

/**
 * Every user-facing string of the second-factor pages, one block per page (so they move into a message
 * catalogue as they are). The templates are views/mfa-*.eta.
 */
export const MFA_TEXT = {
  code: {
    title: 'Verify your identity',
    lead: 'Enter the 6-digit code from your authenticator app.',
    codeLabel: 'Code',
    submit: 'Verify',
    recoverySummary: 'Lost your phone? Use a recovery code',
    recoveryLabel: 'Recovery code',
    recoverySubmit: 'Use recovery code',
    recoveryHint: 'Each recovery code works once. Ask your help desk if you have none left.',
    passkeyLead: 'Or use your passkey or security key.',
    passkeySubmit: 'Use passkey or security key',
    passkeyFailed: 'Your passkey or security key did not answer. Try again, or enter a code.',
  },
  enrol: {
    title: 'Set up your authenticator app',
    lead: 'This sign-in needs a second step. Set up an authenticator app (Microsoft Authenticator, Google Authenticator, FreeOTP or similar) once:',
    step1: 'In the app, add an account and scan this QR code.',
    secretLabel: 'Cannot scan? Enter this key in the app:',
    step2: 'Enter the 6-digit code the app shows now.',
    codeLabel: 'Code',
    submit: 'Verify and save',
    passkeyHeading: 'Or use a passkey or security key',
    passkeyLead: 'Windows Hello, Touch ID, your phone, or a security key (YubiKey and similar) can be your second step instead.',
    passkeyNameLabel: 'Name for this key',
    passkeyNameDefault: 'My passkey',
    passkeySubmit: 'Set up a passkey or security key',
    passkeyFailed: 'Your passkey or security key was not set up. Try again, or use an authenticator app.',
    skipLead: 'You can do this later, for a limited time.',
    skip: 'Not now',
  },
  recoveryCodes: {
    title: 'Save your recovery codes',
    lead: 'Your authenticator app is set up. If you lose your phone, each of these codes signs you in once. Write them down or print them now: they are not shown again.',
    continue: 'Continue',
  },
} as const;

type Page = keyof typeof MFA_TEXT;

/** A WebAuthn ceremony for a page: the options for the browser (JSON) and the sealed challenge it posts back. */
export interface PageCeremony {
  options: unknown;
  token: string;
}

function render(request: FastifyRequest, reply: FastifyReply, publicUrl: string, page: Page, data: Record<string, unknown>, error?: GatehouseError) {
  const webauthn = data.webauthn as PageCeremony | undefined;
  return renderPage(
    reply,
    `mfa-${page === 'recoveryCodes' ? 'recovery-codes' : page}`,
    {
      title: MFA_TEXT[page].title,
      t: MFA_TEXT[page],
      action: publicUrlOf(request, publicUrl),
      csrf: reply.generateCsrf(),
      error: error?.message,
      correlationId: error && error.status >= 500 ? request.id : undefined,
      ...data,
      webauthn: webauthn ? { options: JSON.stringify(webauthn.options), token: webauthn.token } : undefined,
    },
    error?.status ?? 200,
    { scripts: webauthn !== undefined },
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
