// The open graphql-ws sockets with who each was admitted as, so the ones whose credentials
// were revoked can be closed (services/auth/revocation.ts decides which), and each one is
// closed when the credentials it was admitted with expire.
import type { WebSocket } from 'ws';

/** graphql-ws's code for a refused connection (what onConnect returning false sends). */
export const CLOSE_FORBIDDEN = 4403;

// setTimeout's longest delay (~24.8 days); a later expiry is waited for in steps of it.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LiveSockets<Who> {
  private readonly open = new Map<WebSocket, Who>();
  private readonly expiryTimers = new Map<WebSocket, NodeJS.Timeout>();

  /**
   * @param expiryOf when the credentials a socket was admitted with stop working (a
   * session's or API token's expiry), or null: the socket is closed then, as if revoked.
   */
  constructor(private readonly expiryOf: (who: Who) => { at: Date; reason: string } | null = () => null) {}

  add(socket: WebSocket, who: Who): void {
    this.open.set(socket, who);
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
      const who = this.open.get(socket);
      if (who === undefined || !match(who)) continue;
      this.delete(socket);
      // A close frame's reason is at most 123 bytes (our reasons are short ASCII).
      socket.close(CLOSE_FORBIDDEN, `Forbidden: ${reason}`.slice(0, 123));
      closed++;
    }
    return closed;
  }
}
