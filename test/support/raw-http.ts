// Raw HTTP/1.1 on pre-opened sockets: for attacks that need requests to land at the same instant.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** Opens `n` connections to `baseUrl` and waits until all are connected. */
export async function openSockets(baseUrl: string, n: number): Promise<Socket[]> {
  const { hostname, port } = new URL(baseUrl);
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(Number(port), hostname, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
}

/** One complete request as bytes (Connection: close, so the answer ends with the connection). */
export function rawRequest(method: string, path: string, headers: Record<string, string>, body = ''): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: gatehouse.test', 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * Writes every request on its own already-open socket in one synchronous loop (so they reach the server
 * together), then collects the answers. Bounded: sockets are destroyed after `timeoutMs`.
 */
export async function fireTogether(sockets: Socket[], requests: Buffer[], timeoutMs = 20_000): Promise<RawResponse[]> {
  const answers = sockets.map(
    (s) =>
      new Promise<RawResponse>((resolve) => {
        const chunks: Buffer[] = [];
        s.on('data', (c) => chunks.push(c));
        s.on('error', () => {});
        const t = setTimeout(() => s.destroy(), timeoutMs);
        s.once('close', () => {
          clearTimeout(t);
          const text = Buffer.concat(chunks).toString('utf8');
          const [head = '', ...rest] = text.split('\r\n\r\n');
          resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: rest.join('\r\n\r\n') });
        });
      }),
  );
  sockets.forEach((s, i) => s.write(requests[i]!));
  return Promise.all(answers);
}
