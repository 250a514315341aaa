// Writes the README's configuration table from the schema (src/config/schema.ts is the one source).
// Usage: npm run docs:config   (builds first)
import { readFileSync, writeFileSync } from 'node:fs';
import { configLeaves, envName } from '../dist/config/load.js';

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
const readme = readFileSync('README.md', 'utf8');
const re = /(<!-- config-table:start[^>]*-->\n)[\s\S]*?(\n<!-- config-table:end -->)/;
if (!re.test(readme)) throw new Error('README.md has no config-table markers');
writeFileSync('README.md', readme.replace(re, (_m, a, b) => a + table + b));
console.log(`README.md: ${rows.length} configuration keys`);
