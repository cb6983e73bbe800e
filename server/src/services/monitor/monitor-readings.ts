// From device statistics to peer statuses, without I/O: a device's read of one interface
// tells about every remote peer it sees and about the peer it hosts; a peer seen by several
// devices gets the newest handshake and the larger counters.
import type { PeerStatistics } from '../../devices/driver.js';
import type { PeerStatus } from './monitor-state.js';

/** WireGuard rekeys at least every 2 minutes while traffic flows; 3 minutes without a handshake means down. */
export const ONLINE_THRESHOLD_SECONDS = 180;

interface Reading {
  lastHandshake: Date | null;
  rx: bigint;
  tx: bigint;
  endpoint: string | null;
}

function merge(a: Reading | undefined, b: Reading): Reading {
  if (!a) return b;
  const newer = (b.lastHandshake?.getTime() ?? 0) > (a.lastHandshake?.getTime() ?? 0) ? b : a;
  return { lastHandshake: newer.lastHandshake, rx: a.rx > b.rx ? a.rx : b.rx, tx: a.tx > b.tx ? a.tx : b.tx, endpoint: newer.endpoint ?? a.endpoint ?? b.endpoint };
}

export class Readings {
  private readonly byPeer = new Map<string, Reading>();

  /** One interface's statistics, read on the device hosting `hostId`; `remote` finds a peer of the same WAN by public key. */
  addInterface(hostId: string, stats: readonly PeerStatistics[], remote: (publicKey: string) => string | undefined): void {
    let host: Reading = { lastHandshake: null, rx: 0n, tx: 0n, endpoint: null };
    for (const entry of stats) {
      const remoteId = remote(entry.publicKey);
      if (!remoteId) continue;
      // The device's tx is what the remote received: counters are seen from the remote's side.
      const reading = { lastHandshake: entry.lastHandshake, rx: BigInt(entry.txBytes), tx: BigInt(entry.rxBytes), endpoint: entry.currentEndpoint };
      this.add(remoteId, reading);
      host = {
        lastHandshake: merge(host, { ...reading, rx: 0n, tx: 0n }).lastHandshake,
        rx: host.rx + BigInt(entry.rxBytes),
        tx: host.tx + BigInt(entry.txBytes),
        endpoint: null,
      };
    }
    this.add(hostId, host);
  }

  private add(peerId: string, reading: Reading): void {
    this.byPeer.set(peerId, merge(this.byPeer.get(peerId), reading));
  }

  /** The status of every peer read, as of `now`. */
  statuses(wanOf: ReadonlyMap<string, string>, now: Date): PeerStatus[] {
    return [...this.byPeer].map(([peerId, reading]) => ({
      peerId,
      wanId: wanOf.get(peerId)!,
      online: reading.lastHandshake !== null && now.getTime() - reading.lastHandshake.getTime() < ONLINE_THRESHOLD_SECONDS * 1000,
      lastHandshake: reading.lastHandshake,
      rxBytes: reading.rx.toString(),
      txBytes: reading.tx.toString(),
      endpoint: reading.endpoint,
      observedAt: now,
    }));
  }
}

/** When any device last saw a handshake of the peer (null: never, or no device reports it: status null). */
export function lastSeenOf(status: Pick<PeerStatus, 'lastHandshake'> | null | undefined): Date | null {
  return status?.lastHandshake ?? null;
}
