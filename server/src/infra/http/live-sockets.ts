// The open graphql-ws sockets with who each was admitted as, so the ones whose credentials
// were revoked can be closed (services/auth/revocation.ts decides which), each one is
// closed when the credentials it was admitted with expire, and no user holds more than
// LIVE_LIMITS of them or of the operations running on them.
import type { WebSocket } from 'ws';

/** graphql-ws's code for a refused connection (what onConnect returning false sends). */
export const CLOSE_FORBIDDEN = 4403;
/** A socket past LIVE_LIMITS.socketsPerUser (graphql-ws's "too many requests" code: clients do not retry it). */
export const CLOSE_TOO_MANY = 4429;

/**
 * What one user may hold open on this server (each replica counts its own): every
 * subscription re-reads its WAN on each change and holds its buffers, so these bound the
 * work and memory one account can make an event cost. Operations are every query, mutation
 * and subscription in flight on a socket. The web UI holds one socket per tab and a handful
 * of subscriptions on it.
 */
export const LIVE_LIMITS = { socketsPerUser: 20, operationsPerSocket: 50, operationsPerUser: 200 } as const;

interface OpenSocket<Who> {
  who: Who;
  /** The operations in flight on the socket now (graphql-ws's own record of them). */
  operations: () => number;
}

// setTimeout's longest delay (~24.8 days); a later expiry is waited for in steps of it.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LiveSockets<Who> {
  private readonly open = new Map<WebSocket, OpenSocket<Who>>();
  private readonly expiryTimers = new Map<WebSocket, NodeJS.Timeout>();

  /**
   * @param expiryOf when the credentials a socket was admitted with stop working (a
   * session's or API token's expiry), or null: the socket is closed then, as if revoked.
   * @param userOf the account a socket counts against in LIVE_LIMITS.
   */
  constructor(
    private readonly expiryOf: (who: Who) => { at: Date; reason: string } | null = () => null,
    private readonly userOf: (who: Who) => string = () => '',
  ) {}

  /** Why `who` may not open one more socket, or null. */
  refuseSocket(who: Who): string | null {
    const user = this.userOf(who);
    let sockets = 0;
    for (const entry of this.open.values()) if (this.userOf(entry.who) === user) sockets++;
    return sockets >= LIVE_LIMITS.socketsPerUser ? `at most ${LIVE_LIMITS.socketsPerUser} live connections per user` : null;
  }

  /** Why the operation just registered on `socket` (counted in its operations) must be refused, or null. */
  refuseOperation(socket: WebSocket): string | null {
    const own = this.open.get(socket);
    if (!own) return null;
    if (own.operations() > LIVE_LIMITS.operationsPerSocket) return `at most ${LIVE_LIMITS.operationsPerSocket} subscriptions per connection`;
    const user = this.userOf(own.who);
    let total = 0;
    for (const entry of this.open.values()) if (this.userOf(entry.who) === user) total += entry.operations();
    return total > LIVE_LIMITS.operationsPerUser ? `at most ${LIVE_LIMITS.operationsPerUser} subscriptions per user across connections` : null;
  }

  add(socket: WebSocket, who: Who, operations: () => number = () => 0): void {
    this.open.set(socket, { who, operations });
    socket.once('close', () => this.delete(socket));
    const expiry = this.expiryOf(who);
    if (expiry) this.closeAt(socket, expiry.at.getTime(), expiry.reason);
  }

  delete(socket: WebSocket): void {
    this.open.delete(socket);
    clearTimeout(this.expiryTimers.get(socket));
    this.expiryTimers.delete(socket);
  }

  private closeAt(socket: WebSocket, at: number, reason: string): void {
    const wait = at - Date.now();
    const timer = setTimeout(() => {
      if (!this.open.has(socket)) return;
      if (wait > MAX_TIMER_MS) this.closeAt(socket, at, reason);
      else this.close((_who) => true, reason, [socket]);
    }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
    // An expiry must not keep the process alive on its own.
    timer.unref();
    this.expiryTimers.set(socket, timer);
  }

  /** Closes every socket admitted as someone `match` accepts, with 4403 and the reason; returns how many. */
  close(match: (who: Who) => boolean, reason: string, among: Iterable<WebSocket> = [...this.open.keys()]): number {
    let closed = 0;
    for (const socket of among) {
      const who = this.open.get(socket)?.who;
      if (who === undefined || !match(who)) continue;
      this.delete(socket);
      // A close frame's reason is at most 123 bytes (our reasons are short ASCII).
      socket.close(CLOSE_FORBIDDEN, `Forbidden: ${reason}`.slice(0, 123));
      closed++;
    }
    return closed;
  }
}
