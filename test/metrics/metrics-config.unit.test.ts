// The metrics settings: /metrics on the main port must be protected, the token file and the allow-list
// are checked when read, and the access check says 401 or 403 as it should.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { metricsAccess } from '../../src/metrics/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-metrics-config-'));
const MINIMAL = {
  publicUrl: 'https://sts.corp.example.com',
  directory: { urls: ['ldaps://dc1.corp.example.com'], baseDn: 'DC=corp,DC=example,DC=com', bindDn: 'svc@corp.example.com', bindPassword: 'x' },
};
const load = (metrics: unknown) => {
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, stringify({ ...MINIMAL, metrics }));
  return loadConfig({ file, env: {}, cwd: dir });
};
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('metrics configuration', () => {
  it('is off by default', () => {
    expect(load(undefined).metrics).toEqual({ enabled: false, allowFrom: [] });
  });

  it('on the main port, needs a bearer token file or an allow-list, and says which keys', () => {
    expect(failure(() => load({ enabled: true }))).toMatch(/^metrics\.listen: \/metrics on the main port must be protected: set metrics\.bearerTokenFile or metrics\.allowFrom/);
    expect(load({ enabled: true, allowFrom: ['10.0.0.0/8'] }).metrics.enabled).toBe(true);
    expect(load({ enabled: true, listen: '127.0.0.1:9464' }).metrics.listen).toBe('127.0.0.1:9464');
  });

  it('resolves the token file against the configuration folder, and checks listen addresses', () => {
    expect(load({ enabled: true, bearerTokenFile: 'metrics.token' }).metrics.bearerTokenFile).toBe(join(dir, 'metrics.token'));
    expect(failure(() => load({ enabled: true, listen: '9464' }))).toContain('metrics.listen');
  });
});

describe('metrics access', () => {
  it('a token file that is missing or too short is a configuration error naming the key', () => {
    expect(failure(() => metricsAccess({ bearerTokenFile: join(dir, 'none'), allowFrom: [] }))).toMatch(/^metrics\.bearerTokenFile: cannot read .* \(ENOENT\)$/);
    writeFileSync(join(dir, 'short'), 'abc\n');
    expect(failure(() => metricsAccess({ bearerTokenFile: join(dir, 'short'), allowFrom: [] }))).toContain('at least 16 characters');
  });

  it('a bad allow-list entry is a configuration error naming it', () => {
    expect(failure(() => metricsAccess({ allowFrom: ['10.0.0.0/33'] }))).toBe('metrics.allowFrom: "10.0.0.0/33" is not an address or a CIDR range (10.0.0.0/8, ::1)');
    expect(failure(() => metricsAccess({ allowFrom: ['prometheus.corp'] }))).toContain('"prometheus.corp"');
  });

  it('answers 403 to other addresses, 401 without the token, and lets the right one through', () => {
    writeFileSync(join(dir, 'token'), 'a-long-enough-metrics-token\n');
    const access = metricsAccess({ bearerTokenFile: join(dir, 'token'), allowFrom: ['10.1.0.0/16', '::1'] });
    expect(access.allow('192.0.2.1', 'Bearer a-long-enough-metrics-token')).toBe(403);
    expect(access.allow('10.1.2.3', undefined)).toBe(401);
    expect(access.allow('10.1.2.3', 'Bearer a-long-enough-metrics-token-not')).toBe(401);
    expect(access.allow('10.1.2.3', 'Basic a-long-enough-metrics-token')).toBe(401);
    expect(access.allow('10.1.2.3', 'Bearer a-long-enough-metrics-token')).toBe(true);
    // An IPv4 peer on a dual-stack socket.
    expect(access.allow('::ffff:10.1.2.3', 'bearer a-long-enough-metrics-token')).toBe(true);
    expect(access.allow('::1', 'Bearer a-long-enough-metrics-token')).toBe(true);
  });
});
