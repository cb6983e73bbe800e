// Prometheus metrics at /metrics (prom-client). Peer gauges are computed at scrape time
// from the handshake monitor's state, so nothing is updated per poll that nobody reads.
// Every replica holds the same monitor state, so any replica can be scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface PeerSample {
  wan: string;
  peer: string;
  online: boolean;
  lastHandshakeSeconds: number | null;
  rxBytes: string;
  txBytes: string;
}

export interface HubSample {
  wan: string;
  hub: string;
  state: 'UP' | 'LOST' | 'UNKNOWN';
  spokesUsing: number;
}

export interface MetricsSources {
  peers(): Promise<PeerSample[]>;
  /** WANs with redundant hubs: each hub's state and the spokes on it, as the devices report the tunnels. */
  hubs?(): Promise<HubSample[]>;
  /** device: the id (stable across renames), name: what operators call it. */
  devices(): Promise<Array<{ device: string; name: string; reachable: boolean }>>;
  /** Peers the drift watch compared: the items their device differs in (0: in sync). */
  drift?(): Promise<Array<{ wan: string; peer: string; device: string; items: number }>>;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'meshplane_process_' });
  let sources: MetricsSources | null = null;

  const peerUp = new Gauge({ name: 'meshplane_peer_up', help: '1 when the peer had a handshake within the online threshold', labelNames: ['wan', 'peer'], registers: [registry] });
  const lastHandshake = new Gauge({ name: 'meshplane_peer_last_handshake_timestamp_seconds', help: 'Unix time of the last handshake a device reported', labelNames: ['wan', 'peer'], registers: [registry] });
  const rx = new Gauge({ name: 'meshplane_peer_received_bytes', help: 'Bytes the peer received over the overlay', labelNames: ['wan', 'peer'], registers: [registry] });
  const tx = new Gauge({ name: 'meshplane_peer_sent_bytes', help: 'Bytes the peer sent over the overlay', labelNames: ['wan', 'peer'], registers: [registry] });
  const deviceReachable = new Gauge({ name: 'meshplane_device_reachable', help: '1 when the handshake monitor\'s last read of the device succeeded', labelNames: ['device', 'name'], registers: [registry] });
  const hubState = new Gauge({ name: 'meshplane_hub_state', help: 'WANs with redundant hubs: 1 for the state the devices report for the hub (UP, LOST, UNKNOWN), 0 for the others', labelNames: ['wan', 'hub', 'state'], registers: [registry] });
  const hubSpokes = new Gauge({ name: 'meshplane_hub_spokes', help: 'WANs with redundant hubs: spokes the devices confirm on the hub now', labelNames: ['wan', 'hub'], registers: [registry] });
  const driftItems = new Gauge({ name: 'meshplane_peer_drift_items', help: 'Items the peer\'s device differs in from what Meshplane last put there, as the drift watch last compared (0: in sync); peers never compared have no series', labelNames: ['wan', 'peer', 'device'], registers: [registry] });
  const driftChecks = new Counter({ name: 'meshplane_drift_checks_total', help: 'Drift watch comparisons of one peer\'s device, by result (in_sync, drifted, unreachable, busy, failed, not_deployed)', labelNames: ['result'], registers: [registry] });
  const jobs = new Counter({ name: 'meshplane_jobs_total', help: 'Finished device jobs', labelNames: ['kind', 'status'], registers: [registry] });
  const overlayCompiles = new Counter({ name: 'meshplane_overlay_compiles_total', help: 'Compiles of a WAN\'s overlay (queries, previews, subscriptions, downloads, deploy jobs); unchanged WANs reuse theirs', registers: [registry] });
  const jobDuration = new Histogram({ name: 'meshplane_job_duration_seconds', help: 'Duration of device jobs', labelNames: ['kind'], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120], registers: [registry] });

  async function refreshFromSources(): Promise<void> {
    if (!sources) return;
    for (const gauge of [peerUp, lastHandshake, rx, tx, deviceReachable, hubState, hubSpokes, driftItems]) gauge.reset();
    for (const sample of await sources.peers()) {
      const labels = { wan: sample.wan, peer: sample.peer };
      peerUp.set(labels, sample.online ? 1 : 0);
      if (sample.lastHandshakeSeconds !== null) lastHandshake.set(labels, sample.lastHandshakeSeconds);
      rx.set(labels, Number(sample.rxBytes));
      tx.set(labels, Number(sample.txBytes));
    }
    for (const { device, name, reachable } of await sources.devices()) deviceReachable.set({ device, name }, reachable ? 1 : 0);
    for (const { wan, peer, device, items } of (await sources.drift?.()) ?? []) driftItems.set({ wan, peer, device }, items);
    for (const sample of (await sources.hubs?.()) ?? []) {
      for (const state of ['UP', 'LOST', 'UNKNOWN'] as const) hubState.set({ wan: sample.wan, hub: sample.hub, state }, sample.state === state ? 1 : 0);
      hubSpokes.set({ wan: sample.wan, hub: sample.hub }, sample.spokesUsing);
    }
  }

  return {
    registry,
    setSources(next: MetricsSources) {
      sources = next;
    },
    overlayCompiled: () => overlayCompiles.inc(),
    driftChecked: (result: string) => driftChecks.inc({ result }),
    jobFinished(kind: string, status: string, seconds: number) {
      jobs.inc({ kind, status });
      jobDuration.observe({ kind }, seconds);
    },
    async render(): Promise<{ contentType: string; body: string }> {
      await refreshFromSources();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
