// The open graphql-ws sockets with who each was admitted as, so the ones whose credentials
// were revoked can be closed (services/auth/revocation.ts decides which).
import type { WebSocket } from 'ws';

/** graphql-ws's code for a refused connection (what onConnect returning false sends). */
export const CLOSE_FORBIDDEN = 4403;

export class LiveSockets<Who> {
  private readonly open = new Map<WebSocket, Who>();

  add(socket: WebSocket, who: Who): void {
    this.open.set(socket, who);
    socket.once('close', () => this.open.delete(socket));
  }

  delete(socket: WebSocket): void {
    this.open.delete(socket);
  }

  /** Closes every socket admitted as someone `match` accepts, with 4403 and the reason; returns how many. */
  close(match: (who: Who) => boolean, reason: string): number {
    let closed = 0;
    for (const [socket, who] of [...this.open]) {
      if (!match(who)) continue;
      this.open.delete(socket);
      // A close frame's reason is at most 123 bytes (our reasons are short ASCII).
      socket.close(CLOSE_FORBIDDEN, `Forbidden: ${reason}`.slice(0, 123));
      closed++;
    }
    return closed;
  }
}
