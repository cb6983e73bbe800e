// The device as an apply sees it: one reading at the start, kept up to date with what the
// apply itself writes. Items are found by their key (tag), uuids are OPNsense's own and
// stable; an update is only ever sent to a uuid this reading holds, because set on an
// unknown well-formed uuid creates the item ("upsert"): a rule deleted meanwhile would come
// back as a default pass rule.
import { DeviceError } from '../driver.js';
import type { OpnSenseReading } from './reading.js';
import { KIND, KIND_SPECS } from './kinds.js';
import { natReferences } from './nat.js';
import { keyOfName, parseDescr } from './tags.js';

export class LiveState {
  /** kind → key → uuid (the first item with the key). */
  private readonly byKey = new Map<string, Map<string, string>>();
  /** kind → every uuid read or created. */
  private readonly uuids = new Map<string, Set<string>>();
  /** Instance uuid → its peers' uuids. */
  readonly membership: Map<string, string[]>;
  /** Instance `name` (tags of Meshplane's) → uuid. */
  private readonly instanceByName = new Map<string, string>();
  marker: OpnSenseReading['marker'];
  /** Instance uuid → its number (the device is wg<number>), as read or looked up. */
  readonly instanceNumbers = new Map<string, string>();
  /** Instances named with Meshplane's tag (any WAN). */
  private readonly meshplaneInstances = new Set<string>();

  constructor(reading: OpnSenseReading, prefix: string) {
    this.membership = new Map([...reading.membership].map(([uuid, peers]) => [uuid, [...peers]]));
    this.marker = reading.marker;
    for (const server of reading.servers) {
      this.add(KIND.server, server.uuid as string, keyOfName(server.name, prefix));
      if (server.name) this.instanceByName.set(server.name, server.uuid as string);
      if (server.instance) this.instanceNumbers.set(server.uuid as string, server.instance);
    }
    const nat = natReferences(reading, prefix);
    for (const client of reading.clients) this.add(KIND.client, client.uuid as string, keyOfName(client.name, prefix));
    for (const [kind, rows] of reading.objects) {
      for (const row of rows) this.add(kind, row.uuid as string, kind === KIND.assignment ? nat.assignmentKeyOf(row) : parseDescr(row.description, prefix).key);
    }
  }

  private add(kind: string, uuid: string, key: string | null): void {
    if (!this.uuids.has(kind)) this.uuids.set(kind, new Set());
    this.uuids.get(kind)!.add(uuid);
    if (key === null) return;
    if (kind === KIND.server) this.meshplaneInstances.add(uuid);
    if (!this.byKey.has(kind)) this.byKey.set(kind, new Map());
    const keys = this.byKey.get(kind)!;
    if (!keys.has(key)) keys.set(key, uuid);
  }

  has(kind: string, uuid: string): boolean {
    return this.uuids.get(kind)?.has(uuid) ?? false;
  }

  uuidOf(kind: string, key: string): string | undefined {
    return this.byKey.get(kind)?.get(key);
  }

  created(kind: string, key: string | null, uuid: string, props: Record<string, string>): void {
    this.add(kind, uuid, key);
    if (kind === KIND.server && props.name) {
      this.instanceByName.set(props.name, uuid);
      this.membership.set(uuid, []);
    }
  }

  /** Whether the item carries a Meshplane tag (this apply's reading, or a tag written since). */
  isTagged(kind: string, uuid: string): boolean {
    return [...(this.byKey.get(kind)?.values() ?? [])].includes(uuid);
  }

  /** An adoption wrote the tag onto an existing item: it is found by its key from now on, and keeps its membership. */
  tagged(kind: string, uuid: string, key: string, name: string | undefined): void {
    this.add(kind, uuid, key);
    if (kind === KIND.server && name) this.instanceByName.set(name, uuid);
  }

  deleted(kind: string, uuid: string): void {
    this.uuids.get(kind)?.delete(uuid);
    const keys = this.byKey.get(kind);
    for (const [key, value] of keys ?? []) if (value === uuid) keys?.delete(key);
    if (kind === KIND.client) for (const [instance, peers] of this.membership) this.membership.set(instance, peers.filter((peer) => peer !== uuid));
    if (kind === KIND.server) this.membership.delete(uuid);
  }

  /** The uuids of the instances a peer is attached to now. */
  serversOf(clientUuid: string): string[] {
    return [...this.membership].filter(([, peers]) => peers.includes(clientUuid)).map(([uuid]) => uuid);
  }

  /** The admin's instances (not Meshplane's) a peer is attached to: a save of the peer keeps them. */
  adminServersOf(clientUuid: string): string[] {
    return this.serversOf(clientUuid).filter((uuid) => !this.meshplaneInstances.has(uuid));
  }

  /** `servers` as a plan writes it ("@<instance name>" or uuids, comma-joined) → uuids. */
  resolveServers(value: string): string {
    return value.split(',').filter(Boolean).map((entry) => {
      if (!entry.startsWith('@')) return entry;
      const uuid = this.instanceByName.get(entry.slice(1));
      if (uuid === undefined) throw new DeviceError('REFUSED', `the instance ${entry.slice(1)} does not exist on the device`);
      return uuid;
    }).join(',');
  }

  attach(clientUuid: string, servers: string): void {
    const wanted = new Set(servers.split(',').filter(Boolean));
    for (const [instance, peers] of this.membership) {
      const without = peers.filter((peer) => peer !== clientUuid);
      this.membership.set(instance, wanted.has(instance) ? [...without, clientUuid] : without);
    }
  }

  /** Known kinds only: the table decides which ones can be written. */
  static spec(kind: string) {
    const spec = KIND_SPECS[kind];
    if (!spec) throw new DeviceError('PROTOCOL', `unknown resource kind ${kind}`);
    return spec;
  }
}
