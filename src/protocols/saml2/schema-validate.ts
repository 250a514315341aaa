import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { refreshOnScrape, schemaQueue } from '../../metrics/metrics.js';

/**
 * XML Schema validation of incoming SAML messages against OASIS's saml-schema-protocol-2.0.xsd (with
 * the assertion, xmldsig and xmlenc schemas it imports), in libxml2 compiled to WebAssembly
 * (xmllint-wasm): no Java and no native code. The schemas ship in schemas/saml2/ with their DTD headers
 * removed; the message itself has already passed parseXmlSafely, which refuses any DTD, so xmllint
 * never sees one.
 *
 * xmllint-wasm's own validateXML() starts a worker thread and compiles the 780 KB WebAssembly module for
 * every call (120–350 ms a message, about 8 messages/s on two cores). Here a small pool of long-lived
 * workers compiles the module once and, per message, only instantiates it afresh (a new 16 MiB memory)
 * and runs xmllint's main with `--schema … --noout message.xml`: libxml2 still parses the four schemas
 * each time, which takes a few milliseconds once V8 has optimised the code (5–7 ms a message measured,
 * ~200 messages/s per worker). The first messages are slower while V8 warms up, so `warmUpSchemaValidator`
 * runs one at start.
 *
 * Each worker validates one message at a time; a validation that takes longer than 5 s, or a worker
 * that dies, gets the worker replaced and the message refused.
 */

const DIR = fileURLToPath(new URL('../../../schemas/saml2/', import.meta.url));
const MAIN_SCHEMA = 'saml-schema-protocol-2.0.xsd';
const SCHEMA_FILES = [MAIN_SCHEMA, 'saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd'];
const POOL_SIZE = 2;
const TIMEOUT_MS = 5_000;
/** 64 KiB WebAssembly pages: 16 MiB to start, at most 64 MiB (xmllint-wasm's default maximum is 32 MiB). */
const MEMORY = { initial: 256, maximum: 1024 };

// Runs inside each worker (CommonJS, eval'd): xmllint-node.js exports the Emscripten module factory (it also
// registers a listener of its own for messages tagged 'xmllint-wasm'; ours carry no such tag).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const factory = require(join(workerData.xmllintDir, 'xmllint-node.js'));
const wasm = new WebAssembly.Module(readFileSync(join(workerData.xmllintDir, 'xmllint.wasm')));
const schemas = workerData.schemas;
parentPort.on('message', (m) => {
  if (!m || m.gatehouse !== 'validate') return;
  let stderr = '';
  let done = false;
  const finish = (exitCode) => {
    if (done) return;
    done = true;
    parentPort.postMessage({ gatehouse: 'result', id: m.id, exitCode, stderr });
  };
  factory({
    inputFiles: [{ fileName: 'message.xml', contents: m.xml }, ...schemas],
    arguments: ['--schema', workerData.main, '--noout', '--nonet', 'message.xml'],
    print() {},
    printErr(s) { if (stderr.length < 8192) stderr += s + '\\n'; },
    onExit: finish,
    onAbort(reason) { stderr += 'abort: ' + reason; finish(-1); },
    wasmMemory: new WebAssembly.Memory(workerData.memory),
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(wasm, imports).then((instance) => receive(instance, wasm), (err) => { stderr += String(err); finish(-1); });
      return {};
    },
  }).catch((err) => { stderr += String(err); finish(-1); });
});
`;

interface Job {
  id: number;
  xml: string;
  resolve: (r: { exitCode: number; stderr: string }) => void;
  reject: (err: Error) => void;
}

class PooledWorker {
  private worker: Worker | undefined;
  job: Job | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly data: object) {}

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: this.data });
    w.on('message', (m: { gatehouse?: string; id: number; exitCode: number; stderr: string }) => {
      if (this.worker !== w || m?.gatehouse !== 'result' || m.id !== this.job?.id) return;
      this.settle()?.resolve({ exitCode: m.exitCode, stderr: m.stderr });
    });
    // Events of a worker already replaced (terminated after a timeout) are not about the current job.
    w.on('error', (err) => this.worker === w && this.fail(err));
    w.on('exit', (code) => this.worker === w && this.fail(new Error(`schema validation worker exited (${code})`)));
    return w;
  }

  private settle(): Job | undefined {
    const job = this.job;
    this.job = undefined;
    clearTimeout(this.timer);
    // An idle worker does not keep the process alive; one at work does (run() refs it).
    this.worker?.unref();
    release();
    return job;
  }

  private fail(err: Error): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
    this.settle()?.reject(err);
  }

  run(job: Job): void {
    this.job = job;
    this.worker ??= this.spawn();
    this.worker.ref();
    this.timer = setTimeout(() => this.fail(new Error(`schema validation took more than ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    this.timer.unref();
    this.worker.postMessage({ gatehouse: 'validate', id: job.id, xml: job.xml });
  }
}

let pool: PooledWorker[] | undefined;
const queue: Job[] = [];
let nextId = 0;
refreshOnScrape(schemaQueue, () => schemaQueue.set(queue.length));

function workers(): PooledWorker[] {
  if (!pool) {
    const xmllintDir = dirname(createRequire(import.meta.url).resolve('xmllint-wasm'));
    const schemas = SCHEMA_FILES.map((fileName) => ({ fileName, contents: readFileSync(join(DIR, fileName), 'utf8') }));
    const data = { xmllintDir, schemas, main: MAIN_SCHEMA, memory: MEMORY };
    pool = Array.from({ length: POOL_SIZE }, () => new PooledWorker(data));
  }
  return pool;
}

/** Hands queued messages to idle workers (called when a job is added and when one finishes). */
function release(): void {
  queueMicrotask(() => {
    for (const w of workers()) {
      if (!queue.length) return;
      if (!w.job) w.run(queue.shift()!);
    }
  });
}

function validate(xml: string): Promise<{ exitCode: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    queue.push({ id: ++nextId, xml, resolve, reject });
    release();
  });
}

/**
 * The schema errors (empty when valid), without document content beyond element names.
 * @throws Error when the validator itself fails (the caller refuses the message).
 */
export async function validateSamlMessage(xml: string): Promise<string[]> {
  const { exitCode, stderr } = await validate(xml);
  if (exitCode === 0) return [];
  const errors = stderr
    .split('\n')
    .filter((l) => l.trim() && !/^message\.xml (validates|fails to validate)$/.test(l.trim()))
    .map((l) => l.replace(/^message\.xml:\d+:\s*/, '').slice(0, 300));
  // xmllint: 3 = schema-invalid, 4 = schemas could not be compiled, 1 = parse error; anything else is ours.
  if (exitCode === 3 || exitCode === 1) return errors.length ? errors : [`not valid (xmllint exit ${exitCode})`];
  throw new Error(`schema validation failed (xmllint exit ${exitCode}): ${errors.slice(0, 2).join('; ')}`);
}

/** Compiles the validator in every worker and runs it once, so the first real messages are fast. */
export async function warmUpSchemaValidator(): Promise<void> {
  const sample =
    '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_w" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">' +
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>';
  for (let round = 0; round < 3; round++) await Promise.all(workers().map(() => validateSamlMessage(sample)));
}
