import type { Client } from 'ldapts';

interface Idle {
  client: Client;
  since: number;
}

/**
 * Connections kept for password checks, per domain controller. LDAP lets a connection bind again and
 * again (each bind replaces the identity), so a password check can reuse one instead of paying a TCP
 * connect (and a TLS handshake with StartTLS or LDAPS) every time: about a third of a sign-in's directory
 * time against Samba. These connections only ever carry binds, never searches, so the identity left on them
 * by the last user grants nothing. Idle ones are dropped after `maxIdleMs`, before the DC's own idle
 * timeout (AD's MaxConnIdleTime is 15 minutes) can close them under a request.
 */
export class BindPool {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;

  constructor(
    private readonly open: (url: string) => Promise<Client>,
    private readonly maxIdlePerDc: number,
    private readonly maxIdleMs = 60_000,
  ) {}

  /** A connection to `url`: an idle one when there is one (`reused`), else (or when `fresh`) a new one. */
  async acquire(url: string, fresh = false, now = Date.now()): Promise<{ client: Client; reused: boolean }> {
    const list = this.idle.get(url);
    while (!fresh && list?.length) {
      const { client, since } = list.pop()!;
      if (client.isConnected && now - since < this.maxIdleMs) return { client, reused: true };
      void client.unbind().catch(() => {});
    }
    return { client: await this.open(url), reused: false };
  }

  /** Back to the pool after a bind that got an answer (accepted or refused); closed when the pool is full. */
  release(url: string, client: Client, now = Date.now()): void {
    const list = this.idle.get(url) ?? [];
    if (this.closed || !client.isConnected || list.length >= this.maxIdlePerDc) {
      void client.unbind().catch(() => {});
      return;
    }
    list.push({ client, since: now });
    this.idle.set(url, list);
  }

  /** For a connection that failed mid-operation: never reused. */
  discard(client: Client): void {
    void client.unbind().catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map(({ client }) => client.unbind().catch(() => {})));
  }
}
