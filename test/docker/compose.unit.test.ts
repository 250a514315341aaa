import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// No Docker engine runs in CI; Debian's docker-compose validates the file without one.
describe('docker-compose trial', () => {
  it('docker-compose.yml is valid and wires Gatehouse to the DC', () => {
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const cfg = parse(r.stdout) as { services: Record<string, any> };
    expect(Object.keys(cfg.services).sort()).toEqual(['dc', 'gatehouse']);
    expect(cfg.services.gatehouse.network_mode).toBe('service:dc');
    expect(cfg.services.gatehouse.environment.GATEHOUSE_CONFIG).toBe('/etc/gatehouse/gatehouse.yaml');
  });

  it('the configuration it mounts passes Gatehouse\'s own validation', () => {
    const config = loadConfig({
      file: 'docker/gatehouse.yaml',
      cwd: root,
      env: { GATEHOUSE_DIRECTORY_BIND_PASSWORD: 'x' },
    });
    expect(config.directory.urls).toEqual(['ldap://127.0.0.1']);
    expect(config.issuer).toBe('http://localhost/adfs/services/trust');
  });
});
