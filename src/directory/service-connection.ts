import { ResultCodeError, type Client } from 'ldapts';
import type { Logger } from 'pino';
import { GatehouseError } from '../errors.js';
import { connectServiceAccount, type DirectoryOptions, type OpenOptions } from './connection.js';
import { observeLdap, type DcFailover } from './failover.js';

export interface ServiceClient {
  client: Client;
  url: string;
}

/**
 * The one long-lived connection bound as the service account, for look-ups (reused, not opened per
 * request). It is opened on the first DC that accepts the service account, and opened again (on the next
 * DC when the last one failed) when an operation on it fails without an LDAP answer.
 */
export class ServiceConnection {
  private current: ServiceClient | undefined;
  private connecting: Promise<ServiceClient> | undefined;

  constructor(
    private readonly dir: DirectoryOptions,
    private readonly open: OpenOptions,
    private readonly dcs: DcFailover,
    private readonly log: Logger,
  ) {}

  /** The open connection, or a new one on the first DC that accepts the service account. @throws GH_DIRECTORY_UNAVAILABLE */
  async get(): Promise<ServiceClient> {
    if (this.current?.client.isConnected) return this.current;
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    this.current = await this.connecting;
    return this.current;
  }

  private connect(): Promise<ServiceClient> {
    return this.dcs.run({
      what: 'service account bind',
      attempt: async (url) => {
        const client = await connectServiceAccount(url, this.dir, this.open);
        this.log.info({ dc: url }, 'directory: service account connected');
        return { client, url };
      },
      describe: (err) => (err instanceof ResultCodeError ? `service account bind refused: ${err.message}` : (err as Error).message),
    });
  }

  async drop(): Promise<void> {
    const old = this.current;
    this.current = undefined;
    await old?.client.unbind().catch(() => {});
  }

  /**
   * `op` on the service-account connection. An error other than a GatehouseError (which `op` throws for an
   * answer it refuses) is taken as a broken connection: it is dropped and `op` runs again on a new one,
   * starting with the next DC, up to once per DC more.
   * @throws GH_DIRECTORY_UNAVAILABLE
   */
  async use<T>(what: string, op: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { client, url } = await this.get();
      const started = performance.now();
      try {
        const result = await op(client);
        observeLdap(url, 'search', started);
        this.dcs.seen(url, true);
        return result;
      } catch (err) {
        observeLdap(url, 'search', started, err);
        if (err instanceof GatehouseError) throw err;
        await this.drop();
        this.dcs.failed(url, err);
        this.log.warn({ dc: url, err: (err as Error).message }, `directory: ${what} failed`);
        if (attempt >= this.dcs.urls.length) {
          throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: `${what} failed: ${(err as Error).message}`, cause: err });
        }
        this.dcs.skip(url);
      }
    }
  }
}
