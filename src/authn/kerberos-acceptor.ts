import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from '../errors.js';
import type * as KerberosModule from 'kerberos';
import type { KerberosConfig } from '../config/kerberos.js';

/** Why a Kerberos token was not accepted: for the log line (the user only ever sees the login form). */
export class KerberosRefusal extends Error {
  override name = 'KerberosRefusal';
}

type Kerberos = typeof KerberosModule;
let kerberos: Kerberos | undefined;

/**
 * The native `kerberos` module (MIT GSSAPI), loaded at first use: an installation without Kerberos
 * sign-in never needs libgssapi.
 * @throws Error saying how to build it when it is not there
 */
export function loadKerberos(): Kerberos {
  if (kerberos) return kerberos;
  try {
    kerberos = createRequire(import.meta.url)('kerberos') as Kerberos;
  } catch (err) {
    throw new Error(
      `the native module "kerberos" does not load (${(err as Error).message.split('\n')[0]}): install libkrb5-dev, g++, make and python3, then run npm rebuild kerberos`,
      { cause: err },
    );
  }
  return kerberos;
}

/**
 * At start-up, with Windows sign-in on: the native module loads and the keytab can be read, so a broken
 * set-up stops the server with the reason rather than failing each sign-in (check-config says more).
 * @throws ConfigError naming kerberos.keytab, or saying how to build the module
 */
export function assertKerberosReady(config: Pick<KerberosConfig, 'enabled' | 'keytab'>): void {
  if (!config.enabled) return;
  try {
    accessSync(config.keytab!, constants.R_OK);
  } catch (err) {
    throw new ConfigError(`kerberos.keytab: cannot read ${config.keytab} (${(err as NodeJS.ErrnoException).code}); "gatehouse check-config" says how to make it`);
  }
  try {
    loadKerberos();
  } catch (err) {
    throw new ConfigError(`kerberos.enabled: ${(err as Error).message}`);
  }
}

/**
 * Accepts Kerberos AP-REQs (in SPNEGO or bare) with the key of the service principal from the keytab.
 * GSSAPI also checks the ticket's times and the authenticator's freshness, and keeps a replay cache of
 * authenticators (MIT: a file in KRB5RCACHEDIR, /var/tmp by default; one per server).
 */
export class KerberosAcceptor {
  constructor(private readonly config: Pick<KerberosConfig, 'keytab' | 'servicePrincipal'>) {
    // MIT reads the keytab named by KRB5_KTNAME (process-wide; Gatehouse has one service principal).
    if (config.keytab) process.env.KRB5_KTNAME = `FILE:${config.keytab}`;
  }

  /**
   * The client principal (alice@CORP.EXAMPLE.COM) and the answer token for mutual authentication.
   * @throws KerberosRefusal when GSSAPI refuses the token or it is for another service
   */
  async accept(base64: string): Promise<{ principal: string; response: string | undefined }> {
    const k = loadKerberos();
    // No service name: GSSAPI accepts a ticket for any key of the keytab and names the one it used, which
    // is then compared with ours (no host name canonicalisation, whatever the machine's DNS says).
    const server = await k.initializeServer('');
    try {
      await server.step(base64);
    } catch (err) {
      throw new KerberosRefusal((err as Error).message);
    }
    if (!server.contextComplete || !server.username) throw new KerberosRefusal('the security context is not complete (a multi-leg token)');
    const target = server.targetName ?? '';
    if (target.toLowerCase() !== this.config.servicePrincipal.toLowerCase()) {
      throw new KerberosRefusal(`ticket for ${target}, not for ${this.config.servicePrincipal}`);
    }
    return { principal: server.username, response: server.response || undefined };
  }
}
