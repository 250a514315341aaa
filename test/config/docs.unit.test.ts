import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configLeaves, envName, loadConfig } from '../../src/config/load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('configuration documentation', () => {
  it('the README documents every key with its environment variable', () => {
    for (const { path } of configLeaves()) {
      expect(readme, path.join('.')).toContain(`| \`${path.join('.')}\` | \`${envName(path)}\` |`);
    }
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
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
