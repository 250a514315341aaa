import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configLeaves, envName, loadConfig } from '../../src/config/load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
// The configuration table lives in docs/configuration.md; scripts/config-table.mjs (npm run docs:config) writes it.
const configPage = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
const table = /<!-- config-table:start[^>]*-->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(configPage)?.[1];

describe('configuration documentation', () => {
  it('docs/configuration.md has the generated table between its markers', () => {
    expect(table, 'config-table markers in docs/configuration.md').toBeDefined();
    expect(readFileSync(join(root, 'scripts/config-table.mjs'), 'utf8')).toContain("'docs/configuration.md'");
  });

  it('the table documents every key with its environment variable', () => {
    for (const { path } of configLeaves()) {
      expect(table, path.join('.')).toContain(`| \`${path.join('.')}\` | \`${envName(path)}\` |`);
    }
  });

  it('the table has no row for a key the schema no longer has', () => {
    const keys = new Set(configLeaves().map(({ path }) => path.join('.')));
    const rows = [...(table ?? '').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
    expect(rows.length).toBe(keys.size);
    for (const key of rows) expect(keys.has(key), `${key}: in the table, not in the schema (run npm run docs:config)`).toBe(true);
  });

  it('the example configuration is valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-example-'));
    writeFileSync(join(dir, 'pw'), 'secret\n');
    const config = loadConfig({
      file: join(root, 'docs/gatehouse.example.yaml'),
      cwd: root,
      env: { GATEHOUSE_DIRECTORY_BIND_PASSWORD_FILE: join(dir, 'pw') },
    });
    expect(config.issuer).toBe('http://sts.corp.example.com/adfs/services/trust');
    expect(config.directory.bindPassword).toBe('secret');
  });

  it('the README test command is what CI runs', () => {
    expect(readme).toContain('npm install && npm test');
    expect(readme).toContain('npm install && npm run demo');
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
