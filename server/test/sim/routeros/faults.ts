// Fault switches shared by the API and REST servers. Tests flip them at start (options)
// or at any time (`sim.faults.x = …`); servers read them on every command, so a change
// takes effect on the next command of every open connection.

export interface FaultSettings {
  /** Every login fails with RouterOS's "invalid user name or password (6)" / HTTP 401. */
  refuseLogin?: boolean;
  /**
   * Answer this many more commands (API sentences after login, REST requests), then drop
   * the connection that sends the next one without replying. One-shot: the switch clears
   * itself when it fires, so a client that reconnects can carry on.
   */
  dropAfterCommands?: number | null;
  /** Write replies one byte per socket write (API) or per body chunk (REST). */
  fragmentOutput?: boolean;
  /** Wait this long before answering each command (`/cancel` and `/quit` are not delayed). */
  replyDelayMs?: number;
  /** Command word → trap message; those commands fail with `!trap` / HTTP 400. */
  trapCommands?: Readonly<Record<string, string>>;
}

const DEFAULT_TRAP_MESSAGE = 'failure: simulated fault';

export class Faults {
  refuseLogin = false;
  dropAfterCommands: number | null = null;
  fragmentOutput = false;
  replyDelayMs = 0;
  readonly trapCommands = new Map<string, string>();

  constructor(settings: FaultSettings = {}) {
    this.apply(settings);
  }

  apply(settings: FaultSettings): void {
    if (settings.refuseLogin !== undefined) this.refuseLogin = settings.refuseLogin;
    if (settings.dropAfterCommands !== undefined) this.dropAfterCommands = settings.dropAfterCommands;
    if (settings.fragmentOutput !== undefined) this.fragmentOutput = settings.fragmentOutput;
    if (settings.replyDelayMs !== undefined) this.replyDelayMs = settings.replyDelayMs;
    for (const [command, message] of Object.entries(settings.trapCommands ?? {})) this.trapCommands.set(command, message);
  }

  /** Makes `command` (e.g. `/interface/wireguard/peers/add`) trap until `untrap`. */
  trap(command: string, message = DEFAULT_TRAP_MESSAGE): void {
    this.trapCommands.set(command, message);
  }

  untrap(command: string): void {
    this.trapCommands.delete(command);
  }

  /** All switches off. */
  reset(): void {
    this.refuseLogin = false;
    this.dropAfterCommands = null;
    this.fragmentOutput = false;
    this.replyDelayMs = 0;
    this.trapCommands.clear();
  }

  /**
   * Counts one command against `dropAfterCommands`; true means "drop this connection now
   * instead of answering".
   */
  consumeCommand(): boolean {
    if (this.dropAfterCommands === null) return false;
    if (this.dropAfterCommands > 0) {
      this.dropAfterCommands -= 1;
      return false;
    }
    this.dropAfterCommands = null;
    return true;
  }
}
