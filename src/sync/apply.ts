import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { GraphError, type GraphClient, type GraphRequest, type GraphResponse } from '../graph/client.js';
import { changedProps, createBody, hashProps, type GraphUserProps } from './mapping.js';
import type { CloudUser, Plan, PlannedAction } from './plan.js';
import type { FullCycleStaging } from './staging.js';
import type { SyncState } from './state.js';

export interface ApplyCounts {
  created: number;
  updated: number;
  disabled: number;
  deleted: number;
  errors: number;
}

/** Properties the sync owns, for $select. */
export function ownedProperties(attributeMapKeys: string[]): string[] {
  return [...new Set(['id', ...attributeMapKeys, 'accountEnabled', 'onPremisesImmutableId', 'usageLocation'])];
}

export function toCloudUser(u: Record<string, unknown>, owned: string[]): CloudUser {
  const props: GraphUserProps = {};
  for (const k of owned) if (k !== 'id') props[k] = (u[k] as GraphUserProps[string]) ?? null;
  return { id: String(u.id), props };
}

/** Every user in the tenant with the properties the sync owns ($top=999 pages), into the full cycle's staging. */
export async function listCloudUsers(graph: GraphClient, owned: string[], staging: FullCycleStaging): Promise<number> {
  let n = 0;
  for await (const page of graph.list<Record<string, unknown>>(`/users?$select=${owned.join(',')}&$top=999`)) {
    staging.addCloudUsers(page.map((raw) => toCloudUser(raw, owned)));
    n += page.length;
  }
  return n;
}

const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A random password Entra accepts (federated users never use it, but Graph requires one). */
function randomPassword(): string {
  return `${randomBytes(18).toString('base64url')}aA1!`;
}

function errorText(r: GraphResponse): string {
  return GraphError.from(r.status, r.body).message;
}

function isConflict(r: GraphResponse): boolean {
  return r.status === 400 && /already exists/i.test(String(r.body?.error?.message ?? ''));
}

type Create = Extract<PlannedAction, { action: 'create' }>;
type Update = Extract<PlannedAction, { action: 'update' }>;
type Forget = Extract<PlannedAction, { action: 'forget' }>;

/**
 * Executes a plan batch by batch. Before a batch of creates the users are marked "pending" (so that a
 * process killed mid-batch looks them up instead of creating them twice); each batch's results are
 * recorded in one transaction.
 */
export class PlanApplier {
  readonly counts: ApplyCounts = { created: 0, updated: 0, disabled: 0, deleted: 0, errors: 0 };
  readonly errors: { dn: string; error: string }[] = [];

  constructor(
    private readonly graph: GraphClient,
    private readonly state: SyncState,
    private readonly owned: string[],
    private readonly opts: { softMatch: boolean; lookupCreates: boolean; deleteAction: 'disable' | 'delete'; log: Logger; onProgress: (done: number) => void; stopRequested: () => boolean },
  ) {}

  private done = 0;
  private tick(n: number): void {
    this.done += n;
    this.opts.onProgress(this.done);
  }

  private fail(a: { guid: string; dn: string; immutableId: string }, error: string, cloudId: string | null, exported: GraphUserProps | null): void {
    this.counts.errors++;
    this.errors.push({ dn: a.dn, error });
    this.opts.log.error({ dn: a.dn, error }, 'sync: write failed');
    const row = this.state.get(a.guid);
    this.state.put({ guid: a.guid, immutableId: a.immutableId, dn: a.dn, cloudId, exported, hash: row?.hash ?? null, status: 'error', error });
  }

  async apply(plan: Pick<Plan, 'actions'>): Promise<void> {
    const creates = plan.actions.filter((a): a is Create => a.action === 'create');
    const updates = plan.actions.filter((a): a is Update => a.action === 'update');
    const removals = plan.actions.filter((a) => a.action === 'disable' || a.action === 'delete' || a.action === 'forget');
    const size = this.graph.batchSize;

    // Incremental creates (and resumed ones): hard match by onPremisesImmutableId first, then soft match by UPN.
    let toCreate = creates;
    if (this.opts.lookupCreates && creates.length) {
      const adopted = await this.lookup(creates);
      toCreate = creates.filter((c) => !adopted.some((u) => u.guid === c.guid));
      updates.push(...adopted);
    }
    for (let i = 0; i < toCreate.length && !this.opts.stopRequested(); i += size) await this.createBatch(toCreate.slice(i, i + size));
    for (let i = 0; i < updates.length && !this.opts.stopRequested(); i += size) await this.updateBatch(updates.slice(i, i + size));
    for (let i = 0; i < removals.length && !this.opts.stopRequested(); i += size) await this.removeBatch(await this.resolveUnconfirmed(removals.slice(i, i + size)));
  }

  /**
   * A user whose create was sent but never confirmed (the process died) and who then left the scope may
   * exist in Entra: look it up by onPremisesImmutableId, and remove it like any synced user if it does.
   */
  private async resolveUnconfirmed(batch: PlannedAction[]): Promise<PlannedAction[]> {
    const unsure = batch.filter((a): a is Forget => a.action === 'forget' && a.unconfirmed);
    if (unsure.length === 0) return batch;
    const res = await this.graph.batch(unsure.map((a) => ({ id: a.guid, method: 'GET', url: this.usersWhere('onPremisesImmutableId', a.immutableId) })));
    return batch.map((a) => {
      if (a.action !== 'forget' || !a.unconfirmed) return a;
      const r = res.get(a.guid);
      if (r?.status !== 200) {
        // Unknown: keep the user in the retry set rather than forget an object that may exist.
        return { ...a, lookupFailed: r ? errorText(r) : 'no answer' };
      }
      const found = r.body?.value?.[0] as Record<string, unknown> | undefined;
      if (!found) return a;
      const cloud = toCloudUser(found, this.owned);
      return { action: this.opts.deleteAction, guid: a.guid, dn: a.dn, immutableId: a.immutableId, cloudId: cloud.id, upn: String(cloud.props.userPrincipalName ?? a.dn), reason: a.reason };
    });
  }

  /** GET of the users whose `property` equals `value`, with the properties the sync owns. */
  private usersWhere(property: string, value: string): string {
    return `/users?$filter=${encodeURIComponent(`${property} eq ${odataString(value)}`)}&$select=${this.owned.join(',')}`;
  }

  /** Finds existing cloud users for would-be creates; returns them as updates. */
  private async lookup(creates: Create[]): Promise<Update[]> {
    const reqs: GraphRequest[] = creates.map((c, i) => ({ id: String(i), method: 'GET', url: this.usersWhere('onPremisesImmutableId', c.immutableId) }));
    if (this.opts.softMatch) {
      creates.forEach((c, i) => reqs.push({ id: `upn${i}`, method: 'GET', url: this.usersWhere('userPrincipalName', String(c.props.userPrincipalName)) }));
    }
    const res = await this.graph.batch(reqs);
    const out: Update[] = [];
    creates.forEach((c, i) => {
      const hard = res.get(String(i));
      const soft = res.get(`upn${i}`);
      const hardUser = hard?.status === 200 ? hard.body?.value?.[0] : undefined;
      const softUser = soft?.status === 200 ? soft.body?.value?.find((u: Record<string, unknown>) => !u.onPremisesImmutableId) : undefined;
      const found = hardUser ?? softUser;
      if (!found) return;
      const cloud = toCloudUser(found, this.owned);
      out.push({ ...c, action: 'update', cloudId: cloud.id, changes: changedProps(cloud.props, c.props), before: cloud.props, adopt: hardUser ? 'hard' : 'soft' });
    });
    return out;
  }

  private async createBatch(batch: Create[]): Promise<void> {
    // Write-ahead: if the process dies after Graph created them but before we record it, the next run looks them up.
    this.state.transaction(() => {
      for (const c of batch) {
        const row = this.state.get(c.guid);
        this.state.put({ guid: c.guid, immutableId: c.immutableId, dn: c.dn, cloudId: null, exported: row?.exported ?? null, hash: null, status: 'pending', error: null });
      }
    });
    const res = await this.graph.batch(
      batch.map((c) => ({
        id: c.guid,
        method: 'POST',
        url: '/users',
        body: { ...createBody(c.props), passwordProfile: { password: randomPassword(), forceChangePasswordNextSignIn: false } },
      })),
    );
    const conflicts: Create[] = [];
    this.state.transaction(() => {
      for (const c of batch) {
        const r = res.get(c.guid)!;
        if (r.status === 201) {
          this.counts.created++;
          this.state.put({ guid: c.guid, immutableId: c.immutableId, dn: c.dn, cloudId: String(r.body.id), exported: c.props, hash: hashProps(c.props), status: 'synced', error: null });
        } else if (isConflict(r)) {
          conflicts.push(c);
        } else {
          this.fail(c, errorText(r), null, null);
        }
      }
    });
    // "Another object with the same value ... already exists": most likely ours from an unrecorded earlier attempt.
    if (conflicts.length) {
      const adopted = await this.lookup(conflicts);
      for (const c of conflicts) {
        if (!adopted.some((u) => u.guid === c.guid)) {
          this.state.transaction(() => this.fail(c, `${String(c.props.userPrincipalName)} is taken by another cloud user (enable sync.softMatch to adopt it)`, null, null));
        }
      }
      if (adopted.length) await this.updateBatch(adopted);
    }
    this.tick(batch.length - conflicts.length);
  }

  /**
   * Restores users this sync deleted (soft) before they are written again. Returns the batch without
   * those that cannot be: purged (after 30 days) ones go back to being created, others fail.
   */
  private async restore(batch: Update[]): Promise<Update[]> {
    const restoring = batch.filter((u) => u.restore);
    if (restoring.length === 0) return batch;
    const res = await this.graph.batch(restoring.map((u) => ({ id: u.guid, method: 'POST', url: `/directory/deletedItems/${u.cloudId}/restore` })));
    const purged: Create[] = [];
    const failed = new Set<string>();
    this.state.transaction(() => {
      for (const u of restoring) {
        const r = res.get(u.guid)!;
        if (r.status === 200 || r.status === 201) continue;
        failed.add(u.guid);
        if (r.status === 404) purged.push({ action: 'create', guid: u.guid, dn: u.dn, immutableId: u.immutableId, props: u.props });
        else this.fail(u, `cannot restore deleted cloud user ${u.cloudId}: ${errorText(r)}`, u.cloudId, null);
      }
    });
    if (purged.length) await this.createBatch(purged);
    return batch.filter((u) => !failed.has(u.guid));
  }

  private async updateBatch(all: Update[]): Promise<void> {
    const batch = await this.restore(all);
    const writes = batch.filter((u) => Object.keys(u.changes).length > 0);
    const res = await this.graph.batch(writes.map((u) => ({ id: u.guid, method: 'PATCH', url: `/users/${u.cloudId}`, body: u.changes })));
    this.state.transaction(() => {
      for (const u of batch) {
        const r = res.get(u.guid);
        if (!r || r.status === 204 || r.status === 200) {
          if (r) this.counts.updated++;
          this.state.put({ guid: u.guid, immutableId: u.immutableId, dn: u.dn, cloudId: u.cloudId, exported: u.props, hash: hashProps(u.props), status: 'synced', error: null });
        } else if (r.status === 404) {
          // Deleted in Entra behind our back: forget the id, the next cycle creates the user again.
          this.fail(u, `cloud user ${u.cloudId} no longer exists; it will be created again`, null, null);
        } else {
          this.fail(u, errorText(r), u.cloudId, u.before);
        }
      }
    });
    this.tick(batch.length);
  }

  private async removeBatch(batch: PlannedAction[]): Promise<void> {
    const writes = batch.filter((a): a is Extract<PlannedAction, { action: 'disable' | 'delete' }> => a.action === 'disable' || a.action === 'delete');
    const res = await this.graph.batch(
      writes.map((a) =>
        a.action === 'delete' ? { id: a.guid, method: 'DELETE', url: `/users/${a.cloudId}` } : { id: a.guid, method: 'PATCH', url: `/users/${a.cloudId}`, body: { accountEnabled: false } },
      ),
    );
    this.state.transaction(() => {
      for (const a of batch) {
        const row = this.state.get(a.guid);
        if (!row) continue;
        if (a.action === 'forget') {
          if (a.lookupFailed) {
            // Still pending (so read and looked up again next cycle), with the reason recorded.
            const error = `could not check whether the unconfirmed create exists in Entra: ${a.lookupFailed}`;
            this.counts.errors++;
            this.errors.push({ dn: a.dn, error });
            this.state.put({ ...row, error });
          } else {
            this.state.put({ ...row, status: 'removed', error: null });
          }
          continue;
        }
        const r = res.get(a.guid)!;
        if (r.status === 204 || r.status === 200 || r.status === 404) {
          if (r.status !== 404) a.action === 'delete' ? this.counts.deleted++ : this.counts.disabled++;
          // A deleted user keeps its cloud id: it stays restorable for 30 days if the user comes back.
          if (r.status === 404) this.state.put({ ...row, cloudId: null, exported: null, hash: null, status: 'removed', error: null });
          else if (a.action === 'delete') this.state.put({ ...row, exported: null, hash: null, status: 'removed', error: null });
          else {
            const exported = { ...(row.exported ?? {}), accountEnabled: false };
            this.state.put({ ...row, exported, hash: hashProps(exported), status: 'removed', error: null });
          }
        } else {
          // Marked for retry: the next cycle reads it again, finds it still out of scope and retries.
          this.fail(a, errorText(r), row.cloudId, row.exported);
        }
      }
    });
    this.tick(batch.length);
  }
}
