// After a deploy: wait until the given peers show a fresh handshake, polling the device's
// statistics (one read per poll), and report the ones that never did. Works with any
// driver that reports statistics. The loop is bounded by timeoutMs / pollMs.
import type { DeviceDriver } from '../driver.js';

export interface HandshakeProbeResult {
  /** Peers with a handshake no older than `freshWithinMs` at the last poll. */
  fresh: string[];
  /** Peers without one when the time ran out (the lead records a warning naming each). */
  stale: string[];
  /** false when the device cannot report statistics: nothing could be checked. */
  supported: boolean;
}

export interface HandshakeProbeOptions {
  /** How old a handshake may be and still count (WireGuard re-handshakes every 2 minutes). Default 180 s. */
  freshWithinMs?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export async function waitForHandshake(
  driver: Pick<DeviceDriver, 'statistics'>,
  interfaceName: string,
  publicKeys: readonly string[],
  timeoutMs: number,
  pollMs: number,
  options: HandshakeProbeOptions = {},
): Promise<HandshakeProbeResult> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const freshWithin = options.freshWithinMs ?? 180_000;
  const wanted = [...new Set(publicKeys)];
  const fresh = new Set<string>();
  const polls = Math.max(1, Math.ceil(Math.max(0, timeoutMs) / Math.max(1, pollMs)) + 1);
  for (let poll = 0; poll < polls; poll++) {
    const statistics = await driver.statistics(interfaceName);
    if (statistics === null) return { fresh: [], stale: wanted, supported: false };
    const at = now().getTime();
    for (const entry of statistics) {
      if (entry.lastHandshake !== null && at - entry.lastHandshake.getTime() <= freshWithin) fresh.add(entry.publicKey);
    }
    if (wanted.every((key) => fresh.has(key))) break;
    if (poll < polls - 1) await sleep(pollMs);
  }
  return { fresh: wanted.filter((key) => fresh.has(key)), stale: wanted.filter((key) => !fresh.has(key)), supported: true };
}
