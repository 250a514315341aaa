// A real farm for the tests: redis-server on a private port, three `gatehouse serve` processes with their
// own stateDirs, and HAProxy in front (round-robin, HTTP health check on /adfs/probe, X-Forwarded-For).
// Everything listens on the test run's own loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, freePort, runCliAsync, ServeProcess, writeConfig } from '../support/cli.js';
import { baseConfig } from '../support/gatehouse.js';
import { Browser } from '../support/http.js';
import { createFarmKey } from '../../src/farm/farm-key.js';

export const M365 = 'urn:federation:MicrosoftOnline';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `ok` holds. A throw counts as "not yet" (kept for the timeout's message): a keep-alive
 * socket a server closed while the test sat in a synchronous CLI run fails the next fetch once.
 */
async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await ok()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`, { cause: last });
    await wait(50);
  }
}

/** A child process whose output is kept (for failures) and that is never left behind. */
class Child {
  out = '';
  readonly exit: Promise<number | null>;
  constructor(readonly proc: ChildProcess) {
    proc.stdout?.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    proc.stderr?.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    this.exit = new Promise((r) => proc.once('close', (code) => r(code)));
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exit;
    clearTimeout(t);
  }
}

/** redis-server on 127.0.0.1:port without persistence; stop() and start() again on the same port (an outage). */
export class RedisServer {
  private child: Child | undefined;
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async create(): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'farm-redis-'));
    const r = new RedisServer(await freePort(), dir);
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = new Child(proc);
    await until('redis-server ready', () => this.child!.out.includes('Ready to accept connections'));
  }

  async stop(): Promise<void> {
    await this.child?.stop('SIGKILL');
    this.child = undefined;
  }

  /** One command through redis-cli (the oracle: independent of Gatehouse's client). */
  async cli(...args: string[]): Promise<string> {
    const proc = spawn('redis-cli', ['-p', String(this.port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = new Child(proc);
    await c.exit;
    return c.out.trim();
  }
}

export interface FarmNode {
  name: string;
  port: number;
  url: string;
  dir: string;
  configFile: string;
  serve: ServeProcess;
}

/** HAProxy in front of the nodes: round-robin, health check every `interMs` (down after 2 failures). */
export class Balancer {
  private child: Child | undefined;
  constructor(
    readonly port: number,
    private readonly file: string,
  ) {}

  static async create(nodes: { name: string; port: number }[], port: number, interMs = 300): Promise<Balancer> {
    const dir = mkdtempSync(join(tmpdir(), 'farm-haproxy-'));
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, haproxyConfig(nodes, port, interMs, join(dir, 'stats.sock')));
    const b = new Balancer(port, file);
    b.socket = join(dir, 'stats.sock');
    await b.start();
    return b;
  }

  socket = '';

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = new Child(spawn('haproxy', ['-db', '-f', this.file], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await until('haproxy answers', async () => {
      try {
        return (await fetch(`${this.url}/adfs/probe`)).status === 200;
      } catch {
        return false;
      }
    });
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }

  get output(): string {
    return this.child?.out ?? '';
  }
}

/** The HAProxy configuration docs/farm.md shows, with the test's ports and a short check interval. */
export function haproxyConfig(nodes: { name: string; port: number }[], port: number, interMs: number, statsSocket: string): string {
  return `global
  maxconn 2000
  stats socket ${statsSocket} mode 600 level admin

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # A request whose connection failed, or that got no answer at all from a server that died, goes to
  # another server (the request is buffered, so it can be sent again).
  option http-buffer-request
  retries 2
  retry-on conn-failure empty-response response-timeout
  option redispatch 1

frontend gatehouse
  bind 127.0.0.1:${port}
  option forwardfor
  default_backend gatehouse

backend gatehouse
  balance roundrobin
  option httpchk GET /adfs/probe
  http-check expect status 200
  default-server inter ${interMs}ms fall 2 rise 2
${nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check`).join('\n')}
`;
}

export interface FarmOptions {
  nodes?: number;
  redis: RedisServer;
  /** Changes to every node's configuration (after the farm's own settings). */
  mutate?: (cfg: Record<string, any>, index: number) => void;
  interMs?: number;
}

/**
 * Three (or `nodes`) Gatehouse servers sharing `redis`, with HAProxy in front. Every node has its own
 * directory and stateDir; they share the token-signing key, the session key and publicUrl (the balancer).
 */
export class Farm {
  nodes: FarmNode[] = [];
  balancer!: Balancer;
  private readonly dir = mkdtempSync(join(tmpdir(), 'farm-'));

  static async start(opts: FarmOptions): Promise<Farm> {
    ensureBuilt();
    const farm = new Farm();
    const n = opts.nodes ?? 3;
    const lbPort = await freePort();
    // The keys every node shares (as an operator would copy them, until the farm distributes them).
    const shared = join(farm.dir, 'shared');
    mkdirSync(shared);
    baseConfig(shared);
    createFarmKey(join(shared, 'farm.key'));
    const ports: number[] = [];
    for (let i = 0; i < n; i++) ports.push(await freePort());
    for (let i = 0; i < n; i++) {
      const name = `node${i + 1}`;
      const dir = join(farm.dir, name);
      mkdirSync(dir);
      const cfg: Record<string, any> = baseConfig(shared, ports[i]);
      cfg.publicUrl = `http://127.0.0.1:${lbPort}`;
      cfg.logLevel = 'info';
      cfg.stateDir = join(dir, 'var');
      cfg.trustedProxies = ['127.0.0.1'];
      cfg.state = { redis: { url: opts.redis.url } };
      cfg.http = { drainSeconds: 1 };
      opts.mutate?.(cfg, i);
      const configFile = writeConfig(dir, 'gatehouse.yaml', cfg);
      farm.nodes.push({ name, port: ports[i]!, url: `http://127.0.0.1:${ports[i]}`, dir, configFile, serve: undefined as unknown as ServeProcess });
    }
    await Promise.all(farm.nodes.map((node) => farm.startNode(node)));
    farm.balancer = await Balancer.create(farm.nodes, lbPort, opts.interMs ?? 300);
    return farm;
  }

  async startNode(node: FarmNode): Promise<void> {
    node.serve = new ServeProcess(['--config', node.configFile], { cwd: node.dir });
    await node.serve.ready(20_000);
  }

  get url(): string {
    return this.balancer.url;
  }

  /** Every log line of every node (JSON), with the node's name. */
  logs(): (Record<string, any> & { node: string })[] {
    return this.nodes.flatMap((n) => n.serve.logLines().map((l) => ({ ...l, node: n.name })));
  }

  /** A CLI command against a node's configuration; async, so the test's own sockets stay serviced meanwhile. */
  cli(args: string[], node = this.nodes[0]!) {
    return runCliAsync([...args, '--config', node.configFile], { cwd: node.dir });
  }

  async stop(): Promise<void> {
    await this.balancer?.stop();
    await Promise.all(this.nodes.map((n) => n.serve?.stop('SIGTERM', 8000).catch(() => n.serve.kill())));
  }
}

/** A browser sign-in through `base` (GET the login page, POST the password); the client address by X-Forwarded-For. */
export async function formSignIn(base: string, from: string, username: string, password: string): Promise<{ status: number; token: boolean; body: string }> {
  const b = new Browser({ 'x-forwarded-for': from });
  const form = (await b.get(`${base}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`)).form();
  // The form's action is publicUrl (the balancer); a test aimed at one node posts to that node.
  const action = form.action.replace(/^http:\/\/127\.0\.0\.1:\d+/, base);
  const page = await b.post(action, { ...form.fields, UserName: username, Password: password });
  return { status: page.status, token: page.body.includes('name="wresult"'), body: page.body };
}

export { until, wait };

/**
 * nginx in front of the nodes with the configuration docs/farm.md shows (the test's ports, plain HTTP
 * instead of its TLS lines, and the file locations of a process of the test's own).
 */
export function nginxConfig(nodes: { port: number }[], port: number, dir: string): string {
  return `daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  upstream gatehouse {
${nodes.map((n) => `    server 127.0.0.1:${n.port} max_fails=2 fail_timeout=5s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location = /adfs/probe { if ($arg_verbose) { return 403; } proxy_pass http://gatehouse; }
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_next_upstream error timeout http_503;
      proxy_next_upstream_tries 2;
    }
  }
}
`;
}

/** nginx (Debian's) with nginxConfig, as a process of the test's own. */
export class Nginx {
  private child: Child | undefined;
  private constructor(readonly port: number) {}

  static async start(nodes: { port: number }[]): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'farm-nginx-'));
    const n = new Nginx(await freePort());
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(nodes, n.port, dir));
    n.child = new Child(spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await until('nginx answers', async () => {
      try {
        return (await fetch(`${n.url}/adfs/probe`)).status === 200;
      } catch {
        return false;
      }
    });
    return n;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.child?.out ?? '';
  }

  async stop(): Promise<void> {
    await this.child?.stop('SIGQUIT');
  }
}
