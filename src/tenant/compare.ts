import { X509Certificate } from 'node:crypto';
import { domainIssuerUri } from '../config/federated-domains.js';
import type { SigningCertificate } from '../keys/keystore.js';
import { ENDPOINT_PATHS, type EndpointProperty, type FederationCertificates, type InternalDomainFederation } from './federation.js';

/** One way the tenant's federation configuration differs from what Gatehouse runs. */
export interface Difference {
  property: string;
  /** What Microsoft 365 has (null: not set). */
  tenant: string | null;
  /** What Gatehouse runs with (null: nothing). */
  gatehouse: string | null;
  /** What happens because of it. */
  effect: string;
  /** What to do. */
  fix: string;
}

/** A base64 certificate as an admin can recognise it. */
export interface CertificateSummary {
  thumbprint: string;
  subject: string;
  notAfter: string;
  /** Which of Gatehouse's certificates it is. */
  is: 'current' | 'next' | 'previous' | 'unknown';
}

const DAY = 86_400_000;

export function summarize(b64: string | null | undefined, known: FederationCertificates & { previous?: SigningCertificate | undefined }): CertificateSummary | null | 'unreadable' {
  if (!b64) return null;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(b64, 'base64'));
  } catch {
    return 'unreadable';
  }
  const thumbprint = cert.fingerprint.replace(/:/g, '');
  const is =
    thumbprint === known.current.thumbprint ? 'current' : thumbprint === known.next?.thumbprint ? 'next' : thumbprint === known.previous?.thumbprint ? 'previous' : 'unknown';
  return { thumbprint, subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo).toISOString(), is };
}

function describeCert(s: CertificateSummary | null | 'unreadable', now: Date): string | null {
  if (s === null) return null;
  if (s === 'unreadable') return 'a value that is not a base64 X.509 certificate';
  const days = Math.floor((Date.parse(s.notAfter) - now.getTime()) / DAY);
  const expiry = days < 0 ? `EXPIRED ${s.notAfter.slice(0, 10)}` : `expires ${s.notAfter.slice(0, 10)}, ${days} days left`;
  const whose = { current: "Gatehouse's current certificate", next: "Gatehouse's next certificate", previous: "Gatehouse's previous certificate (before the last promote)", unknown: 'not a certificate Gatehouse has' }[s.is];
  return `${s.thumbprint} (${s.subject}; ${expiry}) - ${whose}`;
}

const gatehouseCert = (c: SigningCertificate) =>
  `${c.thumbprint} (${c.certificate.subject.replace(/\n/g, ', ')}; expires ${c.notAfter.toISOString().slice(0, 10)})`;

/** Same endpoint? Host names compare without case, and /adfs/ls and /adfs/ls/ are both served. */
function sameEndpoint(a: string, b: string, property: EndpointProperty): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u);
      let path = url.pathname;
      if (ENDPOINT_PATHS[property] === '/adfs/ls/' && path === '/adfs/ls') path = '/adfs/ls/';
      return `${url.protocol}//${url.host.toLowerCase()}${path}${url.search}`;
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}

const APPLY = (domain: string) => `gatehouse tenant-setup --domain ${domain} --apply`;

/**
 * The differences that matter for sign-in between the tenant's configuration of `domain` and Gatehouse's.
 * displayName is not compared (cosmetic).
 */
export function compareFederation(
  domain: string,
  expected: InternalDomainFederation,
  tenant: Record<string, unknown>,
  certs: FederationCertificates & { previous?: SigningCertificate | undefined },
  now = new Date(),
): Difference[] {
  const out: Difference[] = [];
  const str = (k: string) => (typeof tenant[k] === 'string' && tenant[k] !== '' ? (tenant[k] as string) : null);

  const issuer = str('issuerUri');
  if (issuer !== expected.issuerUri) {
    out.push({
      property: 'issuerUri',
      tenant: issuer,
      gatehouse: expected.issuerUri,
      effect: `Microsoft 365 only accepts tokens whose Issuer is "${issuer ?? ''}", but Gatehouse issues them as "${expected.issuerUri}": every sign-in to ${domain} fails after the password is accepted.`,
      fix: !issuer
        ? `Run ${APPLY(domain)}.`
        : expected.issuerUri === domainIssuerUri(domain)
          ? `Change the tenant: ${APPLY(domain)}. With several federatedDomains each domain has its own IssuerUri, ${expected.issuerUri}, as ADFS's -SupportMultipleDomain sets (Microsoft 365 refuses one IssuerUri for two domains).`
          : `Either set "issuer: ${issuer}" in Gatehouse's configuration and restart (keeps the tenant as it is, e.g. the value ADFS used), or change the tenant: ${APPLY(domain)}.`,
    });
  }

  // Microsoft accepts tokens signed with signingCertificate or nextSigningCertificate.
  const signing = summarize(str('signingCertificate'), certs);
  const next = summarize(str('nextSigningCertificate'), certs);
  const trusted = [signing, next].some((s) => s && s !== 'unreadable' && s.is === 'current');
  if (!(signing && signing !== 'unreadable' && signing.is === 'current')) {
    out.push({
      property: 'signingCertificate',
      tenant: describeCert(signing, now),
      gatehouse: gatehouseCert(certs.current),
      effect: trusted
        ? "Tokens are still accepted (the tenant's nextSigningCertificate is Gatehouse's current one), but the tenant's primary certificate is not the one Gatehouse signs with."
        : `Microsoft 365 does not trust the certificate Gatehouse signs tokens with: every sign-in to ${domain} fails after the password is accepted.`,
      fix: `Run ${APPLY(domain)} (sets signingCertificate to ${certs.current.thumbprint}). If the tenant's certificate is the right one, put it and its key back as signing.certFile/keyFile (a rollback: certs/signing-previous.*) and restart.`,
    });
  }
  const wantNext = certs.next?.thumbprint ?? null;
  const nextIs = next && next !== 'unreadable' ? next.thumbprint : null;
  if (wantNext && nextIs !== wantNext) {
    out.push({
      property: 'nextSigningCertificate',
      tenant: describeCert(next, now),
      gatehouse: gatehouseCert(certs.next!),
      effect: `Microsoft 365 does not know Gatehouse's next certificate yet: once it is promoted, sign-ins to ${domain} fail until Microsoft reads it from the federation metadata (it polls from about 30 days before the current certificate expires, if the metadata is reachable from the Internet).`,
      fix: `Run ${APPLY(domain)} before "gatehouse certs promote".`,
    });
  } else if (!wantNext && next && !(next !== 'unreadable' && next.is === 'current')) {
    out.push({
      property: 'nextSigningCertificate',
      tenant: describeCert(next, now),
      gatehouse: null,
      effect:
        next !== 'unreadable' && next.is === 'previous'
          ? 'Microsoft 365 still trusts the certificate Gatehouse replaced; harmless while its key stays secret, but no longer needed.'
          : 'Microsoft 365 also accepts tokens signed by this certificate, which Gatehouse does not have: whoever holds its key can sign users in.',
      fix: `If it is not yours, remove it now: ${APPLY(domain)} (clears nextSigningCertificate).`,
    });
  }

  for (const p of Object.keys(ENDPOINT_PATHS) as EndpointProperty[]) {
    const have = str(p);
    if (have && sameEndpoint(have, expected[p], p)) continue;
    const what = {
      passiveSignInUri: 'browsers are sent to sign in',
      activeSignInUri: 'rich clients (Outlook, ActiveSync, PowerShell) are authenticated',
      metadataExchangeUri: 'rich clients look up the WS-Trust endpoints',
      signOutUri: 'browsers are sent to sign out',
    }[p];
    out.push({
      property: p,
      tenant: have,
      gatehouse: expected[p],
      effect: `Where ${what}: Microsoft 365 uses ${have ?? 'nothing'}, Gatehouse serves ${expected[p]}.`,
      fix: `Run ${APPLY(domain)}; if Gatehouse's URL is the wrong one, fix publicUrl in its configuration first.`,
    });
  }

  for (const k of ['preferredAuthenticationProtocol', 'federatedIdpMfaBehavior', 'promptLoginBehavior'] as const) {
    const have = str(k);
    if (have === expected[k]) continue;
    const effect = {
      preferredAuthenticationProtocol: 'Microsoft 365 would send SAML 2.0 requests instead of WS-Federation ones to /adfs/ls/.',
      federatedIdpMfaBehavior:
        expected.federatedIdpMfaBehavior === 'rejectMfaByFederatedIdp'
          ? 'Gatehouse does no multi-factor authentication (mfa.enabled is off); with anything but rejectMfaByFederatedIdp a forged MFA claim could satisfy a Conditional Access policy that requires MFA.'
          : expected.federatedIdpMfaBehavior === 'enforceMfaByFederatedIdp'
            ? "Gatehouse does MFA, but Microsoft 365 does not send users back for it: they are asked by Entra's own MFA instead, or not at all."
            : 'Microsoft 365 does not treat MFA done at Gatehouse as mfa.federatedIdpMfaBehavior says.',
      promptLoginBehavior:
        have === 'disabled'
          ? "Applications' prompt=login requests never reach Gatehouse: a user with a session is signed in again without typing the password."
          : "Microsoft 365 rewrites applications' prompt=login (wfresh=0 with wauth) instead of passing it on as it is; users may be asked for their password twice.",
    }[k];
    out.push({ property: k, tenant: have, gatehouse: expected[k], effect, fix: `Run ${APPLY(domain)}.` });
  }
  return out;
}
