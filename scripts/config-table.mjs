// Writes the configuration table of docs/configuration.md from the schema (src/config/schema.ts is the
// one source), between its config-table markers. test/config/docs.test.ts checks that they agree.
// Usage: npm run docs:config   (builds first)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configLeaves, envName } from '../dist/config/load.js';

const PAGE = 'docs/configuration.md';
const file = fileURLToPath(new URL(`../${PAGE}`, import.meta.url));

const REQUIRED = /^(publicUrl|directory\.(urls|baseDn|bindDn))$/;
const rows = configLeaves().map(({ path, schema }) => {
  const key = path.join('.');
  const type = schema.anyOf
    ? schema.anyOf.map((s) => JSON.stringify(s.const)).join(' \\| ')
    : schema.type === 'array' ? `array of ${schema.items.type}` : schema.type;
  const def = schema.default === undefined ? (REQUIRED.test(key) ? '**required**' : '') : `\`${JSON.stringify(schema.default)}\``;
  return `| \`${key}\` | \`${envName(path)}\` | ${type} | ${def} | ${(schema.description ?? '').replace(/\|/g, '\\|')} |`;
});
const table = '| key | environment variable | type | default | meaning |\n|---|---|---|---|---|\n' + rows.join('\n');
const page = readFileSync(file, 'utf8');
const re = /(<!-- config-table:start[^>]*-->\n)[\s\S]*?(\n<!-- config-table:end -->)/;
if (!re.test(page)) throw new Error(`${PAGE} has no config-table markers`);
writeFileSync(file, page.replace(re, (_m, a, b) => a + table + b));
console.log(`${PAGE}: ${rows.length} configuration keys`);
