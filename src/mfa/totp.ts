import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as every authenticator app does it: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;

/** A new shared secret (160 bits, RFC 4226's recommendation), in base32 as the apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secret: string, issuer = 'Gatehouse', label = 'user'): TOTP {
  return new TOTP({ issuer, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS });
}

/** The otpauth:// URI the QR code carries (issuer and account shown in the app). */
export function totpUri(secret: string, issuer: string, account: string): string {
  return totp(secret, issuer, account).toString();
}

/**
 * The time step a code belongs to, when it is one of the `skew` steps around now; undefined for a wrong
 * code. The step (not the code) goes to the replay cache: a code is accepted once.
 */
export function matchingStep(secret: string, code: string, skew: number, now = Date.now()): number | undefined {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = totp(secret).validate({ token, timestamp: now, window: skew });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}

/** How long a used step must be remembered: until no window can contain it any more. */
export function stepMemoryMs(skew: number): number {
  return (2 * skew + 2) * PERIOD_SECONDS * 1000;
}

/**
 * The QR code as SVG markup, drawn on the server (no external service, no script): placed in the page
 * as it is, so the strict CSP's img-src needs nothing more. Presentation attributes only, no style.
 */
export async function qrSvg(text: string): Promise<string> {
  // Loaded when the first enrolment page is drawn, not at start-up.
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  // Give it a name for screen readers; the text of the secret is on the page beside it.
  return svg.replace('<svg ', '<svg role="img" aria-label="QR code for your authenticator app" width="200" height="200" ');
}

/** The secret as the page shows it for typing: groups of four. */
export function groupedSecret(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}
