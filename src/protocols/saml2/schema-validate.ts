import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateXML } from 'xmllint-wasm';

/**
 * XML Schema validation of incoming SAML messages against OASIS's saml-schema-protocol-2.0.xsd (with
 * the assertion, xmldsig and xmlenc schemas it imports), in libxml2 compiled to WebAssembly
 * (xmllint-wasm): no Java and no native code. The schemas ship in schemas/saml2/ with their DTD headers
 * removed; the message itself has already passed parseXmlSafely, which refuses any DTD, so xmllint
 * never sees one.
 *
 * Each validation runs in a worker thread and costs about 0.2 s of CPU on this project's 2-core
 * machines (mostly compiling the schemas), so at most two run at once; the rest wait their turn.
 */

const DIR = fileURLToPath(new URL('../../../schemas/saml2/', import.meta.url));
const file = (fileName: string) => ({ fileName, contents: readFileSync(join(DIR, fileName), 'utf8') });

let schemas: { main: ReturnType<typeof file>; preload: ReturnType<typeof file>[] } | undefined;
function load() {
  schemas ??= {
    main: file('saml-schema-protocol-2.0.xsd'),
    preload: ['saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd'].map(file),
  };
  return schemas;
}

const MAX_CONCURRENT = 2;
let running = 0;
const waiting: Array<() => void> = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** The schema errors (empty when valid), without document content beyond element names. */
export async function validateSamlMessage(xml: string): Promise<string[]> {
  const { main, preload } = load();
  const result = await slot(() =>
    validateXML({ xml: [{ fileName: 'message.xml', contents: xml }], schema: [main], preload, disableFileNameValidation: true }),
  );
  return result.valid ? [] : result.errors.map((e) => e.message.slice(0, 300));
}
