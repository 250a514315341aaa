import { changedProps, hashProps, type GraphUserProps, type MappedUser } from './mapping.js';
import type { SyncState } from './state.js';

/** A user as Entra has it (from a listing or a look-up), reduced to the properties the sync owns. */
export interface CloudUser {
  id: string;
  props: GraphUserProps;
}

/** What a full cycle knows of Entra: looked up user by user while planning. */
export interface CloudLookup {
  hasId(id: string): boolean;
  byImmutableId(immutableId: string): CloudUser | undefined;
  byUpn(upn: string): CloudUser | undefined;
}

export type PlannedAction =
  | { action: 'create'; guid: string; dn: string; immutableId: string; props: GraphUserProps }
  | {
      action: 'update';
      guid: string;
      dn: string;
      immutableId: string;
      cloudId: string;
      props: GraphUserProps;
      changes: GraphUserProps;
      before: GraphUserProps;
      adopt?: 'hard' | 'soft';
      /** The user was deleted (soft) by an earlier cycle: restore that object first, then write every property. */
      restore?: boolean;
    }
  | { action: 'disable' | 'delete'; guid: string; dn: string; immutableId: string; cloudId: string; upn: string; reason: string }
  /**
   * Gone from scope with no confirmed Entra object: only the state changes, unless a create was sent and
   * its answer lost (`unconfirmed`): then the user may exist after all and is looked up first.
   */
  | { action: 'forget'; guid: string; dn: string; immutableId: string; reason: string; unconfirmed: boolean; lookupFailed?: string };

export interface Plan {
  kind: 'full' | 'incremental';
  actions: PlannedAction[];
  skipped: { dn: string; reason: string }[];
  unchanged: number;
}

export function count(actions: PlannedAction[], action: PlannedAction['action']): number {
  return actions.filter((a) => a.action === action).length;
}

/**
 * Compares what AD wants for these users with what was last exported (and, on a full cycle, with what
 * Entra holds) and decides the writes. `cloud` is a full cycle's listing; without it, creates are looked
 * up when they are applied.
 */
export function planUsers(users: MappedUser[], state: SyncState, cloud?: CloudLookup, softMatch = false): Omit<Plan, 'kind'> {
  const plan: Omit<Plan, 'kind'> = { actions: [], skipped: [], unchanged: 0 };
  for (const u of users) {
    if (u.kind === 'skip') {
      plan.skipped.push({ dn: u.dn, reason: u.reason });
      continue;
    }
    const row = state.get(u.guid);
    const base = { guid: u.guid, dn: u.dn, immutableId: u.immutableId };
    if (row?.cloudId && row.exported === null && (row.status === 'removed' || row.status === 'error')) {
      // Back in scope after a cycle deleted it (or after a restore that failed): restoring the deleted
      // object keeps its id, mailbox and licences, as Azure AD Connect does; a new one would start empty.
      // A cloud id without exported values means exactly that: a delete keeps the id and drops the values.
      plan.actions.push({ action: 'update', ...base, cloudId: row.cloudId, props: u.props, changes: changedProps({}, u.props), before: {}, restore: true });
      continue;
    }
    let cloudId = row?.cloudId ?? null;
    // A full cycle sees Entra: an object deleted there by hand is created again.
    if (cloud && cloudId && !cloud.hasId(cloudId)) cloudId = null;
    if (!cloudId) {
      const match = cloud?.byImmutableId(u.immutableId);
      const soft = !match && softMatch ? cloud?.byUpn(String(u.props.userPrincipalName)) : undefined;
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
  return plan;
}

/** Disables or deletes (or, for users never confirmed in Entra, forgets) the synced users that are gone. */
export function planRemovals(gone: { guid: string; reason: string }[], state: SyncState, deleteAction: 'disable' | 'delete'): PlannedAction[] {
  const actions: PlannedAction[] = [];
  for (const g of gone) {
    const row = state.get(g.guid);
    if (!row || row.status === 'removed') continue;
    const base = { guid: g.guid, dn: row.dn, immutableId: row.immutableId, reason: g.reason };
    if (!row.cloudId) actions.push({ action: 'forget', ...base, unconfirmed: row.status === 'pending' });
    else actions.push({ action: deleteAction, ...base, cloudId: row.cloudId, upn: String(row.exported?.userPrincipalName ?? row.dn) });
  }
  return actions;
}

const show = (v: unknown) => (v === null || v === undefined ? '(none)' : JSON.stringify(v));

/** Human-readable plan lines (for --dry-run and staging mode). */
export function describePlan(plan: Pick<Plan, 'actions' | 'skipped'>): string[] {
  const lines: string[] = [];
  for (const a of plan.actions) {
    switch (a.action) {
      case 'create':
        lines.push(`create   ${a.props.userPrincipalName}  immutableId=${a.immutableId}  (${a.dn})`);
        break;
      case 'update': {
        const adopt = a.restore ? ` [restore of deleted cloud user ${a.cloudId}]` : a.adopt ? ` [${a.adopt} match of existing cloud user ${a.cloudId}]` : '';
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
