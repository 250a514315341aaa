// Runs docker-compose.yml's services without a Docker engine (none runs here), as close to the containers as
// this machine allows, so that the trial is tested by running it rather than by reading the file:
//
// - the file as `docker-compose config` reads it (validated and normalised by Debian's docker-compose);
// - each service's image from its Dockerfile's last stage: a root file system that is an overlay of this
//   Debian 12 machine (the images are Debian 12 too) on a tmpfs, with each COPY bind-mounted read-only at its
//   destination (a `COPY --from=<stage>` of <stage's WORKDIR>/X takes X from the build context, built by
//   `npm run build`), each RUN run in it, ENV, WORKDIR and USER applied; a `node:*` base puts the test's
//   node at /usr/local/bin/node and has the image's node user (uid 1000);
// - volumes: a named volume is a directory that exists before the start and is bind-mounted at its target,
//   so it is a mount point as in Docker (rm -rf of it fails with "Device or resource busy"); an empty named
//   volume first gets the image's content and owner at that path, as Docker does; bind mounts and :ro too;
// - one network namespace for the services that say network_mode: service:<name>, as compose does;
// - ENTRYPOINT/CMD and the service's entrypoint/command with Docker's rules, run as the image's USER in a
//   mount namespace of its own (chroot), with only the image's and the service's environment, and only
//   Docker's default capabilities (no CAP_SYS_ADMIN, root or not);
// - healthchecks run inside the container (nsenter into its namespaces and root), depends_on conditions;
// - published ports: host_ip:port on the test's loopback relays to the container's port on 127.0.0.2 in its
//   namespace, which stands for the container's own interface: like Docker's, it reaches a server that
//   listens on 0.0.0.0, not one that listens on 127.0.0.1 only;
// - docker stop: SIGTERM to the container's process 1, SIGKILL to all its processes after the grace period;
// - apt-get and apt fail when a container's process calls them after the build (a service must not install
//   packages at every start).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { publishPorts, startInOwnNetns, startProc, type Proc, type Published } from '../support/private-net.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/**
 * Docker's default capabilities: a container's processes (and RUN steps, and docker exec) have no others,
 * root included. Without CAP_SYS_ADMIN, for one, Samba cannot write security.* extended attributes.
 */
export const DOCKER_CAPS = ['chown', 'dac_override', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'net_bind_service', 'net_raw', 'sys_chroot', 'mknod', 'audit_write', 'setfcap'];
const SETPRIV = ['setpriv', `--bounding-set=-all,${DOCKER_CAPS.map((c) => `+${c}`).join(',')}`, '--inh-caps=-all'];

/** The address that stands for a container's own network interface inside its namespace. */
export const CONTAINER_ADDRESS = '127.0.0.2';

export interface Image {
  from: string;
  steps: ({ kind: 'copy'; src: string; dest: string } | { kind: 'run'; command: string[]; user: string })[];
  env: Record<string, string>;
  workdir: string;
  user: string;
  entrypoint: string[];
  cmd: string[];
  healthcheck?: string[];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const words = (a: string[]) => a.map(q).join(' ');

/** Dockerfile instructions: comments dropped, continuation lines joined. */
function instructions(text: string): { op: string; args: string }[] {
  const out: { op: string; args: string }[] = [];
  let cur = '';
  for (const line of text.split('\n')) {
    if (!cur && /^\s*(#|$)/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      cur += line.replace(/\\\s*$/, ' ');
      continue;
    }
    cur += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(cur);
    if (!m) throw new Error(`Dockerfile: cannot read "${cur}"`);
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim() });
    cur = '';
  }
  return out;
}

/** The exec form (JSON array) as is; the shell form as Docker runs it. */
function execForm(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
}

/** The last stage of a Dockerfile, as the steps that make its file system and the settings of its image. */
export function readDockerfile(file: string, context: string): Image {
  const stages: { name?: string; workdir: string }[] = [];
  let image: Image | undefined;
  for (const { op, args } of instructions(readFileSync(file, 'utf8'))) {
    if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ name: m[2], workdir: '/' });
      image = { from: m[1]!, steps: [], env: {}, workdir: '/', user: 'root', entrypoint: [], cmd: [] };
      if (image.from.startsWith('node:')) image.cmd = ['node'];
      if (image.from.startsWith('debian:')) image.cmd = ['bash'];
      continue;
    }
    if (!image) throw new Error(`${file}: ${op} before FROM`);
    const stage = stages.at(-1)!;
    const abs = (p: string) => posix.resolve(image!.workdir, p);
    switch (op) {
      case 'WORKDIR':
        image.workdir = stage.workdir = abs(args);
        break;
      case 'ENV': {
        const m = /^(\w+)\s+([^=]*)$/.exec(args);
        if (m) image.env[m[1]!] = m[2]!.trim();
        else for (const [, k, v] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) image.env[k!] = v!.replace(/^"|"$/g, '');
        break;
      }
      case 'USER':
        image.user = args;
        break;
      case 'ENTRYPOINT':
        image.entrypoint = execForm(args);
        image.cmd = [];
        break;
      case 'CMD':
        image.cmd = execForm(args);
        break;
      case 'HEALTHCHECK': {
        const m = /\bCMD\s+([\s\S]+)$/.exec(args);
        image.healthcheck = m ? execForm(m[1]!) : undefined;
        break;
      }
      case 'RUN':
        image.steps.push({ kind: 'run', command: execForm(args), user: image.user });
        break;
      case 'COPY': {
        const parts = args.split(/\s+/);
        let from: string | undefined;
        while (parts[0]?.startsWith('--')) {
          const flag = parts.shift()!;
          if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
          else throw new Error(`${file}: COPY ${flag} is not emulated by test/docker`);
        }
        const rawDest = parts.pop()!;
        const dest = abs(rawDest);
        for (const src of parts) {
          let hostPath: string;
          if (from) {
            const source = stages.find((s) => s.name === from);
            if (!source) throw new Error(`${file}: COPY --from=${from}: no such stage`);
            // What the build stage made at its WORKDIR/X is the context's X after npm ci and npm run build.
            hostPath = resolve(context, posix.relative(source.workdir, posix.resolve(source.workdir, src)));
          } else hostPath = resolve(context, src);
          if (!existsSync(hostPath)) throw new Error(`${file}: COPY ${src}: ${hostPath} does not exist (run npm run build)`);
          const target = parts.length > 1 || rawDest.endsWith('/') ? posix.join(dest, posix.basename(src)) : dest;
          image.steps.push({ kind: 'copy', src: hostPath, dest: target });
        }
        break;
      }
      case 'EXPOSE':
      case 'VOLUME':
      case 'LABEL':
      case 'ARG':
        break;
      default:
        throw new Error(`${file}: ${op} is not emulated by test/docker`);
    }
  }
  if (!image) throw new Error(`${file}: no FROM`);
  return image;
}

export interface Service {
  name: string;
  image: Image;
  /** What the container runs: entrypoint + command after Docker's rules. */
  argv: string[];
  env: Record<string, string>;
  volumes: { source: string; target: string; named: boolean; readOnly: boolean }[];
  networkMode?: string;
  ports: { hostIp: string; hostPort: number; containerPort: number }[];
  healthcheck?: { test: string[]; intervalMs: number; retries: number };
  dependsOn: Record<string, string>;
}

export function readCompose(root: string, file = 'docker-compose.yml'): { services: Service[]; volumes: string[]; normalized: any } {
  const r = spawnSync('docker-compose', ['-f', file, 'config'], { cwd: root, encoding: 'utf8' });
  if (r.error) throw new Error(`docker-compose config: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`docker-compose config exited ${r.status}: ${r.stderr}`);
  const cfg = parseYaml(r.stdout) as any;
  const services: Service[] = [];
  for (const [name, s] of Object.entries<any>(cfg.services)) {
    if (!s.build) throw new Error(`service ${name}: only services built here are emulated (image: ${s.image})`);
    const context = resolve(root, s.build.context);
    const image = readDockerfile(resolve(context, s.build.dockerfile ?? 'Dockerfile'), context);
    const cmdOf = (v: unknown) => (v === undefined ? undefined : Array.isArray(v) ? v.map(String) : ['/bin/sh', '-c', String(v)]);
    const entrypoint = cmdOf(s.entrypoint);
    const command = cmdOf(s.command);
    // Docker: an entrypoint given by the service drops the image's CMD.
    const argv = [...(entrypoint ?? image.entrypoint), ...(command ?? (entrypoint ? [] : image.cmd))];
    const env = Array.isArray(s.environment)
      ? Object.fromEntries((s.environment as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
      : Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
    const volumes = (s.volumes ?? []).map((v: string | { source: string; target: string; type: string; read_only?: boolean }) => {
      if (typeof v !== 'string') return { source: v.source, target: v.target, named: v.type === 'volume', readOnly: !!v.read_only };
      const [source, target, mode] = v.split(':');
      return { source: source!, target: target!, named: !source!.startsWith('/'), readOnly: mode === 'ro' };
    });
    const ports = (s.ports ?? []).map((p: string | { host_ip?: string; published: number; target: number }) => {
      if (typeof p !== 'string') return { hostIp: p.host_ip ?? '0.0.0.0', hostPort: Number(p.published), containerPort: Number(p.target) };
      const m = /^(?:([\d.]+):)?(\d+):(\d+)(?:\/tcp)?$/.exec(p);
      if (!m) throw new Error(`service ${name}: port "${p}" is not emulated`);
      return { hostIp: m[1] ?? '0.0.0.0', hostPort: Number(m[2]), containerPort: Number(m[3]) };
    });
    const ms = (d: string | undefined, dflt: number) => {
      if (!d) return dflt;
      const m = /^(\d+)(ms|s|m)$/.exec(d);
      if (!m) throw new Error(`service ${name}: duration ${d}`);
      return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[m[2] as 'ms' | 's' | 'm'];
    };
    const hc = s.healthcheck && !s.healthcheck.disable ? s.healthcheck : undefined;
    const healthTest: string[] | undefined = hc
      ? typeof hc.test === 'string'
        ? ['/bin/sh', '-c', hc.test]
        : hc.test[0] === 'CMD-SHELL'
          ? ['/bin/sh', '-c', hc.test[1]]
          : hc.test.slice(1)
      : image.healthcheck;
    const dependsOn: Record<string, string> = Array.isArray(s.depends_on)
      ? Object.fromEntries((s.depends_on as string[]).map((d) => [d, 'service_started']))
      : Object.fromEntries(Object.entries<any>(s.depends_on ?? {}).map(([d, c]) => [d, c.condition ?? 'service_started']));
    services.push({
      name,
      image,
      argv,
      env: { PATH: DEFAULT_PATH, HOSTNAME: name, ...image.env, ...env },
      volumes,
      networkMode: s.network_mode,
      ports,
      healthcheck: healthTest && { test: healthTest, intervalMs: ms(hc?.interval, 30_000), retries: hc?.retries ?? 3 },
      dependsOn,
    });
  }
  return { services, volumes: Object.keys(cfg.volumes ?? {}), normalized: cfg };
}

/** The shell script that makes a service's root file system and runs its process (in its own mount namespace). */
function runnerScript(svc: Service, dirs: { layer: string; root: string; volumes: string; shims: string }): string {
  const R = dirs.root;
  const L: string[] = [
    'set -euo pipefail',
    `R=${q(R)}`,
    // The image: this machine's file system, read-only below a tmpfs that takes the container's writes.
    `mount -t tmpfs -o mode=0755 tmpfs ${q(dirs.layer)}`,
    `mkdir -p ${q(dirs.layer)}/upper ${q(dirs.layer)}/work`,
    `mount -t overlay overlay -o lowerdir=/,upperdir=${q(dirs.layer)}/upper,workdir=${q(dirs.layer)}/work "$R"`,
    'mount --rbind /dev "$R/dev"',
    'mount -t proc proc "$R/proc"',
    'mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"',
    'mount -t tmpfs -o mode=0755 tmpfs "$R/run"',
    // The image's files and the container's mounts are bind mounts; binding a file needs a file to bind onto.
    'bind() { if [[ -d $1 ]]; then mkdir -p "$R$2"; else mkdir -p "$(dirname "$R$2")"; [[ -e $R$2 ]] || : > "$R$2"; fi; mount --bind "$1" "$R$2"; if [[ $3 == ro ]]; then mount -o remount,bind,ro "$R$2"; fi; }',
    `in_image() { local user=$1; shift; ${words(SETPRIV)} chroot --userspec="$user" "$R"`+' /usr/bin/env -i PATH=' + q(DEFAULT_PATH) + ' HOME=/root "$@"; }',
  ];
  if (svc.image.from.startsWith('node:')) {
    // The node images: node in /usr/local/bin, and a user node (1000:1000) with a home.
    L.push(
      `bind ${q(process.execPath)} /usr/local/bin/node ro`,
      'grep -q "^node:" "$R/etc/passwd" || { sed -i "/^[^:]*:x:1000:/d" "$R/etc/passwd"; echo "node:x:1000:1000::/home/node:/bin/bash" >> "$R/etc/passwd"; }',
      'grep -q "^node:" "$R/etc/group" || { sed -i "/^[^:]*:x:1000:/d" "$R/etc/group"; echo "node:x:1000:" >> "$R/etc/group"; }',
      'mkdir -p "$R/home/node" && chown 1000:1000 "$R/home/node"',
    );
  }
  const uid = (user: string) => (user === 'root' ? '0:0' : `$(chroot "$R" id -u ${q(user)}):$(chroot "$R" id -g ${q(user)})`);
  for (const step of svc.image.steps) {
    if (step.kind === 'copy') L.push(`bind ${q(step.src)} ${q(step.dest)} ro`);
    else L.push(`echo "[image] RUN ${step.command.join(' ').replace(/["$`\\]/g, '\\$&')}" >&2`, `in_image "${uid(step.user)}" ${words(step.command)}`);
  }
  // No package installs once the image is built.
  L.push(`for b in apt-get apt; do bind ${q(join(dirs.shims, 'apt-get'))} /usr/bin/$b ro; done`);
  for (const v of svc.volumes) {
    const src = v.named ? join(dirs.volumes, v.source) : v.source;
    if (v.named) {
      // Docker fills an empty named volume with what the image has at the target, owner and mode included.
      L.push(
        `if [[ -d "$R"${q(v.target)} && -z "$(ls -A ${q(src)})" ]]; then cp -a "$R"${q(v.target)}/. ${q(src)}/; chown --reference="$R"${q(v.target)} ${q(src)}; chmod --reference="$R"${q(v.target)} ${q(src)}; fi`,
      );
    }
    L.push(`bind ${q(src)} ${q(v.target)} ${v.readOnly ? 'ro' : 'rw'}`);
  }
  const env = Object.entries(svc.env).map(([k, v]) => `${k}=${v}`);
  const home = svc.image.user === 'root' ? '/root' : `/home/${svc.image.user}`;
  L.push(
    `mkdir -p "$R"${q(svc.image.workdir)}`,
    `exec ${words(SETPRIV)} chroot --userspec="${uid(svc.image.user)}" "$R" /usr/bin/env -i HOME=${q(home)} ${words(env)} /bin/sh -c 'cd "$0" && exec "$@"' ${q(svc.image.workdir)} ${words(svc.argv)}`,
  );
  return L.join('\n') + '\n';
}

export interface RunningService {
  svc: Service;
  /** The container's process 1 (the runner script execs into it, keeping the pid). */
  proc: Proc;
  /** Its root file system, as mounted in its own mount namespace. */
  rootDir: string;
}

/** The compose project, emulated: up() starts the services in depends_on order, down() stops them. */
export class ComposeEmulator {
  readonly services: Service[];
  readonly volumeNames: string[];
  readonly running = new Map<string, RunningService>();
  /** Every container that ran, in order (stopped ones too): their output explains a failure. */
  readonly history: RunningService[] = [];
  private network?: Proc;
  private published: Published[] = [];
  private starts = 0;

  constructor(
    readonly root: string,
    readonly dir: string,
  ) {
    const { services, volumes } = readCompose(root);
    this.services = services;
    this.volumeNames = volumes;
    mkdirSync(join(dir, 'volumes'), { recursive: true });
    for (const v of volumes) mkdirSync(join(dir, 'volumes', v), { recursive: true });
    mkdirSync(join(dir, 'shims'), { recursive: true });
    writeFileSync(
      join(dir, 'shims', 'apt-get'),
      '#!/bin/sh\necho "apt-get/apt called by a container at start ($*): packages belong in the image" >&2\nexit 100\n',
      { mode: 0o755 },
    );
  }

  service(name: string): Service {
    const s = this.services.find((x) => x.name === name);
    if (!s) throw new Error(`no service ${name} in docker-compose.yml`);
    return s;
  }

  volumeDir(name: string): string {
    return join(this.dir, 'volumes', name);
  }

  /** The output of every container so far, for failure messages. */
  logs(lines = 40): string {
    return this.history.map((r) => r.proc.tail(lines)).join('\n');
  }

  /** Containers that ended while they should run. */
  ended(): string[] {
    return [...this.running.values()].filter((r) => r.proc.exitStatus).map((r) => r.svc.name);
  }

  /** Fails with the containers' output. */
  explain(err: unknown): never {
    throw new Error(`${(err as Error).message}\n${this.logs()}`);
  }

  /** The network namespace that the services share (network_mode: service:<first>), made once. */
  private async networkPid(): Promise<number> {
    if (!this.network) {
      this.network = startInOwnNetns('compose network', ['sleep', 'infinity']);
      await new Promise((r) => setTimeout(r, 200));
      if (this.network.exitStatus) throw new Error(`cannot make a network namespace\n${this.network.tail()}`);
    }
    return this.network.pid;
  }

  private async start(svc: Service): Promise<RunningService> {
    const net = await this.networkPid();
    if (svc.networkMode && !/^service:/.test(svc.networkMode)) throw new Error(`${svc.name}: network_mode ${svc.networkMode} is not emulated`);
    const n = ++this.starts;
    const dirs = {
      layer: join(this.dir, `${svc.name}-${n}`, 'layer'),
      root: join(this.dir, `${svc.name}-${n}`, 'root'),
      volumes: join(this.dir, 'volumes'),
      shims: join(this.dir, 'shims'),
    };
    mkdirSync(dirs.layer, { recursive: true });
    mkdirSync(dirs.root, { recursive: true });
    const script = join(this.dir, `${svc.name}-${n}`, 'run.sh');
    writeFileSync(script, runnerScript(svc, dirs));
    const proc = startProc(`container ${svc.name} #${n}`, ['nsenter', `--net=/proc/${net}/ns/net`, '--', 'unshare', '-m', '--propagation', 'private', '--', 'bash', script], {
      env: { PATH: process.env.PATH },
    });
    const r = { svc, proc, rootDir: dirs.root };
    this.running.set(svc.name, r);
    this.history.push(r);
    return r;
  }

  /** Runs the healthcheck inside the container until it passes (polling faster than its interval). */
  async healthy(name: string): Promise<void> {
    const r = this.running.get(name);
    if (!r?.svc.healthcheck) throw new Error(`${name} has no healthcheck`);
    const deadline = Date.now() + r.svc.healthcheck.intervalMs * r.svc.healthcheck.retries;
    let last = '';
    for (;;) {
      if (r.proc.exitStatus) throw new Error(`container ${name} ended before it was healthy`);
      const res = this.exec(name, r.svc.healthcheck.test);
      if (res.status === 0) return;
      last = `${res.stdout}${res.stderr}`;
      if (Date.now() > deadline) throw new Error(`container ${name} not healthy in time; last check said: ${last}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  /** docker exec: a command inside a running container (its mount and network namespaces, its root, its env). */
  exec(name: string, argv: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = this.running.get(name);
    if (!r) throw new Error(`container ${name} is not running`);
    const env = Object.entries(r.svc.env).map(([k, v]) => `${k}=${v}`);
    // Into its namespaces, then its root (chroot, as the container's process did: before that, it has none).
    // As the image's USER, as docker exec does.
    const enter = ['nsenter', '-t', String(r.proc.pid), '-m', '-n', '--', 'chroot'];
    const id = (flag: string) => spawnSync(enter[0]!, [...enter.slice(1), r.rootDir, 'id', flag, r.svc.image.user], { encoding: 'utf8' }).stdout.trim();
    const user = r.svc.image.user === 'root' ? '0:0' : `${id('-u')}:${id('-g')}`;
    const res = spawnSync(enter[0]!, [...enter.slice(1, -1), ...SETPRIV, 'chroot', `--userspec=${user}`, r.rootDir, '/usr/bin/env', '-i', ...env, ...argv], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? (res.error?.message ?? '') };
  }

  /** The container's mount namespace, once it has its own (never this process's: that would be the machine's). */
  private containerNs(r: RunningService): string | undefined {
    try {
      const ns = readlinkSync(`/proc/${r.proc.pid}/ns/mnt`);
      return ns === readlinkSync('/proc/self/ns/mnt') ? undefined : ns;
    } catch {
      return undefined;
    }
  }

  /** Processes in that mount namespace (all of the container's: samba runs in a session of its own). */
  private containerPids(ns: string | undefined): number[] {
    if (!ns) return [];
    const pids: number[] = [];
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        if (readlinkSync(`/proc/${p}/ns/mnt`) === ns) pids.push(Number(p));
      } catch {
        /* gone */
      }
    }
    return pids;
  }

  private killAll(ns: string | undefined): void {
    for (const p of this.containerPids(ns)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  /** docker compose up: every service in depends_on order, waiting for the conditions; then the ports. */
  async up(): Promise<void> {
    const started = new Set<string>();
    const pending = [...this.services];
    while (pending.length) {
      const i = pending.findIndex((s) => Object.keys(s.dependsOn).every((d) => started.has(d)) && (!s.networkMode || started.has(s.networkMode.slice(8))));
      if (i < 0) throw new Error(`depends_on cannot be satisfied: ${pending.map((s) => s.name).join(', ')}`);
      const svc = pending.splice(i, 1)[0]!;
      for (const [dep, condition] of Object.entries(svc.dependsOn)) {
        if (condition === 'service_healthy') await this.healthy(dep);
        else if (condition !== 'service_started') throw new Error(`${svc.name}: depends_on condition ${condition} is not emulated`);
      }
      await this.start(svc);
      started.add(svc.name);
    }
    const net = await this.networkPid();
    for (const svc of this.services) {
      for (const p of svc.ports) {
        if (p.hostIp !== '127.0.0.1') throw new Error(`${svc.name}: ports published on ${p.hostIp} (not loopback only) are not emulated`);
        if (p.hostPort !== p.containerPort) throw new Error(`${svc.name}: ${p.hostPort}:${p.containerPort} is not emulated`);
      }
      const ports = svc.ports.map((p) => p.hostPort);
      if (ports.length) this.published.push(await publishPorts(net, ports, CONTAINER_ADDRESS));
    }
  }

  /** docker stop: SIGTERM to process 1, then SIGKILL to every process of the container after the grace period. */
  async stop(name: string, graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const r = this.running.get(name);
    if (!r) throw new Error(`container ${name} is not running`);
    const t = Date.now();
    const ns = this.containerNs(r);
    try {
      process.kill(r.proc.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      this.killAll(ns);
      r.proc.signalGroup('SIGKILL');
    }, graceMs);
    const status = await r.proc.exited;
    clearTimeout(timer);
    // As when a container ends: nothing of it lives on.
    this.killAll(ns);
    this.running.delete(name);
    return { ...status, ms: Date.now() - t };
  }

  /** docker compose down (without -v: the volumes stay, as the directories under dir/volumes). */
  async down(): Promise<void> {
    for (const p of this.published.splice(0)) await p.close();
    for (const svc of [...this.services].reverse()) if (this.running.has(svc.name)) await this.stop(svc.name);
  }

  /** down, and the network namespace too. */
  async close(): Promise<void> {
    await this.down().catch(() => {});
    await this.network?.stop(2000);
    this.network = undefined;
  }
}

