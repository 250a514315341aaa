import { changedProps, hashProps, type GraphUserProps } from './mapping.js';
import type { SourceView } from './reader.js';
import type { SyncState } from './state.js';

/** A user as Entra has it (from a listing or a look-up), reduced to the properties the sync owns. */
export interface CloudUser {
  id: string;
  props: GraphUserProps;
}

export type PlannedAction =
  | { action: 'create'; guid: string; dn: string; immutableId: string; props: GraphUserProps }
  | { action: 'update'; guid: string; dn: string; immutableId: string; cloudId: string; props: GraphUserProps; changes: GraphUserProps; before: GraphUserProps; adopt?: 'hard' | 'soft' }
  | { action: 'disable' | 'delete'; guid: string; dn: string; immutableId: string; cloudId: string; upn: string; reason: string }
  /** Gone from scope but never confirmed in Entra: only the state changes. */
  | { action: 'forget'; guid: string; dn: string; immutableId: string; reason: string };

export interface Plan {
  kind: 'full' | 'incremental';
  actions: PlannedAction[];
  skipped: { dn: string; reason: string }[];
  unchanged: number;
}

export interface CloudIndex {
  byId: Map<string, CloudUser>;
  byImmutableId: Map<string, CloudUser>;
  byUpn: Map<string, CloudUser>;
}

export function count(plan: Plan, action: PlannedAction['action']): number {
  return plan.actions.filter((a) => a.action === action).length;
}

/**
 * Compares what AD wants with what was last exported (and, on a full cycle, with what Entra holds) and
 * decides the writes. `cloud` is the listing of a full cycle; without it, creates are looked up later.
 */
export function buildPlan(view: SourceView, state: SyncState, deleteAction: 'disable' | 'delete', cloud?: CloudIndex, softMatch = false): Plan {
  const plan: Plan = { kind: view.kind, actions: [], skipped: [], unchanged: 0 };
  for (const u of view.users) {
    if (u.kind === 'skip') {
      plan.skipped.push({ dn: u.dn, reason: u.reason });
      continue;
    }
    const row = state.get(u.guid);
    const base = { guid: u.guid, dn: u.dn, immutableId: u.immutableId };
    let cloudId = row?.cloudId ?? null;
    // A full cycle sees Entra: an object deleted there by hand is created again.
    if (cloud && cloudId && !cloud.byId.has(cloudId)) cloudId = null;
    if (!cloudId) {
      const match = cloud?.byImmutableId.get(u.immutableId) ?? undefined;
      const soft = !match && softMatch ? cloud?.byUpn.get(String(u.props.userPrincipalName).toLowerCase()) : undefined;
      const found = match ?? (soft && !soft.props.onPremisesImmutableId ? soft : undefined);
      if (found) {
        const changes = changedProps(found.props, u.props);
        plan.actions.push({ action: 'update', ...base, cloudId: found.id, props: u.props, changes, before: found.props, adopt: match ? 'hard' : 'soft' });
      } else {
        plan.actions.push({ action: 'create', ...base, props: u.props });
      }
      continue;
    }
    const before = row?.exported ?? {};
    const changes = changedProps(before, u.props);
    if (Object.keys(changes).length === 0 && row?.status === 'synced' && row.hash === hashProps(u.props)) {
      plan.unchanged++;
      continue;
    }
    plan.actions.push({ action: 'update', ...base, cloudId, props: u.props, changes, before });
  }
  for (const g of view.gone) {
    const row = state.get(g.guid);
    if (!row || row.status === 'removed') continue;
    const base = { guid: g.guid, dn: row.dn, immutableId: row.immutableId, reason: g.reason };
    if (!row.cloudId) plan.actions.push({ action: 'forget', ...base });
    else plan.actions.push({ action: deleteAction, ...base, cloudId: row.cloudId, upn: String(row.exported?.userPrincipalName ?? row.dn) });
  }
  return plan;
}

const show = (v: unknown) => (v === null || v === undefined ? '(none)' : JSON.stringify(v));

/** Human-readable plan lines (for --dry-run and staging mode). */
export function describePlan(plan: Plan): string[] {
  const lines: string[] = [];
  for (const a of plan.actions) {
    switch (a.action) {
      case 'create':
        lines.push(`create   ${a.props.userPrincipalName}  immutableId=${a.immutableId}  (${a.dn})`);
        break;
      case 'update': {
        const adopt = a.adopt ? ` [${a.adopt} match of existing cloud user ${a.cloudId}]` : '';
        const changes = Object.entries(a.changes).map(([k, v]) => `${k}: ${show(a.before[k])} -> ${show(v)}`);
        lines.push(`update   ${a.props.userPrincipalName}${adopt}${changes.length ? `  ${changes.join('; ')}` : '  (record only)'}`);
        break;
      }
      case 'disable':
      case 'delete':
        lines.push(`${a.action.padEnd(8)} ${a.upn}  (${a.reason}; ${a.dn})`);
        break;
      case 'forget':
        lines.push(`forget   ${a.dn}  (${a.reason}; never confirmed in Entra)`);
        break;
    }
  }
  for (const s of plan.skipped) lines.push(`skip     ${s.dn}  (${s.reason})`);
  return lines;
}
