// Run inside another network namespace (nsenter --net=...): for each port, listens on DIR/<port>.sock and
// relays every connection to HOST:<port> there. The test's side (private-net.ts) listens on TCP in its own
// namespace and connects to these sockets, which the file system shares across namespaces.
//
//   node netns-relay.mjs DIR HOST PORT...
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const [dir, host, ...ports] = process.argv.slice(2);
let pending = ports.length;
for (const port of ports.map(Number)) {
  createServer((inbound) => {
    const outbound = connect(port, host);
    inbound.pipe(outbound).pipe(inbound);
    // A refused or reset connection closes the other side too, as a plain TCP connection would.
    outbound.on('error', () => inbound.destroy());
    inbound.on('error', () => outbound.destroy());
  }).listen(join(dir, `${port}.sock`), () => {
    if (--pending === 0) process.stdout.write('ready\n');
  });
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
