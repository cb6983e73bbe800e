// Reads what Meshplane compares on an OPNsense firewall, shape-detected rather than
// version-guessed (reference §1.6): search rows give the uuids; getServer/<uuid> gives every
// instance's private key and its `peers` map (the only membership read that works on every
// version); client rows are used as they are when they carry every field (25.1.3+),
// else getClient/<uuid> each. Filter rows: the pending marker and the description-tagged
// kinds of the kind table.
import { DeviceError } from '../driver.js';
import type { OpnSenseClient } from './client.js';
import { flatten, type DeviceObject } from './codec.js';
import { KIND, KIND_SPECS, type KindSpec } from './kinds.js';
import { parseDescr } from './tags.js';

export type Row = Record<string, string>;

export interface OpnSenseReading {
  general: Row;
  /** Instances as getServer renders them (maps flattened), with `uuid`. */
  servers: Row[];
  /** Peers, with `uuid`. */
  clients: Row[];
  /** uuid of an instance → the uuids of its peers (server.peers, canonical). */
  membership: Map<string, string[]>;
  /** Rows of the other kinds of the kind table, by kind, raw values, with `uuid`. */
  objects: Map<string, Row[]>;
  /** Meshplane's pending-apply marker, when one is there; `savepoint`: the filter savepoint (≤ 26.1) its run took. */
  marker: { uuid: string; areas: string[]; savepoint?: string } | null;
  /** Kinds of translated LANs the API key may not read (kind → OPNsense's 403 as Meshplane words it). */
  unreadable: Map<string, string>;
}

const SEARCH_ALL = { current: 1, rowCount: -1, searchPhrase: '' };

interface SearchReply {
  rows?: DeviceObject[];
}

async function search(client: OpnSenseClient, path: string): Promise<DeviceObject[]> {
  const reply = await client.call<SearchReply>('POST', path, { body: SEARCH_ALL });
  return Array.isArray(reply.rows) ? reply.rows : [];
}

/** One item's get form, flattened; null when OPNsense no longer has it (`[]`). */
async function getOne(client: OpnSenseClient, path: string, model: string, uuid: string): Promise<Row | null> {
  const reply = await client.get<Record<string, unknown> | unknown[]>(`${path}/${uuid}`);
  const item = Array.isArray(reply) ? undefined : reply[model];
  return item && typeof item === 'object' ? { ...flatten(item as DeviceObject), uuid } : null;
}

/**
 * The filter marker's description: "<prefix>:pending <area>,<area>", then " savepoint <revision>"
 * once a run up to 26.1 took one: a rerun cancels that run's rollback timer, which OPNsense
 * arms once at a time and would otherwise fire into the rerun.
 */
export function markerDescription(prefix: string, areas: readonly string[], savepoint?: string): string {
  return `${prefix}:pending ${[...areas].sort().join(',')}${savepoint ? ` savepoint ${savepoint}` : ''}`;
}

function parseMarker(description: unknown, prefix: string): { areas: string[]; savepoint?: string } | null {
  const text = typeof description === 'string' ? description : '';
  if (!text.startsWith(`${prefix}:pending`)) return null;
  const [areas = '', word, revision] = text.slice(`${prefix}:pending`.length).trim().split(/\s+/);
  const savepoint = word === 'savepoint' && revision !== undefined && /^\d+(\.\d+)?$/.test(revision) ? revision : undefined;
  return { areas: areas.split(',').filter(Boolean), ...(savepoint ? { savepoint } : {}) };
}

function markerAreas(description: unknown, prefix: string): string[] | null {
  return parseMarker(description, prefix)?.areas ?? null;
}

/** The interfaces Meshplane's rules (and the hand-made ones adoption looks for) are on. */
const RULE_INTERFACES = ['wan', 'wireguard'];

export async function readFilterRows(client: OpnSenseClient): Promise<DeviceObject[]> {
  // searchRule without `interface` may list only floating rules (reference §6 R1): the rules
  // on each interface ours use are asked for too, and the rows joined by uuid.
  const pages = await Promise.all([
    search(client, 'firewall/filter/searchRule'),
    ...RULE_INTERFACES.map((name) => client.call<SearchReply>('POST', 'firewall/filter/searchRule', { body: { ...SEARCH_ALL, interface: name } }).then((reply) => (Array.isArray(reply.rows) ? reply.rows : []))),
  ]);
  const byUuid = new Map<string, DeviceObject>();
  for (const row of pages.flat()) if (!byUuid.has(String(row.uuid))) byUuid.set(String(row.uuid), row);
  // Legacy and automatic rules are listed among the MVC ones: never ours.
  return [...byUuid.values()].filter((row) => !row.legacy && !row.is_automatic);
}

/** The rows of a description-tagged kind; tagged rows read through get (search rows hold labels before 25.7.1). */
async function readTagged(client: OpnSenseClient, spec: KindSpec, prefix: string, rows?: DeviceObject[]): Promise<Row[]> {
  const found = rows ?? (await search(client, `${spec.base}/search${spec.noun}`));
  return Promise.all(found.map(async (row) => {
    const uuid = String(row.uuid ?? '');
    if (parseDescr(row.description, prefix).tag === null) return { ...flatten(row), uuid };
    return (await getOne(client, `${spec.base}/get${spec.noun}`, spec.model, uuid)) ?? { ...flatten(row), uuid };
  }));
}

/**
 * The NAT kinds are read only where Meshplane writes them (nat.ts); a key without their
 * privileges still deploys peers without translated LANs (preflight names what is missing
 * when one has them).
 */
async function readNatKind(client: OpnSenseClient, spec: KindSpec, prefix: string, unreadable: Map<string, string>): Promise<Row[]> {
  try {
    if (spec.tagField === 'description') return await readTagged(client, spec, prefix);
    return (await search(client, `${spec.base}/search${spec.noun}`)).map((row) => ({ ...flatten(row), uuid: String(row.uuid ?? '') }));
  } catch (error) {
    if (!(error instanceof DeviceError) || error.code !== 'AUTH_FAILED' || !/privilege/i.test(error.message)) throw error;
    unreadable.set(spec.kind, error.message);
    return [];
  }
}

export async function readOpnSense(client: OpnSenseClient, prefix: string, kinds: readonly string[] = [KIND.rule]): Promise<OpnSenseReading> {
  const [general, serverRows, clientRows, filterRows] = await Promise.all([
    client.get<{ general?: DeviceObject }>('wireguard/general/get'),
    search(client, 'wireguard/server/searchServer'),
    search(client, 'wireguard/client/searchClient'),
    readFilterRows(client),
  ]);
  const servers = (await Promise.all(serverRows.map((row) => getOne(client, 'wireguard/server/getServer', 'server', String(row.uuid ?? ''))))).filter((row): row is Row => row !== null);
  const clients = await Promise.all(clientRows.map(async (row) => {
    const uuid = String(row.uuid ?? '');
    if ('keepalive' in row && 'psk' in row) return { ...flatten(row), uuid };
    return (await getOne(client, 'wireguard/client/getClient', 'client', uuid)) ?? { ...flatten(row), uuid };
  }));
  const membership = new Map(servers.map((server) => [server.uuid as string, (server.peers ?? '').split(',').filter(Boolean)]));

  let marker: OpnSenseReading['marker'] = null;
  for (const row of filterRows) {
    const parsed = parseMarker(row.description, prefix);
    if (parsed !== null && marker === null) marker = { uuid: String(row.uuid), ...parsed };
  }
  const objects = new Map<string, Row[]>();
  const unreadable = new Map<string, string>();
  for (const kind of kinds) {
    const spec = KIND_SPECS[kind];
    if (!spec || kind === KIND.server || kind === KIND.client) continue;
    if (kind !== KIND.rule) {
      objects.set(kind, await readNatKind(client, spec, prefix, unreadable));
      continue;
    }
    const rows = kind === KIND.rule ? filterRows.filter((row) => markerAreas(row.description, prefix) === null) : undefined;
    objects.set(kind, await readTagged(client, spec, prefix, rows));
  }
  return { general: flatten(general.general ?? {}), servers, clients, membership, objects, marker, unreadable };
}
