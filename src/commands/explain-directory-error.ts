// What check-config says when a domain controller check fails: one line saying what to fix, for each
// stage (TCP, TLS, LDAP bind, the TLS that password changes need), and the raw error kept beside it.
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import {
  ConfidentialityRequiredError, InvalidCredentialsError, ProtocolError, ResultCodeError, StrongAuthRequiredError,
  TLSNotSupportedError, UnavailableError,
} from 'ldapts';

/** Where a connection attempt failed; the same error code means different things at different stages. */
export type Stage = 'tcp' | 'tls' | 'ldap' | 'password-change';

export interface ExplainContext {
  url: string;
  host: string;
  port: number;
  timeoutMs: number;
  bindDn: string;
  caFile?: string | undefined;
  tlsServerName?: string | undefined;
  /** The DC's certificate, when it could be read (for TLS errors). */
  cert?: PeerCertificate | undefined;
  /** A TLS handshake had begun and not finished when the error came (StartTLS of a password change). */
  inHandshake?: boolean;
}

// AD's "AcceptSecurityContext error, data XXX" for the service account's own bind.
const SERVICE_ACCOUNT_DATA: Record<string, (who: string) => string> = {
  '52e': (who) =>
    `the service account's password is wrong: set directory.bindPassword (or the file directory.bindPasswordFile names) to the current password of ${who} (a Samba DC also answers this when directory.bindDn names no account)`,
  '525': (who) => `AD has no account ${who}: set directory.bindDn to the service account's DN, UPN (name@domain) or DOMAIN\\name`,
  '530': (who) => `the service account ${who} may not sign in at this time (logon hours): allow every hour for it in AD`,
  '531': (who) => `the service account ${who} may not sign in from this machine ("Log On To" workstations): allow it in AD`,
  '532': (who) =>
    `the service account ${who}'s password has expired: set a new one in AD and in directory.bindPassword (or directory.bindPasswordFile), and make it never expire`,
  '533': (who) => `the service account ${who} is disabled in AD: enable it`,
  '701': (who) => `the service account ${who} has expired in AD (accountExpires): extend or clear its expiry date`,
  '773': (who) =>
    `the service account ${who} must change its password at next logon: set its password in AD without "must change", and the same in directory.bindPassword (or directory.bindPasswordFile)`,
  '775': (who) =>
    `the service account ${who} is locked out in AD (too many bad passwords, often an old password still configured somewhere): unlock it, and correct directory.bindPassword (or directory.bindPasswordFile) wherever it is stale`,
};

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE', 'CERT_CHAIN_TOO_LONG', 'INVALID_CA',
]);

/** Node's string error code (ENOTFOUND, CERT_HAS_EXPIRED...); an LDAP result code is a number and not one. */
const codeOf = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** "CN=DC1.corp.example.test, O=Samba" from Node's subject/issuer object. */
export function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '?';
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

/** The names a client may use for the certificate: its DNS and IP subjectAltNames, else its CN. */
export function certificateNames(cert: PeerCertificate): string[] {
  const san = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((s) => /^(DNS|IP Address):/.test(s))
    .map((s) => s.replace(/^(DNS|IP Address):/, ''));
  if (san.some((s) => !/^[\d.:a-f]+$/i.test(s))) return san;
  const cn = cert.subject?.CN;
  return [...san, ...(cn === undefined ? [] : Array.isArray(cn) ? cn : [cn])];
}

function explainTls(err: unknown, ctx: ExplainContext): string {
  const code = codeOf(err) ?? '';
  const cert = ctx.cert ?? (err as { cert?: PeerCertificate }).cert;
  const expected = ctx.tlsServerName ?? ctx.host;
  const names = cert ? certificateNames(cert) : [];
  const nameList = names.length ? names.join(', ') : '(none)';
  const setName = `set directory.tlsServerName to one of the certificate's names: ${nameList} (or use one of them as the host in directory.urls)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the DC's certificate is not for ${expected}: ${setName}`;
  if (UNTRUSTED.has(code)) {
    const issuer = cert ? ` (issued by ${distinguishedName(cert.issuer)})` : '';
    let fix: string;
    if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
      fix = ctx.caFile
        ? `the DC's certificate is self-signed and not in directory.caFile (${ctx.caFile}): add that certificate (subject ${cert ? distinguishedName(cert.subject) : '?'}) to it`
        : `the DC's certificate is self-signed${cert ? ` (${distinguishedName(cert.subject)})` : ''}: set directory.caFile to a PEM copy of it, or better give the DC a certificate from your CA`;
    } else {
      fix = ctx.caFile
        ? `directory.caFile (${ctx.caFile}) does not hold the CA that issued the DC's certificate${issuer}: set it to that CA's certificate (PEM; the root, and any intermediates the DC does not send)`
        : `this machine does not trust the DC's certificate${issuer}: set directory.caFile to the CA certificate that issued it (PEM)`;
    }
    // Say now what the next attempt would hit, rather than one fix per run.
    if (cert && checkServerIdentity(expected, cert as PeerCertificate & { raw: Buffer }) !== undefined) {
      fix += `; and the certificate is not for ${expected}: ${setName}`;
    }
    return fix;
  }
  if (code === 'CERT_HAS_EXPIRED') return `the DC's certificate expired${cert ? ` on ${cert.valid_to}` : ''}: renew it on the DC`;
  if (code === 'CERT_NOT_YET_VALID') return `the DC's certificate is not valid yet${cert ? ` (from ${cert.valid_from})` : ''}: check the clocks of this machine and the DC`;
  return `the TLS handshake with the DC failed`;
}

export const isTlsError = (err: unknown) => {
  const code = codeOf(err) ?? '';
  return code === 'ERR_TLS_CERT_ALTNAME_INVALID' || UNTRUSTED.has(code) || code.startsWith('CERT_');
};

/**
 * One line that says what to fix for an error met while checking a DC (without the raw text, which the
 * caller keeps beside it). Pure: the unit test feeds it the errors Node, ldapts and AD give.
 */
export function explainDirectoryError(err: unknown, stage: Stage, ctx: ExplainContext): string {
  const code = codeOf(err);
  const msg = messageOf(err);
  const at = `${ctx.host} port ${ctx.port}`;
  if (stage === 'tcp') {
    switch (code) {
      case 'ENOTFOUND':
        return `DNS has no address for ${ctx.host}: correct the host in directory.urls, or add the name to DNS`;
      case 'EAI_AGAIN':
        return `DNS did not answer for ${ctx.host} (temporary failure): check this machine's DNS servers (/etc/resolv.conf), or put the DC's address in directory.urls`;
      case 'ECONNREFUSED':
        return `${at} refused the connection: nothing listens there; check the port in directory.urls (ldap:// 389, ldaps:// 636) and that the DC is running`;
      case 'ENETUNREACH':
        return `network unreachable: this machine has no route to ${ctx.host}; check its network (routes, VPN) or the address in directory.urls`;
      case 'EHOSTUNREACH':
        return `${ctx.host} is unreachable (no route to the host, or a firewall rejects the connection): check the address in directory.urls and the network`;
      case 'ETIMEDOUT':
      case 'GH_CONNECT_TIMEOUT':
        return `${at} did not accept a connection within ${ctx.timeoutMs} ms (directory.timeoutMs): a firewall drops the packets, or the host is down`;
      default:
        return `cannot connect to ${at}`;
    }
  }
  const pw = stage === 'password-change' ? 'password changes would fail (AD takes a new password only over TLS: StartTLS on ldap://): ' : '';
  // The TLS handshake itself (ldaps://, or after the DC agreed to StartTLS) did not finish.
  const handshake = stage === 'tls' || !!ctx.inHandshake;
  if (err instanceof InvalidCredentialsError) {
    const data = /\bdata ([0-9a-f]{3,4})\b/i.exec(msg)?.[1]?.toLowerCase();
    const explain = data ? SERVICE_ACCOUNT_DATA[data] : undefined;
    return pw + (explain ? explain(ctx.bindDn) : `the DC refused the service account ${ctx.bindDn}${data ? ` (AD data ${data})` : ''}: check directory.bindDn and directory.bindPassword`);
  }
  if (err instanceof StrongAuthRequiredError || err instanceof ConfidentialityRequiredError) {
    return `the DC requires an encrypted connection for binds (LDAP signing policy): use ldaps:// in directory.urls, or set directory.startTls: true (both need directory.caFile unless the DC's certificate is publicly trusted)`;
  }
  if (isTlsError(err)) return pw + explainTls(err, ctx);
  if (err instanceof UnavailableError || err instanceof ProtocolError || err instanceof TLSNotSupportedError) {
    return `${pw}the DC refused StartTLS (it has no certificate for LDAP over TLS): give it one (AD Certificate Services or a certificate in the DC's personal store), or use ldaps:// if that works`;
  }
  if (err instanceof ResultCodeError) return `${pw}the DC refused: check directory.bindDn and the DC's logs`;
  const notLdaps = ctx.url.startsWith('ldaps:') ? ': is it an LDAPS port? (ldaps:// is usually 636; port 389 takes ldap:// with directory.startTls)' : '';
  if (msg === 'Connection timeout' || (handshake && /timed? ?out/i.test(msg))) {
    return `${pw}${at} accepted the connection but the TLS handshake did not finish within ${ctx.timeoutMs} ms${notLdaps}`;
  }
  if (handshake && (code === 'ECONNRESET' || code === 'EPIPE' || /socket disconnected|socket hang up|closed/i.test(msg))) {
    return `${pw}${at} closed the connection during the TLS handshake${notLdaps || ': check the TLS settings of the DC (it needs a certificate, and TLS 1.2 or later)'}`;
  }
  if (handshake && (code === 'EPROTO' || code?.startsWith('ERR_SSL_'))) {
    return `${pw}the TLS handshake with ${at} failed${notLdaps || ' (no TLS version or cipher in common? Gatehouse needs TLS 1.2 or later)'}`;
  }
  if (/Operation timed out/.test(msg)) {
    const what = /^ExtendedRequest/.test(msg) ? 'the StartTLS request' : /^BindRequest/.test(msg) ? 'the bind' : 'the request';
    return `${pw}${at} accepted the connection but did not answer ${what} within ${ctx.timeoutMs} ms: is it a domain controller's LDAP port? (ldap:// 389, ldaps:// 636) A DC that is only slow also fails sign-ins; raise directory.timeoutMs only then`;
  }
  // ldapts reports a reset during a request as "Socket error. Message type: BindRequest ... read ECONNRESET".
  if (code === 'ECONNRESET' || /Connection closed before message response|^Socket error/.test(msg)) {
    return `${pw}${at} closed the connection without answering: is it a domain controller's LDAP port? (ldap:// 389, ldaps:// 636; an ldap:// URL on an LDAPS port ends this way)`;
  }
  if (code && stage !== 'password-change') return explainDirectoryError(err, 'tcp', ctx);
  return `${pw}the DC could not be used${handshake ? ' (the TLS handshake failed)' : ''}`;
}

/** The raw text kept after the explanation: the error's code and message as given. */
export function rawText(err: unknown): string {
  const code = codeOf(err);
  const msg = messageOf(err);
  // ldapts appends " Code: 0x31" to AD's text; the result code is said first instead.
  if (err instanceof ResultCodeError) return `LDAP result ${err.code}: ${msg.replace(/\s*Code: 0x[0-9a-f]+$/i, '')}`;
  const text = msg.replace(/\s*\n\s*/g, ' ');
  return code && !text.includes(code) ? `${code}: ${text}` : text;
}
