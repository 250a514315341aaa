// Runs the built command line (dist/cli.js) as a child process, the way an operator would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli.js');

/** `npm test` builds first; a bare `npx vitest run` may not have. */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
}

/**
 * process.env without GATEHOUSE_* variables, plus `extra`. The CLI refuses unknown GATEHOUSE_* names,
 * and the test run itself may set some (GATEHOUSE_TEST_KEEP_DC, GATEHOUSE_TEST_LOG).
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_')) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { cwd: string; env?: Record<string, string> }): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: cliEnv(opts.env), encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli without blocking the test's event loop (for servers the test itself runs, such as a silent TCP listener). */
export function runCliAsync(args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Writes `data` as YAML (or JSON, by the name's extension) into dir; returns the path. */
export function writeConfig(dir: string, name: string, data: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, name.endsWith('.json') ? JSON.stringify(data, null, 2) : stringify(data));
  return file;
}

export { freePort } from './ports.js';

/** `gatehouse serve` in the background, with its output kept for assertions. */
export class ServeProcess {
  stdout = '';
  stderr = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private exited = false;

  constructor(args: string[], opts: { cwd: string; env?: Record<string, string> }) {
    this.child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: opts.cwd, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exit = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      }),
    );
  }

  /** The pino JSON lines written so far. */
  logLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Resolves once the server logs that it serves; rejects if it exits or takes too long. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.logLines().some((l) => l.msg === 'Gatehouse is serving')) {
      if (this.exited) throw new Error(`serve exited before serving:\n${this.stderr}\n${this.stdout}`);
      if (Date.now() > deadline) throw new Error(`serve not ready after ${timeoutMs} ms:\n${this.stderr}\n${this.stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILLs (and throws) after timeoutMs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    if (!this.exited) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`serve did not exit within ${timeoutMs} ms of ${signal}`));
      }, timeoutMs);
    });
    try {
      return { ...(await Promise.race([this.exit, timeout])), ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  /** For afterEach: never leave a server behind. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
