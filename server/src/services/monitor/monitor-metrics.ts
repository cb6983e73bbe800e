// What /metrics reports from the handshake monitor's state (the same on every replica), with
// the names operators know; one series per peer and per device, so cardinality stays bounded.
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { HubSample, MetricsSources } from '../../infra/metrics.js';
import { OverlayReader } from '../overlay/overlay-reader.js';
import { wanHubUsage } from './tunnels.js';
import type { HandshakeMonitor } from './monitor.js';
import { storedDrift } from './drift-watch.js';

export function monitorMetricsSources(prisma: Db, monitor: HandshakeMonitor, secrets: SecretBox): MetricsSources {
  return {
    async hubs() {
      const wans = await prisma.wan.findMany({ where: { hubRedundancy: true }, select: { id: true, name: true } });
      const reader = new OverlayReader(prisma, secrets);
      const now = new Date();
      const samples: HubSample[] = [];
      for (const wan of wans) {
        const { usage, view } = await wanHubUsage(reader, monitor, wan.id, now);
        for (const hub of usage.hubs) samples.push({ wan: wan.name, hub: view.peerName(hub.hubId), state: hub.state, spokesUsing: hub.spokesUsing });
      }
      return samples;
    },
    async peers() {
      const statuses = monitor.allStatuses();
      const names = await prisma.peer.findMany({ where: { id: { in: statuses.map((status) => status.peerId) } }, select: { id: true, name: true, wan: { select: { name: true } } } });
      const byId = new Map(names.map((row) => [row.id, row]));
      return statuses.flatMap((status) => {
        const row = byId.get(status.peerId);
        if (!row) return [];
        return [{ wan: row.wan.name, peer: row.name, online: status.online, lastHandshakeSeconds: status.lastHandshake ? status.lastHandshake.getTime() / 1000 : null, rxBytes: status.rxBytes, txBytes: status.txBytes }];
      });
    },
    async drift() {
      const peers = await prisma.peer.findMany({ where: { driftItems: { not: null }, deviceId: { not: null } }, select: { name: true, driftItems: true, wan: { select: { name: true } }, device: { select: { name: true } } } });
      return peers.map((peer) => ({ wan: peer.wan.name, peer: peer.name, device: peer.device?.name ?? '', items: storedDrift(peer.driftItems)?.length ?? 0 }));
    },
    async devices() {
      const health = monitor.deviceReachability();
      const names = await prisma.device.findMany({ where: { id: { in: health.map((device) => device.deviceId) } }, select: { id: true, name: true } });
      const nameOf = new Map(names.map((row) => [row.id, row.name]));
      return health.flatMap(({ deviceId, reachable }) => {
        const name = nameOf.get(deviceId);
        return name === undefined ? [] : [{ device: deviceId, name, reachable }];
      });
    },
  };
}
