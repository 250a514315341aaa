import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../src/state/redis.js';

/** A real loopback connection: the server side collects what arrives. */
async function pair(): Promise<{ client: Socket; received: () => string; close: () => void }> {
  let data = '';
  const server = createServer((s) => s.on('data', (d) => (data += d)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  return { client, received: () => data, close: () => (client.destroy(), server.close()) };
}

describe('coalesceWrites', () => {
  let close = () => {};
  afterEach(() => close());

  it('holds the writes of one turn of the event loop and sends them together after it', async () => {
    const p = await pair();
    close = p.close;
    coalesceWrites(p.client);
    const ping = '*1\r\n$4\r\nPING\r\n';
    const get = '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n';
    p.client.write(ping);
    p.client.write(get);
    // Both are still in this process (corked), in order.
    expect(p.client.writableCorked).toBe(1);
    expect(p.client.writableLength).toBe(ping.length + get.length);
    await new Promise((r) => setImmediate(r));
    expect(p.client.writableCorked).toBe(0);
    for (let i = 0; i < 100 && p.received().length < ping.length + get.length; i++) await new Promise((r) => setTimeout(r, 5));
    expect(p.received()).toBe(ping + get);
  });

  it('corks again in the next turn, and a write callback still runs', async () => {
    const p = await pair();
    close = p.close;
    coalesceWrites(p.client);
    const done: string[] = [];
    p.client.write('a', () => done.push('a'));
    await new Promise((r) => setImmediate(r));
    p.client.write('b', () => done.push('b'));
    expect(p.client.writableCorked).toBe(1);
    for (let i = 0; i < 100 && done.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(done).toEqual(['a', 'b']);
    expect(p.received()).toBe('ab');
  });
});
