import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { AdSource } from './ad-source.js';
import { listCloudUsers, ownedProperties, PlanApplier } from './apply.js';
import { graphClientFor } from '../graph/auth.js';
import type { GraphClient } from '../graph/client.js';
import { UserMapper, type MappedUser } from './mapping.js';
import { count, describePlan, planRemovals, planUsers, type CloudLookup, type PlannedAction } from './plan.js';
import type { Progress } from './progress.js';
import { SourceReader } from './reader.js';
import type { SyncSettings } from './settings.js';
import { FullCycleStaging } from './staging.js';
import { SyncState } from './state.js';

export type CycleOutcome = 'success' | 'completed-with-errors' | 'stopped-deletion-threshold-exceeded' | 'planned' | 'interrupted';

export interface CycleSummary {
  kind: 'full' | 'incremental';
  outcome: CycleOutcome;
  /** For planned (dry-run, staging) cycles these are the planned counts. */
  created: number;
  updated: number;
  disabled: number;
  deleted: number;
  unchanged: number;
  skipped: number;
  errors: number;
  durationMs: number;
  ldapEntriesRead: number;
  graphRequests: number;
  graphSubRequests: number;
  throttled: number;
  message?: string;
}

export interface CycleOptions {
  full?: boolean;
  dryRun?: boolean;
  allowDeletions?: boolean;
  log: Logger;
  /** Where the plan and the summary are written (stdout for the CLI). */
  out: (line: string) => void;
  progress?: Progress;
  stopRequested?: () => boolean;
  /** For tests: a Graph client (else one with @azure/identity client credentials). */
  graph?: GraphClient;
}

/** Settings that decide who is in scope and what is exported: when they change, the next cycle is full. */
function scopeHash(s: SyncSettings): string {
  const relevant = { ous: s.ous, scope: s.scope, attributeMap: s.attributeMap, domains: s.domains, upnSuffixMap: s.upnSuffixMap, usageLocation: s.usageLocation, usageLocationAttribute: s.usageLocationAttribute };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('base64url');
}

export function summaryLines(s: CycleSummary): string[] {
  const verb = s.outcome === 'planned' ? 'planned' : 'finished';
  return [
    `sync: ${s.kind} cycle ${verb} in ${(s.durationMs / 1000).toFixed(1)} s: ${s.outcome}`,
    `  created ${s.created}, updated ${s.updated}, disabled ${s.disabled}, deleted ${s.deleted}, unchanged ${s.unchanged}, skipped ${s.skipped}, errors ${s.errors}`,
    `  LDAP entries read ${s.ldapEntriesRead}; Graph HTTP requests ${s.graphRequests} (${s.graphSubRequests} in $batch), throttled ${s.throttled}`,
    ...(s.message ? [`  ${s.message}`] : []),
  ];
}

/** One sync cycle: read AD, plan, check the safety limits, write to Entra batch by batch, record the state. */
export async function runCycle(config: Config, settings: SyncSettings, opts: CycleOptions): Promise<CycleSummary> {
  const started = Date.now();
  const { log } = opts;
  const planOnly = !!opts.dryRun || settings.stagingMode;
  const state = new SyncState(config.stateDir, { readOnly: planOnly });
  const mapper = new UserMapper(settings);
  const owned = ownedProperties(Object.keys(mapper.attributeMap));
  const graph = opts.graph ?? graphClientFor(settings, { maxRetries: settings.maxRetries, log, batchSize: settings.batchSize, writeLimit: settings.writeLimit });
  let ad: AdSource | undefined;
  let runId: number | undefined;
  let kind: CycleSummary['kind'] = 'full';
  // Across the pages of the cycle: what was left alone, and the users skipped (the first few kept for the summary).
  let unchanged = 0;
  let skippedCount = 0;
  const skippedShown: { dn: string; reason: string }[] = [];
  const summary = (outcome: CycleOutcome, extra: Partial<CycleSummary> = {}): CycleSummary => ({
    kind,
    outcome,
    created: 0,
    updated: 0,
    disabled: 0,
    deleted: 0,
    unchanged,
    skipped: skippedCount,
    errors: 0,
    ldapEntriesRead: ad?.entriesRead ?? 0,
    graphRequests: graph.stats.httpRequests,
    graphSubRequests: graph.stats.subRequests,
    throttled: graph.stats.throttled,
    ...extra,
    durationMs: Date.now() - started,
  });
  try {
    ad = await AdSource.connect(config.directory, settings.pageSize, log);
    const dse = await ad.rootDse();
    const usnKey = `usn:${dse.dsServiceName}`;
    const lastUsn = state.getMeta(usnKey);
    const hash = scopeHash(settings);
    const scopeChanged = state.getMeta('scopeHash') !== undefined && state.getMeta('scopeHash') !== hash;
    const full = !!opts.full || lastUsn === undefined || scopeChanged;
    kind = full ? 'full' : 'incremental';
    if (full && !opts.full) log.info({ reason: lastUsn === undefined ? 'no high-water mark for this DC' : 'scope or mapping changed' }, 'sync: full cycle');
    if (!planOnly) runId = state.startRun(kind);

    // Read: a full cycle stages everything (AD in scope, and Entra once, to find users created by an
    // interrupted run and soft matches) on disk and plans it page by page; an incremental one holds its few changes.
    const reader = new SourceReader(ad, settings, mapper, state, dse.defaultNamingContext, log);
    let pages: Iterable<MappedUser[]>;
    let removals: PlannedAction[];
    let cloud: CloudLookup | undefined;
    let total: number;
    if (full) {
      const staging = new FullCycleStaging(state);
      // AD and Entra are read at the same time (each page goes into its own table as it arrives).
      const [inScope, listed] = await Promise.all([
        reader.full(staging),
        listCloudUsers(graph, owned, staging).then(
          () => true,
          (err: Error) => {
            if (!planOnly) throw err;
            log.warn({ err: err.message }, 'sync: cannot list Entra users; the plan assumes none exist beyond the sync state');
            return false;
          },
        ),
      ]);
      if (listed) cloud = staging;
      removals = planRemovals(staging.gone(), state, settings.deleteAction);
      pages = staging.userPages(settings.pageSize);
      total = inScope + removals.length;
    } else {
      const view = await reader.incremental(Number(lastUsn));
      removals = planRemovals(view.gone, state, settings.deleteAction);
      pages = [view.users];
      total = view.users.length + removals.length;
    }

    // Safety first: nothing is written when the cycle would remove more users than the threshold allows.
    const removing = removals.filter((a) => a.action !== 'forget').length;
    if (removing > settings.deletionThreshold && !opts.allowDeletions) {
      const message = `stopped before writing: ${removing} users would be ${settings.deleteAction}d, more than sync.deletionThreshold (${settings.deletionThreshold}). Check the scope; if intended, run once with --allow-deletions.`;
      for (const line of describePlan({ actions: removals.filter((a) => a.action !== 'forget'), skipped: [] }).slice(0, 20)) opts.out(`  ${line}`);
      const s = summary('stopped-deletion-threshold-exceeded', { disabled: count(removals, 'disable'), deleted: count(removals, 'delete'), message });
      if (runId !== undefined) state.finishRun(runId, s.outcome, s);
      return s;
    }

    const applier = new PlanApplier(graph, state, owned, {
      softMatch: settings.softMatch,
      lookupCreates: !full,
      deleteAction: settings.deleteAction,
      log,
      onProgress: (done) => opts.progress?.update(done + unchanged + skippedCount),
      stopRequested: opts.stopRequested ?? (() => false),
    });
    const planned = { created: 0, updated: 0, disabled: count(removals, 'disable'), deleted: count(removals, 'delete') };
    let described = 0;
    const describe = (lines: string[]) => {
      for (const line of lines) opts.out(`  ${line}`);
      described += lines.length;
    };
    if (planOnly) opts.out(settings.stagingMode && !opts.dryRun ? 'staging mode: nothing is written to Entra. Plan:' : 'dry run: nothing is written. Plan:');
    else opts.progress?.start(total);
    try {
      // Plan and write one page at a time (creates, then updates), then the removals.
      for (const users of pages) {
        if (opts.stopRequested?.()) break;
        const page = planUsers(users, state, cloud, settings.softMatch);
        unchanged += page.unchanged;
        skippedCount += page.skipped.length;
        skippedShown.push(...page.skipped.slice(0, Math.max(0, 20 - skippedShown.length)));
        planned.created += count(page.actions, 'create');
        planned.updated += count(page.actions, 'update');
        if (planOnly) describe(describePlan({ actions: page.actions, skipped: page.skipped }));
        else await applier.apply(page);
      }
      if (planOnly) describe(describePlan({ actions: removals, skipped: [] }));
      else if (!opts.stopRequested?.()) await applier.apply({ actions: removals });
    } finally {
      opts.progress?.stop();
    }
    if (planOnly) {
      if (described === 0) opts.out('  (nothing to do)');
      return summary('planned', planned);
    }
    const interrupted = opts.stopRequested?.() ?? false;
    if (!interrupted) {
      // Only now: an interrupted cycle reads the same changes again next time. Failed users are in the retry set.
      state.transaction(() => {
        state.setMeta(usnKey, String(dse.highestCommittedUSN));
        state.setMeta('scopeHash', hash);
        if (full) state.setMeta('lastFullCycle', new Date().toISOString());
      });
    }
    const c = applier.counts;
    const s = summary(interrupted ? 'interrupted' : c.errors ? 'completed-with-errors' : 'success', { ...c });
    for (const e of applier.errors.slice(0, 20)) opts.out(`  error: ${e.dn}: ${e.error}`);
    for (const k of skippedShown) opts.out(`  skip     ${k.dn}  (${k.reason})`);
    if (skippedCount > skippedShown.length) opts.out(`  ... and ${skippedCount - skippedShown.length} more skipped (see --dry-run)`);
    if (runId !== undefined) state.finishRun(runId, s.outcome, s);
    return s;
  } catch (err) {
    if (runId !== undefined) state.finishRun(runId, 'failed', { error: (err as Error).message });
    throw err;
  } finally {
    await ad?.close();
    state.close();
  }
}
