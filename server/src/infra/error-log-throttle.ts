// A bound on the error lines (with stack traces) one client can make the server write: any
// client that finds a request failing unexpectedly could otherwise repeat it and flood the log.
// Per client (a user, or an address when anonymous) at most `perClient` lines per window and
// at most `overall` for all clients together; the rest are counted and reported in one warning
// per client and window ("suppressed K unexpected errors from <client>"). Memory stays bounded:
// windows are fixed (one start time and two counters per client), ended ones are swept, and
// at most `maxClients` are tracked (the oldest is reported and dropped to make room).
import type { Logger } from './logger.js';

export interface ErrorLogLimits {
  perClient: number;
  overall: number;
  windowMs: number;
  maxClients: number;
}

export const DEFAULT_ERROR_LOG_LIMITS: ErrorLogLimits = { perClient: 10, overall: 100, windowMs: 60_000, maxClients: 10_000 };

interface Window {
  start: number;
  logged: number;
  suppressed: number;
}

export class ErrorLogThrottle {
  private readonly clients = new Map<string, Window>();
  private overall: Window = { start: 0, logged: 0, suppressed: 0 };
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    readonly limits: ErrorLogLimits = DEFAULT_ERROR_LOG_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), limits.windowMs);
    this.sweeper.unref();
  }

  /** Whether to write this client's error in full now; when not, it is counted for the summary. */
  admit(client: string): boolean {
    const now = this.now();
    if (now - this.overall.start >= this.limits.windowMs) this.overall = { start: now, logged: 0, suppressed: 0 };
    let window = this.clients.get(client);
    if (window && now - window.start >= this.limits.windowMs) {
      this.report(client, window);
      this.clients.delete(client);
      window = undefined;
    }
    if (!window) {
      if (this.clients.size >= this.limits.maxClients) this.evictOldest();
      window = { start: now, logged: 0, suppressed: 0 };
      this.clients.set(client, window);
    }
    if (window.logged < this.limits.perClient && this.overall.logged < this.limits.overall) {
      window.logged++;
      this.overall.logged++;
      return true;
    }
    window.suppressed++;
    return false;
  }

  /** Reports and forgets the windows that have ended. */
  sweep(): void {
    const now = this.now();
    for (const [client, window] of this.clients) {
      if (now - window.start < this.limits.windowMs) continue;
      this.report(client, window);
      this.clients.delete(client);
    }
  }

  /** Reports what is still counted and stops the sweeper. */
  close(): void {
    clearInterval(this.sweeper);
    for (const [client, window] of this.clients) this.report(client, window);
    this.clients.clear();
  }

  private evictOldest(): void {
    const oldest = this.clients.entries().next().value;
    if (!oldest) return;
    this.report(oldest[0], oldest[1]);
    this.clients.delete(oldest[0]);
  }

  private report(client: string, window: Window): void {
    if (window.suppressed === 0) return;
    this.log.warn({ client, suppressed: window.suppressed }, `suppressed ${window.suppressed} unexpected errors from ${client}`);
  }
}
