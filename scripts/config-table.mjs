// Prints the README's configuration table from the schema (src/config/schema.ts is the one source).
// Usage: npm run build && node scripts/config-table.mjs
import { configLeaves, envName } from '../dist/config/load.js';

const rows = configLeaves().map(({ path, schema }) => {
  const type = schema.anyOf ? schema.anyOf.map((s) => JSON.stringify(s.const)).join(' \\| ') : schema.type === 'array' ? `array of ${schema.items.type}` : schema.type;
  const def = schema.default === undefined ? (schema.minItems || path.join('.').match(/^(publicUrl|directory\.(urls|baseDn|bindDn))$/) ? '**required**' : '') : `\`${JSON.stringify(schema.default)}\``;
  return `| \`${path.join('.')}\` | \`${envName(path)}\` | ${type} | ${def} | ${(schema.description ?? '').replace(/\|/g, '\\|')} |`;
});
console.log('| key | environment variable | type | default | meaning |\n|---|---|---|---|---|\n' + rows.join('\n'));
