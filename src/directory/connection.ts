import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { Config } from '../config/load.js';

export type DirectoryOptions = Config['directory'];

export interface OpenOptions {
  tls: ConnectionOptions;
  /** Connect timeout, and the operation timeout unless `operationTimeoutMs` is given. */
  timeoutMs: number;
  operationTimeoutMs?: number;
  /** Upgrade an ldap:// connection with StartTLS (ldaps:// is TLS from the start). */
  startTls: boolean;
}

/** A new connection to one DC, encrypted as `opts` say. Closed again when StartTLS fails. */
export async function openConnection(url: string, opts: OpenOptions): Promise<Client> {
  const client = new Client({
    url,
    timeout: opts.operationTimeoutMs ?? opts.timeoutMs,
    connectTimeout: opts.timeoutMs,
    // ldapts switches to TLS whenever tlsOptions are given, even for ldap:// (StartTLS gets them below).
    ...(url.startsWith('ldaps://') ? { tlsOptions: opts.tls } : {}),
    strictDN: false,
  });
  if (opts.startTls && url.startsWith('ldap://')) {
    try {
      await client.startTLS(opts.tls);
    } catch (err) {
      await client.unbind().catch(() => {});
      throw err;
    }
  }
  return client;
}

/** A new connection to one DC, bound as the service account (`directory.bindDn`); closed again on failure. */
export async function connectServiceAccount(url: string, dir: Pick<DirectoryOptions, 'bindDn' | 'bindPassword'>, opts: OpenOptions): Promise<Client> {
  const client = await openConnection(url, opts);
  try {
    await client.bind(dir.bindDn, dir.bindPassword!);
    return client;
  } catch (err) {
    await client.unbind().catch(() => {});
    throw err;
  }
}
