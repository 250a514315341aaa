// Processes in a network namespace of their own, and ports of that namespace published on the test's
// 127.0.0.1 (as `docker run -p 127.0.0.1:8080:8080` does). For whole setups that listen on fixed ports
// (npm run demo, the Docker trial), which must not meet the test DC on this namespace's 127.0.0.1:389.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const relayScript = fileURLToPath(new URL('./netns-relay.mjs', import.meta.url));

/** A child process whose output is kept, so that a failure can show what it said. */
export class Proc {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (process.env.GATEHOUSE_TEST_LOG) process.stderr.write(`[${name}] ${chunk.toString()}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      }),
    );
    child.on('error', (err) => (this.output += `\n[spawn error] ${err.message}\n`));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The last lines of its output, for failure messages. */
  tail(lines = 60): string {
    return `--- last output of ${this.name}${this.exitStatus ? ` (exited: ${JSON.stringify(this.exitStatus)})` : ''} ---\n` +
      this.output.split('\n').slice(-lines).join('\n');
  }

  /** Waits until the output matches; fails with the output if the process ends first or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.output);
      if (m) return m;
      if (this.exitStatus) throw new Error(`${this.name} ended before printing ${pattern}\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs / 1000} s\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends a signal to its whole process group (it is started as a group leader), as a terminal's Ctrl-C does. */
  signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      /* gone */
    }
  }

  /** SIGTERM to the group, then SIGKILL if it has not ended after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitStatus) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function startProc(name: string, argv: string[], opts: SpawnOptions = {}): Proc {
  return new Proc(name, spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts }));
}

/** Starts argv in a new network namespace with its loopback up (the process is the namespace's holder). */
export function startInOwnNetns(name: string, argv: string[], opts: SpawnOptions = {}): Proc {
  return startProc(name, ['unshare', '-n', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...argv], opts);
}

export interface Published {
  close(): Promise<void>;
}

/**
 * Makes TARGET:port inside the network namespace of process nsPid reachable as 127.0.0.1:port (and [::1]:port
 * where the loopback has it) here. Like Docker's port publishing, only what listens on TARGET there is
 * reached: with a target of 127.0.0.2, a server bound to 127.0.0.1 only is not, as a container's server
 * bound to its loopback is not reached by a published port.
 */
export async function publishPorts(nsPid: number, ports: number[], target = '127.0.0.1'): Promise<Published> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-relay-'));
  const inside = startProc('port relay', ['nsenter', `--net=/proc/${nsPid}/ns/net`, '--', process.execPath, relayScript, dir, target, ...ports.map(String)]);
  await inside.waitFor(/^ready$/m, 10_000);
  const servers: Server[] = [];
  const open = new Set<Socket>();
  for (const port of ports) {
    for (const host of ['127.0.0.1', '::1']) {
      const server = createServer((sock) => {
        const up = connect(join(dir, `${port}.sock`));
        for (const s of [sock, up]) {
          open.add(s);
          s.on('close', () => open.delete(s));
        }
        sock.pipe(up).pipe(sock);
        up.on('error', () => sock.destroy());
        sock.on('error', () => up.destroy());
      });
      const ok = await new Promise<boolean>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          host === '::1' && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT') ? resolve(false) : reject(err),
        );
        server.listen(port, host, () => resolve(true));
      });
      if (ok) servers.push(server);
    }
  }
  return {
    async close() {
      for (const s of servers) s.close();
      for (const s of open) s.destroy();
      await inside.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
