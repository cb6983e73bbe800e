// Accounts: first-run registration (the first user becomes admin), invitations and
// admin-created users, sign-in with sessions (rate limited, device cookies: login-limiter.ts),
// session revocation, disabling
// users, and API tokens. Changing a user's role or disabling them ends their sessions.
// Every revocation is published after its commit ('auth:revoked') so open WebSockets that
// were opened with those credentials are closed (revocation.ts).
import type { Db } from '../../infra/db/client.js';
import type { AccessRevoked, PubSub } from '../../infra/pubsub/topics.js';
import type { Role } from '../../generated/prisma/enums.js';
import type { User } from '../../generated/prisma/client.js';
import { clientError, forbidden, invalidInput, isGraphQLErrorLike, unauthenticated } from '../../graphql/errors.js';
import { fieldChanges, recordAudit } from '../audit.js';
import { hashPassword, verifyAgainstDecoy, verifyPassword } from './passwords.js';
import { API_TOKEN_PREFIX, SESSION_TTL_SECONDS, type Identity } from './identity.js';
import { hashToken, newToken } from './secrets.js';
import { announceDisabledPeers, disableOwnedPeers } from './owned-peers.js';
import type { EventSink } from '../integrations/events.js';
import type { LoginAttempt, LoginLimiter } from './login-limiter.js';
import type { DeviceCookies } from './device-cookie.js';
import type { LdapAccounts } from './ldap-accounts.js';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

export interface NewAccount {
  email: string;
  name: string;
  password: string;
  inviteToken?: string | null;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** SSO-only mode (oidc.ssoOnly): accounts come from the identity provider, none with a Meshplane password. */
export interface PasswordPolicy {
  /** Null: passwords work; else the provider's label, for the refusal's wording. */
  ssoOnly: { label: string } | null;
}

/** The user a new session is opened for. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export class Accounts {
  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    private readonly limiter: LoginLimiter,
    private readonly devices: DeviceCookies,
    private readonly passwords: PasswordPolicy = { ssoOnly: null },
    /** LDAP / Active Directory sign-in, when configured. */
    private readonly directory: LdapAccounts | null = null,
    /** Where peer.disabled goes when a disabled account's devices stop (the webhooks). */
    private readonly events: EventSink | null = null,
  ) {}

  /** Refuses what needs a Meshplane password when only SSO is allowed. */
  private refuseInSsoOnly(what: string): void {
    const sso = this.passwords.ssoOnly;
    if (sso) throw forbidden(`${what} is turned off: this Meshplane signs users in with ${sso.label} only (single sign-on)`, { ssoOnly: true });
  }

  private revoked(event: AccessRevoked): void {
    this.pubsub.publish('auth:revoked', event);
  }

  async needsFirstUser(): Promise<boolean> {
    return (await this.prisma.user.count()) === 0;
  }

  /** Open registration creates the first user only (as admin); later users need an invite. */
  async register(input: NewAccount, clientAddress = 'unknown') {
    this.refuseInSsoOnly('Registration');
    const email = normalizeEmail(input.email);
    // Refused registrations count like failed sign-ins: invitation tokens are not for guessing.
    const attempt = await this.limiter.begin(null, clientAddress);
    try {
      const user = await this.createRegistered(input, email);
      await attempt.refund();
      return user;
    } catch (error) {
      if (!isGuessRefusal(error)) await attempt.refund();
      throw error;
    }
  }

  private async createRegistered(input: NewAccount, email: string) {
    if (!(await this.needsFirstUser()) && !input.inviteToken) throw forbidden('Registration is closed: ask an admin for an invitation');
    const passwordHash = await hashPassword(input.password);
    return this.prisma.$transaction(async (tx) => {
      const isFirst = (await tx.user.count()) === 0;
      let role: Role = 'ADMIN';
      if (!isFirst) {
        if (!input.inviteToken) throw forbidden('Registration is closed: ask an admin for an invitation');
        const invite = await tx.invite.findUnique({ where: { tokenHash: hashToken(input.inviteToken) } });
        if (!invite || invite.usedAt || invite.expiresAt <= new Date() || normalizeEmail(invite.email) !== email) {
          throw forbidden('The invitation is invalid, used, expired or for another e-mail address');
        }
        await tx.invite.update({ where: { id: invite.id }, data: { usedAt: new Date() } });
        role = invite.role;
      }
      const user = await tx.user.create({ data: { email, name: input.name.trim(), passwordHash, role } });
      // The person registering is the actor (signed in by this registration), not 'anonymous'.
      await recordAudit(tx, { user, via: 'session' }, { action: 'user.register', targetType: 'User', targetId: user.id, targetName: user.email, details: { email, role } });
      return user;
    });
  }

  async createUser(actor: Identity, input: { email: string; name: string; password: string; role: Role }) {
    this.refuseInSsoOnly('Creating accounts with a password');
    const email = normalizeEmail(input.email);
    const passwordHash = await hashPassword(input.password);
    return this.prisma.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email, name: input.name.trim(), passwordHash, role: input.role } });
      await recordAudit(tx, actor, { action: 'user.create', targetType: 'User', targetId: user.id, targetName: user.email, details: { email, role: input.role } });
      return user;
    });
  }

  async createInvite(actor: Identity, input: { email: string; role: Role }) {
    this.refuseInSsoOnly('Inviting users to register with a password');
    const token = newToken('mpi_');
    const invite = await this.prisma.$transaction(async (tx) => {
      const created = await tx.invite.create({
        data: { email: normalizeEmail(input.email), role: input.role, tokenHash: hashToken(token), createdById: actor.user.id, expiresAt: new Date(Date.now() + INVITE_TTL_MS) },
      });
      await recordAudit(tx, actor, { action: 'invite.create', targetType: 'Invite', targetId: created.id, targetName: created.email, details: { email: created.email, role: created.role } });
      return created;
    });
    return { invite, token };
  }

  /** Invitations not used yet and not expired, newest first (`query`: the fields the caller asked for). */
  pendingInvites<Q extends { select?: object; include?: object }>(query: Q) {
    return this.prisma.invite.findMany({ ...query, where: { usedAt: null, expiresAt: { gt: new Date() } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  /** Withdraws a pending invitation: its link stops working (the row is gone, so registration refuses the token). */
  async revokeInvite(actor: Identity, id: string) {
    return this.prisma.$transaction(async (tx) => {
      const invite = await tx.invite.findUnique({ where: { id } });
      if (!invite || invite.usedAt) throw clientError('NOT_FOUND', 'Invitation not found (it may have been used or revoked already)');
      await tx.invite.delete({ where: { id } });
      await recordAudit(tx, actor, { action: 'invite.revoke', targetType: 'Invite', targetId: id, targetName: invite.email, details: { email: invite.email, role: invite.role } });
      return invite;
    });
  }

  /**
   * What the registration form may show of an invitation before it is used: its address and
   * role, found by the token (which only the invited person has), so nobody can pre-fill a form
   * with an address of their choosing. Null when the token is unknown, used, revoked or expired;
   * such misses count like failed sign-ins (rate limited), as registration's refusals do.
   */
  async inviteByToken(token: string, clientAddress = 'unknown') {
    const attempt = await this.limiter.begin(null, clientAddress);
    const invite = await this.prisma.invite.findUnique({ where: { tokenHash: hashToken(token) }, select: { email: true, role: true, expiresAt: true, usedAt: true } });
    if (!invite || invite.usedAt || invite.expiresAt <= new Date()) return null;
    await attempt.refund();
    return { email: invite.email, role: invite.role, expiresAt: invite.expiresAt };
  }

  /**
   * Checks the password and opens a session; returns the raw session token and the device
   * cookie (the caller's, renewed, or a new one) for the response's cookies.
   */
  async login(email: string, password: string, clientAddress: string, deviceCookie: string | null = null) {
    this.refuseInSsoOnly('Password sign-in');
    const account = normalizeEmail(email);
    const device = this.devices.verify(account, deviceCookie);
    const seenFrom = { clientAddress, ...(device ? { knownDevice: true } : {}) };
    let attempt: LoginAttempt;
    try {
      attempt = await this.limiter.begin(account, clientAddress, device);
    } catch (error) {
      await recordAudit(this.prisma, null, { action: 'auth.login', outcome: 'denied', details: { email: account, ...seenFrom, reason: 'rate limited' } });
      throw error;
    }
    const found = await this.prisma.user.findUnique({ where: { email: account } });
    // A local account with a password is checked here; any other name (a directory login, a
    // directory user's address) goes to the directory when one is configured (ldap-accounts.ts).
    const atDirectory = this.directory !== null && !found?.passwordHash;
    let user = found;
    if (atDirectory) ({ user, attempt } = await this.directorySignIn(email, password, attempt, { email: account, ...seenFrom }, clientAddress, device));
    else if (!(found && !found.disabledAt && found.passwordHash ? await verifyPassword(found.passwordHash, password) : await verifyAgainstDecoy(password))) user = null;
    if (!user) {
      // The attempt keeps its points: that is the failure counted.
      await recordAudit(this.prisma, null, { action: 'auth.login', outcome: 'denied', details: { email: account, ...seenFrom } });
      throw unauthenticated('Wrong e-mail address or password');
    }
    await attempt.succeeded();
    const token = await this.openSession(user, atDirectory ? { ...seenFrom, via: 'ldap' } : seenFrom);
    return { user, token, deviceCookie: this.devices.issue(account, deviceCookie) };
  }

  /**
   * The directory's answer for a sign-in: the user, or null for a wrong name or password (the
   * same answer as a local miss). A directory that is down or refuses a right password (no
   * mapped group, e-mail taken) is said so, audited and not counted as a guess. An empty
   * password never reaches the directory (an unauthenticated bind "succeeds" on many servers).
   * Returns the attempt to settle: once the name has found its entry, the guess is counted
   * against the entry, whatever name found it (the directory also matches the uid, the mail
   * address and case or Unicode variants of either, each a new name to the limiter).
   */
  private async directorySignIn(login: string, password: string, attempt: LoginAttempt, denied: Record<string, unknown>, clientAddress: string, device: string | null): Promise<{ user: User | null; attempt: LoginAttempt }> {
    if (password === '') return { user: null, attempt };
    let current = attempt;
    const outcome = await this.directory!.signIn(login.trim(), password, async (entryKey) => {
      try {
        current = await this.limiter.begin(`ldap:${entryKey}`, clientAddress, device);
      } catch (error) {
        // The typed name's attempt keeps its points: a refused try still costs the address.
        await recordAudit(this.prisma, null, { action: 'auth.login', outcome: 'denied', details: { ...denied, via: 'ldap', reason: 'rate limited' } });
        throw error;
      }
      await attempt.refund();
    });
    if (outcome.kind === 'ok') return { user: outcome.user, attempt: current };
    if (outcome.kind === 'wrong') return { user: null, attempt: current };
    await current.refund();
    const unavailable = outcome.kind === 'unavailable';
    await recordAudit(this.prisma, null, { action: 'auth.login', outcome: unavailable ? 'failed' : 'denied', details: { ...denied, via: 'ldap', reason: unavailable ? 'directory unavailable' : outcome.reason } });
    throw unavailable ? clientError('SERVICE_UNAVAILABLE', outcome.message) : forbidden(outcome.message);
  }

  /**
   * Opens a session for a user whose identity was proven (a password, an identity provider),
   * audited as auth.login with `details`; returns the raw session token for the cookie.
   * `oidcIdTokenEnc`: the provider's ID token, sealed, for signing out there too.
   */
  async openSession(user: SessionUser, details: Record<string, unknown>, oidcIdTokenEnc: string | null = null): Promise<string> {
    const token = newToken('mps_');
    await this.prisma.$transaction(async (tx) => {
      const session = await tx.session.create({
        data: { userId: user.id, tokenHash: hashToken(token), expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000), oidcIdTokenEnc },
      });
      await recordAudit(tx, { user, via: 'session', sessionId: session.id }, { action: 'auth.login', targetType: 'User', targetId: user.id, targetName: user.email, details });
    });
    return token;
  }

  /**
   * Ends every session and revokes every API token of a user the identity provider no longer
   * admits (no mapped group any more): the user keeps their last role, so a token would go on
   * working under it. Audited.
   */
  async endSessionsForProvider(userId: string, details: Record<string, unknown>): Promise<number> {
    const count = await this.prisma.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { id: userId }, select: { email: true } });
      if (!user) return 0;
      const revoked = await revokeAllSessions(tx, userId);
      const tokens = await tx.apiToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
      await recordAudit(tx, null, { action: 'session.revokeAll', targetType: 'User', targetId: userId, targetName: user.email, details: { ...details, sessionsRevoked: revoked, apiTokensRevoked: tokens.count } }, 'identity provider');
      return revoked;
    });
    this.revoked({ scope: 'user', userId, reason: 'role removed at the identity provider' });
    return count;
  }

  async logout(identity: Identity | null): Promise<boolean> {
    if (!identity?.sessionId) return false;
    await this.prisma.session.update({ where: { id: identity.sessionId }, data: { revokedAt: new Date() } });
    await recordAudit(this.prisma, identity, { action: 'auth.logout', targetType: 'Session', targetId: identity.sessionId, targetName: `session of ${identity.user.email}` });
    this.revoked({ scope: 'session', sessionId: identity.sessionId, reason: 'signed out' });
    return true;
  }

  async createApiToken(actor: Identity, input: { name: string; expiresInDays?: number | null }) {
    // End users have the portal (My devices); a token would be a credential nobody watches.
    if (actor.user.role === 'SELF_SERVICE') throw clientError('FORBIDDEN', 'Self-service accounts cannot create API tokens: use the My devices page to manage your devices');
    const token = newToken(API_TOKEN_PREFIX);
    const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
    const apiToken = await this.prisma.$transaction(async (tx) => {
      const created = await tx.apiToken.create({
        data: { name: input.name.trim(), prefix: token.slice(0, API_TOKEN_PREFIX.length + 6), tokenHash: hashToken(token), userId: actor.user.id, expiresAt },
      });
      await recordAudit(tx, actor, { action: 'apiToken.create', targetType: 'ApiToken', targetId: created.id, targetName: created.name, details: { name: created.name } });
      return created;
    });
    return { apiToken, token };
  }

  async revokeApiToken(actor: Identity, id: string) {
    const token = await this.prisma.apiToken.findUnique({ where: { id } });
    if (!token || (token.userId !== actor.user.id && actor.user.role !== 'ADMIN')) throw clientError('NOT_FOUND', 'API token not found');
    const revoked = await this.prisma.apiToken.update({ where: { id }, data: { revokedAt: token.revokedAt ?? new Date() } });
    await recordAudit(this.prisma, actor, { action: 'apiToken.revoke', targetType: 'ApiToken', targetId: id, targetName: token.name });
    this.revoked({ scope: 'token', tokenId: id, reason: 'API token revoked' });
    return revoked;
  }

  /** A new role ends the user's sessions: they sign in again under it. Their token sockets close too (opened under the old role). */
  async changeRole(actor: Identity, userId: string, role: Role) {
    if (userId === actor.user.id && role !== 'ADMIN') throw invalidInput('You cannot lower your own role; ask another admin');
    const { user, changed } = await this.prisma.$transaction(async (tx) => {
      const before = await tx.user.findUnique({ where: { id: userId }, select: { role: true } });
      if (!before) throw clientError('NOT_FOUND', 'User not found');
      const updated = await tx.user.update({ where: { id: userId }, data: { role } });
      const revoked = before.role === role ? 0 : await revokeAllSessions(tx, userId);
      await recordAudit(tx, actor, { action: 'user.changeRole', targetType: 'User', targetId: userId, targetName: updated.email, changes: fieldChanges(before, updated, ['role']), details: { sessionsRevoked: revoked } });
      return { user: updated, changed: before.role !== role };
    });
    if (changed) this.revoked({ scope: 'user', userId, reason: 'role changed' });
    return user;
  }

  /** Disabling refuses the user's sessions and API tokens at once (identity checks disabledAt) and revokes their sessions. */
  async setDisabled(actor: Identity, userId: string, disabled: boolean) {
    if (userId === actor.user.id && disabled) throw invalidInput('You cannot disable yourself; ask another admin');
    const { user, peers } = await this.prisma.$transaction(async (tx) => {
      const current = await tx.user.findUnique({ where: { id: userId }, select: { disabledAt: true } });
      if (!current) throw clientError('NOT_FOUND', 'User not found');
      // An admin's decision: the directory sync does not enable this account again by itself.
      const user = await tx.user.update({ where: { id: userId }, data: { disabledAt: disabled ? (current.disabledAt ?? new Date()) : null, disabledBySync: false } });
      const revoked = disabled ? await revokeAllSessions(tx, userId) : 0;
      const peers = disabled ? await disableOwnedPeers(tx, this.events, userId, `owner ${user.email} disabled`, actor) : [];
      await recordAudit(tx, actor, { action: disabled ? 'user.disable' : 'user.enable', targetType: 'User', targetId: userId, targetName: user.email, details: { sessionsRevoked: revoked, ...(peers.length ? { peersDisabled: peers.length } : {}) } });
      return { user, peers };
    });
    if (disabled) this.revoked({ scope: 'user', userId, reason: 'user disabled' });
    announceDisabledPeers(this.pubsub, peers);
    return user;
  }

  /** Ends one session: the caller's own, or anyone's for an admin. */
  async revokeSession(actor: Identity, sessionId: string) {
    const session = await this.prisma.session.findUnique({ where: { id: sessionId } });
    if (!session || (session.userId !== actor.user.id && actor.user.role !== 'ADMIN')) throw clientError('NOT_FOUND', 'Session not found');
    const revoked = await this.prisma.$transaction(async (tx) => {
      const updated = await tx.session.update({ where: { id: sessionId }, data: { revokedAt: session.revokedAt ?? new Date() }, include: { user: { select: { email: true } } } });
      await recordAudit(tx, actor, { action: 'session.revoke', targetType: 'Session', targetId: sessionId, targetName: `session of ${updated.user.email}`, details: { userId: session.userId } });
      return updated;
    });
    this.revoked({ scope: 'session', sessionId, reason: 'session revoked' });
    return revoked;
  }

  /** Ends every session of a user (an admin's "sign out everywhere" for someone else, or the caller's own). */
  async revokeUserSessions(actor: Identity, userId: string): Promise<number> {
    if (userId !== actor.user.id && actor.user.role !== 'ADMIN') throw clientError('NOT_FOUND', 'User not found');
    const revoked = await this.prisma.$transaction(async (tx) => {
      // An unknown id is NOT_FOUND, not "0 sessions ended" (and no audit entry for a user that never was).
      const user = await tx.user.findUnique({ where: { id: userId }, select: { email: true } });
      if (!user) throw clientError('NOT_FOUND', 'User not found');
      const count = await revokeAllSessions(tx, userId);
      await recordAudit(tx, actor, { action: 'session.revokeAll', targetType: 'User', targetId: userId, targetName: user.email, details: { sessionsRevoked: count } });
      return count;
    });
    this.revoked({ scope: 'userSessions', userId, reason: 'signed out everywhere' });
    return revoked;
  }
}

export async function revokeAllSessions(tx: Tx, userId: string): Promise<number> {
  const { count } = await tx.session.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
  return count;
}

/** Closed registration and bad invitations: the refusals someone guessing tokens gets. */
function isGuessRefusal(error: unknown): boolean {
  return isGraphQLErrorLike(error) && error.extensions?.code === 'FORBIDDEN';
}
