// check-config's look at each domain controller: can this machine reach it, does the service account
// bind, does the TLS that password changes need work. Each failure becomes one line that says what to fix,
// with the raw error kept beside it. Connections are opened the way src/directory/directory.ts opens them
// (same ldapts options, StartTLS when configured), stage by stage so that each stage's error is its own.
import { connect as tcpConnect } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import {
  Client, ConfidentialityRequiredError, InvalidCredentialsError, ProtocolError, ResultCodeError, StrongAuthRequiredError,
  TLSNotSupportedError, UnavailableError,
} from 'ldapts';
import type { Config } from '../config/load.js';

type DirectoryConfig = Config['directory'];

export interface CheckLine {
  status: 'ok' | 'warning' | 'problem';
  /** What it is about, e.g. the DC's URL. */
  subject: string;
  /** For a problem: what is wrong and what to change, on one line. */
  text: string;
  /** The error as the DC or the operating system gave it. */
  raw?: string;
  /** The service account bound on this DC (the smart-lockout check then has one to read AD's policy from). */
  bound?: boolean;
}

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
function dn(name: PeerCertificate['subject'] | undefined): string {
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
    const issuer = cert ? ` (issued by ${dn(cert.issuer)})` : '';
    let fix: string;
    if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
      fix = ctx.caFile
        ? `the DC's certificate is self-signed and not in directory.caFile (${ctx.caFile}): add that certificate (subject ${cert ? dn(cert.subject) : '?'}) to it`
        : `the DC's certificate is self-signed${cert ? ` (${dn(cert.subject)})` : ''}: set directory.caFile to a PEM copy of it, or better give the DC a certificate from your CA`;
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

const isTlsError = (err: unknown) => {
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

/** The TLS options Directory uses (src/directory/directory.ts), with the CA already read. */
export function directoryTlsOptions(dir: DirectoryConfig, ca: Buffer | undefined): ConnectionOptions {
  return {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: dir.tlsVerify,
    ...(ca ? { ca } : {}),
    ...(dir.tlsServerName ? { servername: dir.tlsServerName } : {}),
  };
}

function target(url: string): { host: string; port: number; secure: boolean } {
  const u = new URL(url);
  const secure = u.protocol === 'ldaps:';
  let host = u.hostname || 'localhost';
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: u.port ? Number(u.port) : secure ? 636 : 389, secure };
}

/** A plain TCP connection, to tell DNS, refusal, routing and silence apart before LDAP is spoken. */
function tcpProbe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'GH_CONNECT_TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** An ldapts client that remembers its TLS socket (to name the certificate it verified). */
interface TrackedClient {
  client: Client;
  sockets: TLSSocket[];
  /** A TLS handshake began and did not finish: the error is the handshake's. */
  inHandshake(): boolean;
}

function ldapClient(url: string, dir: DirectoryConfig, tls: ConnectionOptions | undefined): TrackedClient {
  const sockets: TLSSocket[] = [];
  let secured = 0;
  const createSecureConnection = ((...args: unknown[]) => {
    const s = (tlsConnect as unknown as (...a: unknown[]) => TLSSocket)(...args);
    sockets.push(s);
    s.once('secureConnect', () => secured++);
    return s;
  }) as unknown as typeof tlsConnect;
  const client = new Client({
    url,
    timeout: dir.timeoutMs,
    connectTimeout: dir.timeoutMs,
    strictDN: false,
    createSecureConnection,
    ...(tls ? { tlsOptions: tls } : {}),
  });
  return { client, sockets, inHandshake: () => sockets.length > secured };
}

/** The certificate the DC presents on the TLS path of `url` (ldaps, or StartTLS), whether trusted or not. */
async function readPeerCertificate(url: string, dir: DirectoryConfig, tls: ConnectionOptions): Promise<PeerCertificate | undefined> {
  const { host, port, secure } = target(url);
  const lax = { ...tls, rejectUnauthorized: false };
  try {
    if (secure) {
      return await new Promise<PeerCertificate>((resolve, reject) => {
        const socket = tlsConnect({ ...lax, host, port, timeout: dir.timeoutMs });
        socket.once('secureConnect', () => {
          const cert = socket.getPeerCertificate(true);
          socket.destroy();
          resolve(cert);
        });
        socket.once('timeout', () => socket.destroy(new Error('timeout')));
        socket.once('error', reject);
      });
    }
    const { client, sockets } = ldapClient(url, dir, undefined);
    try {
      await client.startTLS(lax);
      return sockets[0]?.getPeerCertificate(true);
    } finally {
      await client.unbind().catch(() => {});
    }
  } catch {
    return undefined;
  }
}

const certSummary = (s: TLSSocket | undefined): string => {
  const cert = s?.getPeerCertificate();
  if (!cert || !cert.subject) return '';
  return `, certificate ${certificateNames(cert).join(', ') || dn(cert.subject)} (issued by ${dn(cert.issuer)})`;
};

/**
 * Checks one DC as the server will use it: reach it, open the connection as Directory does (ldaps, or
 * StartTLS when directory.startTls), bind as the service account, and test the TLS that password changes
 * need (StartTLS on an ldap:// URL without startTls). Returns what went right and what to fix.
 */
export async function checkDomainController(url: string, dir: DirectoryConfig, ca: Buffer | undefined): Promise<CheckLine[]> {
  const { host, port, secure } = target(url);
  const tls = directoryTlsOptions(dir, ca);
  const ctx: ExplainContext = { url, host, port, timeoutMs: dir.timeoutMs, bindDn: dir.bindDn, caFile: dir.caFile, tlsServerName: dir.tlsServerName };
  const problem = async (err: unknown, stage: Stage): Promise<CheckLine> => {
    if (isTlsError(err) && !(err as { cert?: unknown }).cert) ctx.cert = await readPeerCertificate(url, dir, tls);
    return { status: 'problem', subject: url, text: explainDirectoryError(err, stage, ctx), raw: rawText(err) };
  };

  try {
    await tcpProbe(host, port, dir.timeoutMs);
  } catch (err) {
    return [await problem(err, 'tcp')];
  }

  const lines: CheckLine[] = [];
  const startTls = dir.startTls && !secure;
  const main = ldapClient(url, dir, secure ? tls : undefined);
  try {
    if (startTls) await main.client.startTLS({ ...tls });
    await main.client.bind(dir.bindDn, dir.bindPassword ?? '');
    const how = secure ? 'LDAPS' : startTls ? 'StartTLS' : 'plain LDAP';
    lines.push({ status: 'ok', subject: url, text: `service account ${dir.bindDn} bound (${how}${certSummary(main.sockets[0])})`, bound: true });
  } catch (err) {
    return [await problem(err, main.inHandshake() ? 'tls' : 'ldap')];
  } finally {
    await main.client.unbind().catch(() => {});
  }

  // Password changes (src/directory/directory.ts changePassword) add StartTLS to a plain ldap:// connection.
  if (secure || startTls) {
    lines.push({ status: 'ok', subject: url, text: `password changes: over the same ${secure ? 'LDAPS' : 'StartTLS'} connection` });
  } else {
    const pwc = ldapClient(url, dir, undefined);
    try {
      await pwc.client.startTLS({ ...tls });
      lines.push({ status: 'ok', subject: url, text: `password changes: StartTLS works${certSummary(pwc.sockets[0])}` });
    } catch (err) {
      ctx.inHandshake = pwc.inHandshake();
      lines.push(await problem(err, 'password-change'));
    } finally {
      await pwc.client.unbind().catch(() => {});
    }
    lines.push({
      status: 'warning',
      subject: url,
      text: 'user passwords of sign-ins cross the network unencrypted (ldap:// without directory.startTls); use ldaps:// or directory.startTls: true in production',
    });
  }
  if (!dir.tlsVerify) {
    lines.push({ status: 'warning', subject: url, text: "directory.tlsVerify is false: the DC's certificate is not verified, so anyone on the path can read passwords" });
  }
  return lines;
}
