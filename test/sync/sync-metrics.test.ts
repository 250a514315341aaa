// `gatehouse sync` serves its own metrics (metrics.syncListen): after a real cycle against the Graph
// emulator, with one throttled $batch, they show the cycle, the users written, the 429 and the success time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/cli.js';
import { DC } from '../support/directory.js';
import { sample, scrape } from '../support/metrics.js';
import { TestDirectory, spawnSync, startHarness, writeSyncConfig, type SyncHarness } from './support.js';

const OU = `OU=SyncMetrics,${DC.baseDn}`;
const isBatch = (d: { method: string; url: string; sub: boolean }) => d.method === 'POST' && d.url === '/v1.0/$batch' && !d.sub;

describe('gatehouse sync metrics', () => {
  let h: SyncHarness;
  let ad: TestDirectory;

  beforeAll(async () => {
    h = await startHarness();
    ad = await TestDirectory.open();
    await ad.resetOu(OU);
    for (let i = 0; i < 4; i++) await ad.addUser(`sync-metrics-${i}`, { ou: OU });
  }, 60_000);

  afterAll(async () => {
    await ad?.close();
    await h?.graph.close();
  });

  it('counts the cycle, the users created, the 429 and when it last succeeded', async () => {
    const port = await freePort();
    const config = writeSyncConfig(h, { scope: { ous: [OU] }, batchSize: 5 });
    const { writeFileSync, readFileSync } = await import('node:fs');
    const { parse, stringify } = await import('yaml');
    const cfg = parse(readFileSync(config, 'utf8'));
    cfg.metrics = { enabled: true, allowFrom: ['127.0.0.1'], syncListen: `127.0.0.1:${port}` };
    writeFileSync(config, stringify(cfg));
    h.graph.ctx.faults.push({ match: isBatch, status: 429, retryAfterSeconds: 1, times: 1 });
    const started = Date.now() / 1000;
    // Not --once: the worker keeps running (and serving its metrics) until told to stop.
    const { child, done } = spawnSync(h, config, []);
    try {
      let text = '';
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const r = await scrape(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (r?.status === 200 && sample(r.text, 'gatehouse_sync_cycle_duration_seconds_count', { kind: 'full', result: 'ok' }) === 1) {
          text = r.text;
          break;
        }
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(text, 'no finished cycle in the metrics').not.toBe('');
      expect(sample(text, 'gatehouse_sync_users_written_total', { action: 'created' })).toBe(4);
      expect(sample(text, 'gatehouse_sync_graph_throttled_total')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'gatehouse_sync_failures_total', { kind: 'cycle' })).toBeUndefined();
      const last = sample(text, 'gatehouse_sync_last_success_timestamp_seconds')!;
      expect(last).toBeGreaterThanOrEqual(started);
      expect(last).toBeLessThanOrEqual(Date.now() / 1000);
      expect(sample(text, 'gatehouse_process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
      const run = await done;
      expect(run.stderr).not.toContain('metrics could not be collected');
    }
  }, 90_000);
});
