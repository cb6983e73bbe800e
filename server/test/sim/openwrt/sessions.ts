// rpcd's `session` object (ref §3.1): logins checked against `config login` sections of
// /etc/config/rpcd, grants from the ACL files read at every login, sliding expiry on every
// lookup, -32002 for an expired or unknown sid (the front's ACL check finds no session), the
// reclaim of a pending apply's session by its username, and destroy purging the session's
// uci deltas. Time is the model's clock, so a test can expire a 300 s session in milliseconds.
import { randomBytes } from 'node:crypto';
import { aclDump, allowed, grantsFor, type Grant, type LoginPermissions } from './acl.js';
import { cryptMatches } from './crypt.js';
import type { OpenWrtFaults } from './faults.js';
import { NULL_SID } from './jsonrpc.js';

export const DEFAULT_TIMEOUT = 300;

export interface LoginEntry extends LoginPermissions {
  username: string;
  /** crypt hash, `$p$<user>`, or "" (no password: any password is accepted). */
  password: string;
}

/** What the sessions read from the rest of the router. */
export interface SessionHost {
  /** `config login` sections of the committed /etc/config/rpcd, in file order. */
  logins(): LoginEntry[];
  /** A system user's /etc/shadow hash, for `$p$<user>`; null when there is no such user. */
  shadowHash(user: string): string | null;
  /** The files under /usr/share/rpcd/acl.d/. */
  aclFiles(): Array<{ path: string; data: string }>;
  /** The model clock: now in ms, and how many ms a simulated second lasts. */
  now(): number;
  msPerSecond(): number;
  /** The session of a pending rollback-protected apply, if any. */
  applySid(): string | null;
  /** The session is gone: its uci deltas go with it. */
  destroyed(sid: string): void;
}

export interface Session {
  sid: string;
  username: string | null;
  grants: Grant[];
  /** Seconds; 0 = never expires. */
  timeout: number;
  /** Model-clock ms; Infinity when the session never expires. */
  expiresAt: number;
}

export type CallReply = { status: number; data?: unknown };

function isHex32(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly host: SessionHost, private readonly faults: OpenWrtFaults) {
    this.sessions.set(NULL_SID, { sid: NULL_SID, username: null, grants: [], timeout: 0, expiresAt: Infinity });
  }

  private nullSession(): Session {
    const session = this.sessions.get(NULL_SID)!;
    // The ACL files are re-read when they change: the null session's grants follow them.
    session.grants = grantsFor(this.host.aclFiles(), null);
    return session;
  }

  private touch(session: Session): void {
    if (session.timeout > 0) session.expiresAt = this.host.now() + session.timeout * this.host.msPerSecond();
  }

  /** Sessions whose timer ran out are destroyed (rpcd's uloop timer), deltas and all. */
  sweep(): void {
    const now = this.host.now();
    for (const session of [...this.sessions.values()]) if (session.expiresAt <= now) this.destroy(session.sid);
  }

  /** rpc_session_get: the session, its timer restarted; null when unknown or expired. */
  get(sid: string): Session | null {
    this.sweep();
    if (sid === NULL_SID) return this.nullSession();
    const session = this.sessions.get(sid);
    if (!session) return null;
    this.touch(session);
    return session;
  }

  /** Whether the session is alive (model.ts SessionHooks: the rollback restores a live initiator's deltas only). */
  exists(sid: string): boolean {
    this.sweep();
    return this.sessions.has(sid);
  }

  /** The ubus/uci/file ACL check, through a live session (a missing one grants nothing). */
  access(sid: string, scope: string, object: string, fn: string): boolean {
    const session = this.get(sid);
    if (!session) return false;
    if (scope === 'ubus' && this.faults.denyAcl.includes(`${object}.${fn}`)) return false;
    if (scope === 'ubus' && this.faults.rootLacksCommit && session.username === 'root'
      && ((object === 'uci' && (fn === 'commit' || fn === 'revert')) || (object === 'session' && fn === 'destroy'))) return false;
    return allowed(session.grants, scope, object, fn);
  }

  destroy(sid: string): boolean {
    if (sid === NULL_SID || !this.sessions.delete(sid)) return false;
    this.host.destroyed(sid);
    return true;
  }

  /** Every session but the null one ends now (as a reboot or an expiry of all). */
  expireAll(): void {
    for (const sid of [...this.sessions.keys()]) this.destroy(sid);
  }

  /** Live sessions other than the null one. */
  list(): Session[] {
    this.sweep();
    return [...this.sessions.values()].filter((session) => session.sid !== NULL_SID);
  }

  dump(session: Session): Record<string, unknown> {
    const remaining = session.expiresAt === Infinity ? 0 : Math.max(0, Math.ceil((session.expiresAt - this.host.now()) / this.host.msPerSecond()) - 1);
    return {
      ubus_rpc_session: session.sid,
      timeout: session.timeout,
      expires: remaining,
      acls: aclDump(session.grants),
      data: session.username === null ? {} : { username: session.username },
    };
  }

  private async passwordMatches(hash: string, password: string, depth = 0): Promise<boolean> {
    if (hash === '' || hash === '!' || hash === 'x') return this.faults.emptyPasswordAcceptsAny;
    if (hash.startsWith('$p$')) {
      const shadow = depth === 0 ? this.host.shadowHash(hash.slice(3)) : null;
      return shadow !== null && this.passwordMatches(shadow, password, depth + 1);
    }
    return cryptMatches(hash, password);
  }

  async login(args: Record<string, unknown>): Promise<CallReply> {
    const { username, password, timeout } = args;
    if (typeof username !== 'string' || typeof password !== 'string') return { status: 2 };
    if (this.faults.refuseLogin) return { status: 6 };
    let login: LoginEntry | null = null;
    for (const entry of this.host.logins()) {
      if (entry.username === username && (await this.passwordMatches(entry.password, password))) {
        login = entry;
        break;
      }
    }
    if (login === null) return { status: 6 };
    // rpc_reclaim_apply_session: a client that lost its session can still confirm its apply.
    const applySid = this.host.applySid();
    const pending = applySid === null ? undefined : this.sessions.get(applySid);
    if (pending && pending.username === username) {
      this.touch(pending);
      return { status: 0, data: this.dump(pending) };
    }
    const seconds = typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 0 ? timeout : DEFAULT_TIMEOUT;
    let sid = randomBytes(16).toString('hex');
    while (this.sessions.has(sid) || !isHex32(sid)) sid = randomBytes(16).toString('hex');
    const session: Session = { sid, username, grants: grantsFor(this.host.aclFiles(), login), timeout: seconds, expiresAt: Infinity };
    this.touch(session);
    this.sessions.set(sid, session);
    return { status: 0, data: this.dump(session) };
  }

  /** The `session` ubus object; `sid` is the caller's own (uhttpd's ubus_rpc_session). */
  async call(sid: string, method: string, args: Record<string, unknown>): Promise<CallReply> {
    switch (method) {
      case 'login':
        return this.login(args);
      case 'access': {
        const session = this.get(sid);
        if (!session) return { status: 4 };
        const scope = typeof args.scope === 'string' ? args.scope : 'ubus';
        if (typeof args.object !== 'string' || typeof args.function !== 'string') {
          // Without object/function rpcd answers the whole ACL dump.
          return { status: 0, data: aclDump(session.grants) };
        }
        return { status: 0, data: { access: this.access(sid, scope, args.object, args.function) } };
      }
      case 'list': {
        const session = this.get(sid);
        return session ? { status: 0, data: this.dump(session) } : { status: 4 };
      }
      case 'destroy':
        if (sid === NULL_SID) return { status: 6 };
        return this.destroy(sid) ? { status: 0 } : { status: 4 };
      default:
        return { status: 3 };
    }
  }
}
