// check-config's look at each domain controller: can this machine reach it, does the service account
// bind, does the TLS that password changes need work. Each failure becomes one line that says what to fix,
// with the raw error kept beside it. Connections are opened the way src/directory/directory.ts opens them
// (same ldapts options, StartTLS when configured), stage by stage so that each stage's error is its own.
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Client } from 'ldapts';
import type { Config } from '../config/load.js';
import { certificateNames, distinguishedName, explainDirectoryError, isTlsError, rawText, type ExplainContext, type Stage } from './explain-directory-error.js';

export { certificateNames, explainDirectoryError, rawText, type ExplainContext, type Stage } from './explain-directory-error.js';

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
  return `, certificate ${certificateNames(cert).join(', ') || distinguishedName(cert.subject)} (issued by ${distinguishedName(cert.issuer)})`;
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
