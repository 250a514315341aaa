// The alert rules and the Grafana dashboard shipped in docs/monitoring/: promtool (Debian's prometheus
// package) accepts the rules, and every gatehouse_* metric their expressions name exists in the registry,
// so a renamed metric cannot leave a silent alert or an empty panel behind.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registry } from '../../src/metrics/metrics.js';

const dir = fileURLToPath(new URL('../../docs/monitoring/', import.meta.url));
const RULES = `${dir}gatehouse-alerts.yaml`;
const DASHBOARD = `${dir}gatehouse-dashboard.json`;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

/** The metric families named in a PromQL expression, a histogram's series (_bucket, _count, _sum) as their family. */
function metricsIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\bgatehouse_[a-z0-9_]+/g)].map((m) => m[0]))];
}

function family(name: string): string | undefined {
  if (registry.getSingleMetric(name)) return name;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  const m = registry.getSingleMetric(base) as { constructor: { name: string } } | undefined;
  return m && base !== name && ['Histogram', 'Summary'].includes(m.constructor.name) ? base : undefined;
}

describe('Prometheus alert rules (docs/monitoring/gatehouse-alerts.yaml)', () => {
  const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
  const rules = groups.flatMap((g) => g.rules);

  it('promtool check rules accepts them', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    if (r.error) throw new Error(`promtool is missing: apt-get install prometheus (scripts/system-packages.sh lists it): ${r.error.message}`);
    expect(r.stderr + r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('cover the issue: certificate expiring, DC down, sign-in failure ratio, password spray, sync failing or stale', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['GatehouseSigningCertificateExpiring', 'GatehouseDomainControllerDown', 'GatehouseSignInFailureRatioHigh', 'GatehousePasswordSpray', 'GatehouseSyncFailing', 'GatehouseSyncStale']),
    );
    for (const r of rules) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.description, r.alert).toBeTruthy();
    }
  });

  it('name only metrics Gatehouse exports', () => {
    for (const r of rules) for (const name of metricsIn(r.expr)) expect(family(name), `${r.alert}: ${name}`).toBeDefined();
  });
});

describe('Grafana dashboard (docs/monitoring/gatehouse-dashboard.json)', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: { type: string; title: string; targets?: { expr: string }[]; gridPos: { x: number; w: number } }[];
  };

  it('has a panel for each group of metrics, and every query names metrics Gatehouse exports', () => {
    const used = new Set<string>();
    for (const p of dash.panels.filter((p) => p.type !== 'row')) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (const t of p.targets!) {
        const names = metricsIn(t.expr);
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) {
          const f = family(n);
          expect(f, `${p.title}: ${n}`).toBeDefined();
          used.add(f!);
        }
      }
    }
    // Every Gatehouse metric (not the process ones) is on the dashboard.
    const ours = registry.getMetricsAsArray().map((m) => m.name).filter((n) => !/^gatehouse_(process_|nodejs_)/.test(n));
    expect(ours.filter((n) => !used.has(n))).toEqual([]);
  });
});
