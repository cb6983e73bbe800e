// The directory sync: on an interval (ldap.syncIntervalMinutes, default 15; 0 = off) and on
// an admin's request (the syncDirectory mutation), every LDAP user is compared with the
// directory: gone or in no mapped group → disabled; another role → the new role (sessions
// ended); back → enabled again if the sync had disabled them (ldap-accounts.ts).
//
// An outage must never disable everyone: the directory is listed in full FIRST, and when the
// listing fails (unreachable, refused bind, a search error, more entries than the bound), comes
// back empty while Meshplane has directory users, or finds none of several active ones (a
// changed id attribute or base), nothing is changed and the run is reported as failed. One replica syncs at a time (the `ldap-sync` lease).
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import { acquire, keepLease, type LockManager } from '../../infra/locks.js';
import { IntervalTask } from '../../infra/interval-task.js';
import { recordAudit } from '../audit.js';
import type { LdapAccounts, AppliedChange } from './ldap-accounts.js';
import type { Identity } from './identity.js';
import { DirectoryUnavailableError } from './ldap.js';

export interface DirectorySyncResult {
  /** LDAP users compared with the directory. */
  checked: number;
  disabled: number;
  enabled: number;
  roleChanged: number;
  /** Name or e-mail address taken over from the directory. */
  updated: number;
  /** Entries the directory listed (all of them, known to Meshplane or not). */
  listed: number;
  finishedAt: Date;
}

export class DirectorySyncFailed extends Error {
  override readonly name = 'DirectorySyncFailed';
}

const LEASE = 'ldap-sync';
const LEASE_TTL_MS = 60_000;
/** Taken by the replica whose timer runs the interval's sync and left to expire. */
const PERIOD_SLOT = 'ldap-sync-period';

export class LdapSync {
  private readonly task: IntervalTask;
  /** The last run of this replica (the users page shows it; each user also has syncedAt). */
  last: { at: Date; ok: boolean; result: DirectorySyncResult | null; error: string | null } | null = null;

  constructor(
    private readonly prisma: Db,
    private readonly accounts: LdapAccounts,
    private readonly locks: LockManager,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {
    this.task = new IntervalTask(intervalMs, () => this.periodic(), (error) => this.log.warn({ err: { message: (error as Error).message } }, 'directory sync failed: nothing was changed; trying again next interval'));
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** A periodic run: skipped when another replica ran this interval's, or holds the lease (an admin's run). */
  private async periodic(): Promise<void> {
    // Every replica's timer fires each interval; without the slot each would run a sync of its
    // own (one after the other). Shorter than the interval, so the holder's next tick finds it free.
    if (!(await this.locks.tryAcquire(PERIOD_SLOT, Math.max(1, Math.floor(this.intervalMs * 0.9))))) return;
    const lease = await this.locks.tryAcquire(LEASE, LEASE_TTL_MS);
    if (!lease) return;
    try {
      await this.runHeld(lease);
    } finally {
      await lease.release();
    }
  }

  /**
   * Runs now (an admin's request, audited as directory.sync with the counts or the failure),
   * waiting up to a minute for a run in progress elsewhere.
   */
  async runNow(actor: Identity): Promise<DirectorySyncResult> {
    const lease = await acquire(this.locks, LEASE, LEASE_TTL_MS, { maxWaitMs: 60_000 });
    try {
      const result = await this.runHeld(lease);
      const { finishedAt: _at, ...counts } = result;
      await recordAudit(this.prisma, actor, { action: 'directory.sync', targetType: 'Directory', targetName: 'the LDAP directory', details: counts });
      return result;
    } catch (error) {
      await recordAudit(this.prisma, actor, { action: 'directory.sync', targetType: 'Directory', targetName: 'the LDAP directory', outcome: 'failed', details: { error: (error as Error).message } });
      throw error;
    } finally {
      await lease.release();
    }
  }

  private async runHeld(lease: Parameters<typeof keepLease>[0]): Promise<DirectorySyncResult> {
    const stopRenewing = keepLease(lease, LEASE_TTL_MS, (reason) => this.log.warn({ reason }, 'directory sync lease lost'));
    try {
      const result = await this.sync();
      this.last = { at: result.finishedAt, ok: true, result, error: null };
      if (result.disabled + result.enabled + result.roleChanged + result.updated > 0) this.log.info({ ...result }, 'directory sync changed users');
      return result;
    } catch (error) {
      const message = (error as Error).message;
      this.last = { at: new Date(), ok: false, result: null, error: message };
      throw error instanceof DirectorySyncFailed ? error : new DirectorySyncFailed(message);
    } finally {
      stopRenewing();
    }
  }

  /** One comparison of every LDAP user with the directory (callers hold the lease). */
  private async sync(): Promise<DirectorySyncResult> {
    const users = await this.prisma.user.findMany({ where: { authSource: 'LDAP', externalId: { not: null } }, orderBy: { id: 'asc' } });
    const result: DirectorySyncResult = { checked: 0, disabled: 0, enabled: 0, roleChanged: 0, updated: 0, listed: 0, finishedAt: new Date() };
    if (users.length === 0) return result;
    let listing: Awaited<ReturnType<LdapAccounts['directory']['listUsers']>>;
    try {
      listing = await this.accounts.directory.listUsers(new Set(users.map((user) => user.externalId!)));
    } catch (error) {
      const cause = error instanceof DirectoryUnavailableError ? error.message : `directory request failed: ${(error as Error).message}`;
      throw new DirectorySyncFailed(`the directory could not be read, so no user was changed (${cause})`);
    }
    result.listed = listing.listed;
    if (listing.listed === 0) {
      throw new DirectorySyncFailed(`the directory listed no users at all under ${this.accounts.config.userBase} while Meshplane has ${users.length} directory users: nothing was changed (check ldap.userBase, ldap.userFilter and the service account's read access)`);
    }
    // A listing that finds none of several active accounts is a changed id attribute or user base
    // (after an update of the settings) far more often than everyone leaving at once.
    const active = users.filter((user) => !user.disabledAt);
    if (active.length >= 2 && active.every((user) => !listing.entries.has(user.externalId!))) {
      throw new DirectorySyncFailed(`none of the ${active.length} active directory users Meshplane knows is in the directory's listing (${listing.listed} entries): nothing was changed (did ldap.attributes.id, ldap.userBase or ldap.userFilter change? Disable departed users by hand if they really all left)`);
    }
    for (const user of users) {
      const changes: AppliedChange = { disabled: false, enabled: false, roleChanged: false, updated: false };
      try {
        await this.accounts.apply(user, this.accounts.stateOf(listing.entries.get(user.externalId!)), changes);
      } catch (error) {
        // One account's failure (e.g. a concurrent change) must not stop the others.
        this.log.warn({ userId: user.id, err: { message: (error as Error).message } }, 'directory sync could not update a user');
        continue;
      }
      result.checked += 1;
      if (changes.disabled) result.disabled += 1;
      if (changes.enabled) result.enabled += 1;
      if (changes.roleChanged) result.roleChanged += 1;
      if (changes.updated) result.updated += 1;
    }
    result.finishedAt = new Date();
    return result;
  }
}
