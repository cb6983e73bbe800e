// Directory accounts: what a directory entry means for a Meshplane user, shared by sign-in
// and the periodic sync (ldap-sync.ts), so both apply the same rules.
//
// A user is keyed by (authSource LDAP, externalId = the entry's id attribute). Each sign-in
// and sync takes the role from the entry's groups (domain/identity-mapping.ts, DNs compared
// case-insensitively), its name and e-mail address; a role change ends the user's sessions
// (as an admin's would); an entry that is gone or in no mapped group disables the user
// (disabledBySync), and only such a user is enabled again when the entry is back.
import type { Db } from '../../infra/db/client.js';
import type { AccessRevoked, PubSub } from '../../infra/pubsub/topics.js';
import type { Role } from '../../generated/prisma/enums.js';
import type { User } from '../../generated/prisma/client.js';
import { roleForGroups } from '../../domain/identity-mapping.js';
import { fieldChanges, recordAudit } from '../audit.js';
import type { LdapConfig } from './ldap-config.js';
import type { Logger } from '../../infra/logger.js';
import { DirectoryUnavailableError, sameDn, type BeforeBind, type DirectoryEntry, type LdapDirectory } from './ldap.js';
import { revokeAllSessions } from './accounts.js';
import { announceDisabledPeers, disableOwnedPeers, type DisabledPeer } from './owned-peers.js';
import type { EventSink } from '../integrations/events.js';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Whose work the directory's changes are in the audit log. */
export const DIRECTORY_ACTOR = 'meshplane (directory)';

/** What the directory says about one known user. */
export type DirectoryState =
  | { present: true; entry: DirectoryEntry; role: Role }
  | { present: false; why: 'entry not found' | 'in no mapped group' };

/** What applying a state changed (the sync counts these). */
export interface AppliedChange {
  disabled: boolean;
  enabled: boolean;
  roleChanged: boolean;
  updated: boolean;
}

/** A sign-in's outcome: `refused` (right password, no access) and `unavailable` carry a sentence for the person. */
export type DirectorySignIn =
  | { kind: 'ok'; user: User }
  | { kind: 'wrong' }
  | { kind: 'refused'; reason: string; message: string }
  | { kind: 'unavailable'; message: string };

const WRONG: DirectorySignIn = { kind: 'wrong' };

export class LdapAccounts {
  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    readonly directory: LdapDirectory,
    private readonly log: Logger,
    /** Where peer.disabled goes when a removed account's devices stop (the webhooks). */
    private readonly events: EventSink | null = null,
  ) {}

  get config(): LdapConfig {
    return this.directory.config;
  }

  /** The role the entry's groups give, or null (none mapped, no default). */
  roleOf(entry: DirectoryEntry): Role | null {
    return roleForGroups(entry.groups, this.config.roles, this.config.defaultRole, sameDn);
  }

  stateOf(entry: DirectoryEntry | undefined): DirectoryState {
    if (!entry) return { present: false, why: 'entry not found' };
    const role = this.roleOf(entry);
    return role ? { present: true, entry, role } : { present: false, why: 'in no mapped group' };
  }

  /**
   * Checks `login`/`password` at the directory and returns the Meshplane user, created on the
   * first sign-in and brought up to date on every one. `beforeBind`: see LdapDirectory.authenticate.
   */
  async signIn(login: string, password: string, beforeBind?: BeforeBind): Promise<DirectorySignIn> {
    let entry: DirectoryEntry | null;
    try {
      entry = await this.directory.authenticate(login, password, beforeBind);
    } catch (error) {
      if (!(error instanceof DirectoryUnavailableError)) throw error;
      this.log.warn({ urls: this.config.urls, err: { message: error.message } }, 'directory sign-in impossible: the directory did not answer');
      return { kind: 'unavailable', message: 'The directory (LDAP) cannot be reached right now, so directory accounts cannot sign in: try again in a few minutes, or tell your administrator' };
    }
    if (!entry) return WRONG;
    const state = this.stateOf(entry);
    const known = await this.prisma.user.findUnique({ where: { authSource_externalId: { authSource: 'LDAP', externalId: entry.id } } });
    if (!state.present) {
      // The password was right but the directory no longer grants access: the account goes the
      // way the next sync would take it, now.
      if (known) await this.apply(known, state);
      return { kind: 'refused', reason: 'in no mapped group', message: 'Your directory account is in none of the groups that give access to Meshplane: ask your administrator' };
    }
    if (!entry.email) {
      return { kind: 'refused', reason: 'no e-mail address in the directory', message: `Your directory entry has no e-mail address (attribute ${this.config.attributes.email}), which Meshplane needs: ask your directory administrator` };
    }
    if (!known) return this.create(entry, entry.email, state.role);
    // An account an admin disabled stays disabled, and answers like a wrong password (as a local one does).
    if (known.disabledAt && !known.disabledBySync) return WRONG;
    return { kind: 'ok', user: await this.apply(known, state) };
  }

  private async create(entry: DirectoryEntry, email: string, role: Role): Promise<DirectorySignIn> {
    const taken = await this.prisma.user.findUnique({ where: { email } });
    // A sign-in at the same moment created this very account: use it.
    if (taken?.authSource === 'LDAP' && taken.externalId === entry.id) return { kind: 'ok', user: await this.apply(taken, { present: true, entry, role }) };
    if (taken) {
      // Never take over an account that signs in another way: an admin decides.
      const how = taken.authSource === 'LOCAL' ? 'with a password' : taken.authSource === 'OIDC' ? 'through single sign-on' : 'through another directory entry';
      return {
        kind: 'refused', reason: 'e-mail address taken by another account',
        message: `A Meshplane account with the e-mail address ${email} already exists and signs in ${how}: sign in that way, or ask an administrator to remove that account`,
      };
    }
    try {
      const user = await this.prisma.$transaction(async (tx) => {
        const created = await tx.user.create({ data: { email, name: entry.name ?? email, role, authSource: 'LDAP', externalId: entry.id, syncedAt: new Date() } });
        await recordAudit(tx, null, { action: 'user.create', targetType: 'User', targetId: created.id, targetName: email, details: { email, role, via: 'ldap', dn: entry.dn } }, DIRECTORY_ACTOR);
        return created;
      });
      return { kind: 'ok', user };
    } catch (error) {
      // Two first sign-ins at once: the other one created the account; use it.
      const created = isUniqueViolation(error) ? await this.prisma.user.findUnique({ where: { authSource_externalId: { authSource: 'LDAP', externalId: entry.id } } }) : null;
      if (!created) throw error;
      return { kind: 'ok', user: await this.apply(created, { present: true, entry, role }) };
    }
  }

  /**
   * Brings one LDAP user in line with the directory (one transaction, audited per change) and
   * publishes the revocation after the commit. Returns the user as it is now.
   */
  async apply(user: User, state: DirectoryState, changes?: AppliedChange): Promise<User> {
    const { after, revoke, applied, peers } = await this.prisma.$transaction((tx) => this.applyIn(tx, user, state));
    if (revoke) this.pubsub.publish('auth:revoked', revoke);
    announceDisabledPeers(this.pubsub, peers);
    if (changes) {
      changes.disabled ||= applied.disabled;
      changes.enabled ||= applied.enabled;
      changes.roleChanged ||= applied.roleChanged;
      changes.updated ||= applied.updated;
    }
    return after;
  }

  private async applyIn(tx: Tx, user: User, state: DirectoryState): Promise<{ after: User; revoke: AccessRevoked | null; applied: AppliedChange; peers: DisabledPeer[] }> {
    const applied: AppliedChange = { disabled: false, enabled: false, roleChanged: false, updated: false };
    const now = new Date();
    if (!state.present) {
      if (user.disabledAt) return { after: user, revoke: null, applied, peers: [] };
      // Conditional: a sign-in or an admin may have changed the account since it was read.
      const { count } = await tx.user.updateMany({ where: { id: user.id, disabledAt: null }, data: { disabledAt: now, disabledBySync: true, syncedAt: now } });
      if (count === 0) return { after: user, revoke: null, applied, peers: [] };
      const sessionsRevoked = await revokeAllSessions(tx, user.id);
      const peers = await disableOwnedPeers(tx, this.events, user.id, `owner ${user.email} removed from directory`, null, DIRECTORY_ACTOR);
      await recordAudit(tx, null, {
        action: 'user.disable', targetType: 'User', targetId: user.id, targetName: user.email,
        details: { reason: 'removed from directory', directory: state.why, sessionsRevoked, ...(peers.length ? { peersDisabled: peers.length } : {}) },
      }, DIRECTORY_ACTOR);
      applied.disabled = true;
      return { after: await tx.user.findUniqueOrThrow({ where: { id: user.id } }), revoke: { scope: 'user', userId: user.id, reason: 'removed from directory' }, applied, peers };
    }
    const { entry, role } = state;
    const data: { role?: Role; name?: string; email?: string; syncedAt: Date } = { syncedAt: now };
    if (role !== user.role) data.role = role;
    if (entry.name && entry.name !== user.name) data.name = entry.name;
    if (entry.email && entry.email !== user.email) {
      const taken = await tx.user.findUnique({ where: { email: entry.email }, select: { id: true } });
      if (!taken) data.email = entry.email;
    }
    // Conditional: an admin who disabled the account since it was read has the last word.
    const enable = user.disabledAt !== null && user.disabledBySync
      && (await tx.user.updateMany({ where: { id: user.id, disabledBySync: true, disabledAt: { not: null } }, data: { disabledAt: null, disabledBySync: false } })).count === 1;
    const after = await tx.user.update({ where: { id: user.id }, data });
    let revoke: AccessRevoked | null = null;
    if (enable) {
      await recordAudit(tx, null, { action: 'user.enable', targetType: 'User', targetId: user.id, targetName: after.email, details: { reason: 'back in the directory' } }, DIRECTORY_ACTOR);
      applied.enabled = true;
    }
    if (data.role) {
      const sessionsRevoked = await revokeAllSessions(tx, user.id);
      await recordAudit(tx, null, {
        action: 'user.changeRole', targetType: 'User', targetId: user.id, targetName: after.email, changes: fieldChanges(user, after, ['role']), details: { reason: 'directory groups', sessionsRevoked },
      }, DIRECTORY_ACTOR);
      applied.roleChanged = true;
      revoke = { scope: 'user', userId: user.id, reason: 'role changed in the directory' };
    }
    if (data.name || data.email) {
      await recordAudit(tx, null, { action: 'user.update', targetType: 'User', targetId: user.id, targetName: after.email, changes: fieldChanges(user, after, ['name', 'email']), details: { reason: 'directory entry' } }, DIRECTORY_ACTOR);
      applied.updated = true;
    }
    return { after, revoke, applied, peers: [] };
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}
