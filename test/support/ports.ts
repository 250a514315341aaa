// Ports for the servers a test starts as child processes or builds before it listens (redis-server,
// HAProxy, `gatehouse serve`, an app whose publicUrl must be known first): chosen, checked free, then
// given to the server a moment later.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Below the kernel's ephemeral range: in the gap between the check and the server's bind, an outgoing
// connection (to the DC, to Redis) takes its local port from that range, never from this one; and a port
// is handed out once per test process, so two servers of one farm never get the same one.
const LOW = 20_000;
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A loopback port no one listens on, outside the ephemeral range, not handed out before in this process. */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  if (high - LOW < 1000) throw new Error(`net.ipv4.ip_local_port_range starts at ${high}: the tests need ports ${LOW}..${LOW + 999} outside it`);
  for (let i = 0; i < 100; i++) {
    const port = randomInt(LOW, high);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port in ${LOW}..${high - 1} after 100 tries`);
}
