import { createServer, type Server } from 'node:http';

/** A relying party's reply URL for browser tests: records each form POSTed to /acs and answers "received". */
export interface FormCatcher {
  /** http://127.0.0.1:<port>/acs */
  acsUrl: string;
  /** Form posts received, newest last. */
  received: URLSearchParams[];
  close(): Promise<void>;
}

export async function startFormCatcher(): Promise<FormCatcher> {
  const received: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/acs') received.push(new URLSearchParams(Buffer.concat(chunks).toString()));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>RP</title><p id="rp">received</p>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    acsUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/acs`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
