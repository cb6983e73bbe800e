// The simulated firewall's state (/work/shared/ref/opnsense.md §5.1): the `config` document the
// API edits and saves (every save appends a revision), and the `running` state that changes only
// when the matching action runs (WireGuard reconfigure, filter apply, routes/assignment reconfigure).
import { createHash, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { versionFeatures, type VersionFeatures } from './versions.js';

/** One MVC record: every leaf is a string, as OPNsense stores it (multi-value fields comma-joined). */
export type Fields = Record<string, string>;
/** Records by UUID (v4, lower-case), or interfaces by identifier (`wan`, `lan`, `optN`). */
export type RecordMap = Map<string, Fields>;

export interface FilterNode {
  rules: RecordMap;
  onetoone: RecordMap;
  npt: RecordMap;
  snatrules: RecordMap;
}

export interface ConfigDocument {
  general: { enabled: string };
  /** WireGuard instances; `server.peers` is the canonical membership (client UUIDs, comma-joined). */
  servers: RecordMap;
  /** WireGuard peers; `servers` is derived on read from the instances' `peers`. */
  clients: RecordMap;
  filter: FilterNode;
  aliases: RecordMap;
  routes: RecordMap;
  gateways: RecordMap;
  interfaces: RecordMap;
}

export interface Revision {
  /** "%0.2f" of the clock when saved, e.g. "1786432100.51". */
  time: string;
  config: ConfigDocument;
}

export interface PeerStats {
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rx: bigint;
  tx: bigint;
  /** What wg reports as the peer's current endpoint, "ip:port"; null = (none). */
  endpoint: string | null;
}

export interface RunningPeer {
  uuid: string;
  name: string;
  pubkey: string;
  psk: string;
  allowedIps: string[];
  /** Configured endpoint "host:port", or null. */
  endpoint: string | null;
  /** Seconds, or "" for off. */
  keepalive: string;
}

/** A wgN device as `wg_start()` left it. */
export interface RunningInstance {
  uuid: string;
  name: string;
  ifname: string;
  privkey: string;
  pubkey: string;
  /** The listen port wg reports (the configured one, or a random one when empty). */
  port: string;
  mtu: string;
  addresses: string[];
  peers: RunningPeer[];
  /** `route add … -interface wgN` destinations. */
  routes: string[];
  /** How often its addresses and routes were flushed and re-added (each one a blip). */
  flushes: number;
  /** Hash of the generated wgN.conf (change detection as wg_reconfigure_hash()). */
  confHash: string;
}

export interface RunningState {
  wg: Map<string, RunningInstance>;
  /** The Filter node as of the last filter apply (null = the seeded one, never applied). */
  filter: FilterNode;
  routes: RecordMap;
  gateways: RecordMap;
  interfaces: RecordMap;
}

/** The management path is cut (design §1.5): by a filter apply, or by a WireGuard route. */
export type ManagementCut = { kind: 'filter'; filterHash: string } | { kind: 'route'; destination: string };

function emptyConfig(): ConfigDocument {
  const map = (): RecordMap => new Map();
  return {
    general: { enabled: '0' },
    servers: map(),
    clients: map(),
    filter: { rules: map(), onetoone: map(), npt: map(), snatrules: map() },
    aliases: map(),
    routes: map(),
    gateways: map(),
    interfaces: map(),
  };
}

export function filterHash(filter: FilterNode): string {
  const flat = Object.entries(filter).map(([node, records]) => [node, [...(records as RecordMap).entries()]]);
  return createHash('sha256').update(JSON.stringify(flat)).digest('hex');
}

export class OpnSenseModel {
  readonly features: VersionFeatures;
  config: ConfigDocument = emptyConfig();
  /** Newest last; at most `backupCount` (system.backupcount, default 100). */
  readonly revisions: Revision[] = [];
  backupCount = 100;
  running: RunningState;
  /** Staged interface assignments (ident) until interfaces/assignment/reconfigure. */
  readonly assignmentTodo = new Set<string>();
  /** Per `wgN|pubkey` (or `*|pubkey` for any instance): what `wg show` reports. */
  readonly peerStats = new Map<string, PeerStats>();
  /** The address Meshplane's requests come from, as the firewall sees it. */
  managementSource = '127.0.0.1';
  cut: ManagementCut | null = null;
  /** Unix seconds with a fraction; tests may pin it (`clock = () => 1786432100.5`). */
  clock: () => number = () => Date.now() / 1000;
  /** Every open client socket (the management cut drops them). */
  readonly sockets = new Set<Socket>();
  /** Timers the simulator runs (rollback, …): cleared on stop. */
  readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly version: string) {
    this.features = versionFeatures(version);
    this.running = { wg: new Map(), filter: structuredClone(this.config.filter), routes: new Map(), gateways: new Map(), interfaces: new Map() };
  }

  newUuid(): string {
    return randomUUID();
  }

  /** Config::save(): one revision per successful write, at most backupCount kept. */
  save(): Revision {
    let time = this.clock();
    const last = this.revisions.at(-1);
    if (last && Number(last.time) >= Number(time.toFixed(2))) time = Number(last.time) + 0.01;
    const revision = { time: time.toFixed(2), config: structuredClone(this.config) };
    this.revisions.push(revision);
    while (this.revisions.length > this.backupCount) this.revisions.shift();
    return revision;
  }

  revision(time: string): Revision | undefined {
    return this.revisions.find((revision) => revision.time === time);
  }

  /** Client UUIDs attached to an instance (its `peers`, in order). */
  serverPeers(serverUuid: string): string[] {
    return splitList(this.config.servers.get(serverUuid)?.peers ?? '');
  }

  /** Instance UUIDs whose `peers` hold this client (client.servers, derived). */
  clientServers(clientUuid: string): string[] {
    return [...this.config.servers.entries()].filter(([, server]) => splitList(server.peers ?? '').includes(clientUuid)).map(([uuid]) => uuid);
  }

  /** Smallest unused instance number (≥1 on 24.1.0). */
  nextInstance(): string {
    const used = new Set([...this.config.servers.values()].map((server) => server.instance));
    for (let n = this.features.firstInstance; n < 10_000; n++) if (!used.has(String(n))) return String(n);
    throw new Error('no free instance number');
  }

  setPeerStats(publicKey: string, stats: Partial<PeerStats>, ifname = '*'): void {
    const key = `${ifname}|${publicKey}`;
    const current = this.peerStats.get(key) ?? { latestHandshake: 0, rx: 0n, tx: 0n, endpoint: null };
    this.peerStats.set(key, { ...current, ...stats });
  }

  statsOf(ifname: string, publicKey: string): PeerStats | undefined {
    return this.peerStats.get(`${ifname}|${publicKey}`) ?? this.peerStats.get(`*|${publicKey}`);
  }

  stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** New TLS connections are refused (a filter cut; pf keeps the states of open ones). */
  refusesNewConnections(): boolean {
    if (!this.cut) return false;
    if (this.cut.kind === 'route') return true;
    return filterHash(this.running.filter) === this.cut.filterHash;
  }

  /** Every connection, old and new, is dropped (a route sends the replies into the tunnel). */
  dropsEveryConnection(): boolean {
    return this.cut?.kind === 'route';
  }
}

export function splitList(value: string): string[] {
  return value === '' ? [] : value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}
