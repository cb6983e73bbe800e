// Wan.peers' search, filters and order (domain/peer-query.ts), and its cursors.
//
// Every request reads the WAN's peers once (shared with staleness and the overlay view through
// ctx.overlays) plus, only when the request needs them, the WAN's subnets (a search), its view
// (config status) and the names of its devices (order by device): a constant number of SQL
// statements whatever the WAN's size or the page's. Tunnel state and last seen come from the
// monitor's readings in memory.
//
// A cursor is a position (the order's key, tunnel address, id) and a fingerprint of the search,
// filter and order it was issued for: a page after it continues exactly there, and a cursor of
// another search, filter or order is refused (BAD_USER_INPUT on after/before) instead of
// skipping or repeating rows. argument-checks.ts names the list (the WAN) around it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { builder } from '../builder.js';
import { inputError } from '../errors.js';
import { PeerRoleEnum } from './enums.js';
import { ConfigStatusEnum, TunnelStateEnum } from './overlay.js';
import { PAGE_DEFAULT } from '../request-cost.js';
import type { Context } from '../context.js';
import type { Peer as PeerRow, Wan as WanRow } from '../../generated/prisma/client.js';
import { statusOf, type OverlayView } from '../../services/overlay/overlay-view.js';
import { lastSeenOf } from '../../services/monitor/monitor-readings.js';
import {
  DEFAULT_PEER_ORDER, findPeers, positionOf, slicePeers,
  type PeerConfigStatus, type PeerFacts, type PeerFilter, type PeerOrder, type PeerPosition, type PeerRoleName, type PeerTunnelState,
} from '../../domain/peer-query.js';

/** The longest search text: longer than any name (64), host (253 is DNS's, not a search) or address. */
export const MAX_PEER_SEARCH = 100;
/** Devices one filter may name. */
export const MAX_FILTER_DEVICES = 100;

const PeerOrderFieldEnum = builder.enumType('PeerOrderField', {
  values: {
    NAME: { description: 'Natural order ("site-2" before "site-10"), ignoring case.' },
    TUNNEL_STATE: { description: 'UP, DOWN, UNKNOWN (the live status: UNKNOWN when no device reports on the peer).' },
    ROLE: { description: 'HUB, SITE, CLIENT.' },
    TUNNEL_IP: { description: 'Numeric IPv4 tunnel address order.' },
    ENDPOINT: { description: 'host:port text; peers without an endpoint (CGNAT) last.' },
    DEVICE: { description: "The device's name; manual peers last." },
    CONFIG_STATUS: { description: 'STALE, NEVER_DELIVERED, CURRENT.' },
    LAST_SEEN: { description: 'Peer.lastSeen, the latest handshake a device reported (ASC: longest ago first); never seen or not reported last.' },
  } as const,
});

const OrderDirectionEnum = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });

const PeerOrderInput = builder.inputType('PeerOrder', {
  description: 'Ties, and rows without a value (which come last in either direction), are ordered by tunnel address, then id.',
  fields: (t) => ({
    field: t.field({ type: PeerOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, defaultValue: 'ASC' }),
  }),
});

/** An enum list: each value once is at most a handful. */
const fewValues = z.array(z.any()).max(8, 'must have at most 8 values');

const PeerFilterInput = builder.inputType('PeerFilter', {
  description: 'Every criterion given must hold; a list matches any of its values.',
  fields: (t) => ({
    roles: t.field({ type: [PeerRoleEnum], validate: { schema: fewValues } }),
    tunnel: t.field({ type: [TunnelStateEnum], description: 'The live status: UP (a fresh handshake), DOWN (reported, none fresh), UNKNOWN (no device reports on the peer).', validate: { schema: fewValues } }),
    stale: t.boolean({ description: 'true: configStatus is STALE (Peer.stale); false: it is not.' }),
    configStatus: t.field({ type: [ConfigStatusEnum], validate: { schema: fewValues } }),
    enabled: t.boolean(),
    deviceIds: t.idList({ description: `Peers bound to one of these devices (at most ${MAX_FILTER_DEVICES}).`, validate: { schema: z.array(z.any()).max(MAX_FILTER_DEVICES, `must name at most ${MAX_FILTER_DEVICES} devices`) } }),
    manual: t.boolean({ description: 'true: peers bound to no device (besides those of deviceIds, if given); false: only peers bound to one.' }),
    ownerIds: t.idList({ description: `Peers these users added through self-service (at most ${MAX_FILTER_DEVICES}).`, validate: { schema: z.array(z.any()).max(MAX_FILTER_DEVICES, `must name at most ${MAX_FILTER_DEVICES} users`) } }),
    selfService: t.boolean({ description: 'true: peers added through self-service (Peer.owner is set); false: the others.' }),
  }),
});

/** The arguments of Wan.peers besides the relay ones. */
export interface PeerListArgs {
  search?: string | null;
  filter?: {
    roles?: string[] | null; tunnel?: string[] | null; stale?: boolean | null; configStatus?: string[] | null; enabled?: boolean | null;
    deviceIds?: Array<string | number> | null; manual?: boolean | null; ownerIds?: Array<string | number> | null; selfService?: boolean | null;
  } | null;
  orderBy?: { field: string; direction?: string | null } | null;
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

export const PEER_SEARCH_DESCRIPTION = `Case-insensitive, at most ${MAX_PEER_SEARCH} characters: the name (part of it), a tunnel address (its beginning, or the address in any form), the endpoint (part of host:port), a LAN (part of its CIDR, or an address inside it); a CIDR also finds tunnel addresses inside it and LANs overlapping it.`;

export const peerSearchArg = z.string().max(MAX_PEER_SEARCH, `must have at most ${MAX_PEER_SEARCH} characters`);

export { PeerFilterInput, PeerOrderInput };

function normalized(args: PeerListArgs): { search: string | null; filter: PeerFilter; order: PeerOrder } {
  const sorted = <T extends string>(list: ReadonlyArray<string | number> | null | undefined) => (list ? [...new Set(list.map(String))].sort() as T[] : null);
  const f = args.filter ?? {};
  const search = args.search?.trim().toLowerCase() || null;
  return {
    search,
    filter: {
      roles: sorted<PeerRoleName>(f.roles),
      tunnel: sorted<PeerTunnelState>(f.tunnel),
      stale: f.stale ?? null,
      configStatus: sorted<PeerConfigStatus>(f.configStatus),
      enabled: f.enabled ?? null,
      deviceIds: sorted(f.deviceIds),
      manual: f.manual ?? null,
      ownerIds: sorted(f.ownerIds),
      selfService: f.selfService ?? null,
    },
    order: args.orderBy ? { field: args.orderBy.field, direction: args.orderBy.direction ?? 'ASC' } as PeerOrder : DEFAULT_PEER_ORDER,
  };
}

/** What a cursor was issued for: the same search, filter and order give the same fingerprint. */
function fingerprint(query: ReturnType<typeof normalized>): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
}

const CURSOR_VERSION = 1;

export function encodeCursor(print: string, position: PeerPosition): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, print, position.key, position.tunnel, position.id]), 'utf8').toString('base64url');
}

function decodeCursor(name: 'after' | 'before', value: string, print: string): PeerPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const refuse = (message: string) => inputError([{ path: [name], message }]);
  if (!Array.isArray(parsed) || parsed.length !== 5 || parsed[0] !== CURSOR_VERSION) throw refuse('is not a cursor of this list (pass an edge cursor or pageInfo.endCursor/startCursor unchanged)');
  const [, issuedFor, key, tunnel, id] = parsed as unknown[];
  if (issuedFor !== print) throw refuse('was issued for another search, filter or order: start again from the first page without it');
  const keyOk = key === null || (typeof key === 'string' && key.length <= 300) || (typeof key === 'number' && Number.isFinite(key));
  if (!keyOk || typeof tunnel !== 'string' || !/^\d{1,40}$/.test(tunnel) || typeof id !== 'string' || id.length > 128) throw refuse('is not a cursor of this list (pass an edge cursor or pageInfo.endCursor/startCursor unchanged)');
  return { key, tunnel, id };
}

export interface PeerPage {
  edges: Array<{ cursor: string; node: PeerRow }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

/** What the request needs read besides the peers: each read at most once per WAN and request. */
export interface PeerListNeeds {
  /** The nodes ask for a field of the view (configStatus, stale, …). */
  viewForNodes: boolean;
  /** The nodes ask for their subnets. */
  subnetsForNodes: boolean;
}

/** The columns searching, filtering and ordering read (PeerFacts), and config status's delivered hash. */
const FACT_COLUMNS = {
  id: true, name: true, role: true, tunnelIp: true, tunnelIp6: true, endpointHost: true, endpointPort: true,
  enabled: true, deviceId: true, ownerId: true, deliveredHash: true,
} as const;
type FactRow = Pick<PeerRow, keyof typeof FACT_COLUMNS>;

/**
 * Pages up to this size (the web UI's table asks for 25) read only FACT_COLUMNS of every peer
 * and then the page's peers whole: at 10,000 peers the whole rows (keys, drift, delivery
 * columns) cost ~10x the fact columns. Larger pages read every peer whole once, shared with
 * the request's other readers of ctx.overlays.peers.
 */
const NARROW_READ_MAX_PAGE = 100;

export async function peerPage(wan: Pick<WanRow, 'id'>, args: PeerListArgs, ctx: Context, needs: PeerListNeeds): Promise<PeerPage> {
  const query = normalized(args);
  const print = fingerprint(query);
  const after = args.after ? decodeCursor('after', args.after, print) : null;
  const before = args.before ? decodeCursor('before', args.before, print) : null;
  const { filter, order } = query;
  const statusNeeded = filter.stale !== null || filter.configStatus !== null || order.field === 'CONFIG_STATUS';
  const narrow = (args.first ?? args.last ?? PAGE_DEFAULT) <= NARROW_READ_MAX_PAGE;
  const [rows, view, subnets, devices] = await Promise.all([
    narrow ? ctx.prisma.peer.findMany({ where: { wanId: wan.id }, select: FACT_COLUMNS, orderBy: { tunnelIp: 'asc' } }) as Promise<FactRow[]> : ctx.overlays.peers(wan.id),
    // A view that fails to load fails the fields that read it, as before, not the list; unless
    // the list itself is cut by config status.
    statusNeeded ? ctx.overlays.view(wan.id) : needs.viewForNodes ? ctx.overlays.view(wan.id).catch(() => undefined) : undefined,
    query.search || needs.subnetsForNodes ? ctx.overlays.subnets(wan.id) : undefined,
    order.field === 'DEVICE' ? ctx.prisma.device.findMany({ where: { peers: { some: { wanId: wan.id } } }, select: { id: true, name: true } }) : undefined,
  ]);
  const lans = new Map<string, string[]>();
  if (query.search) {
    for (const subnet of subnets ?? []) {
      const list = lans.get(subnet.peerId) ?? [];
      list.push(subnet.cidr, ...(subnet.natCidr ? [subnet.natCidr] : []));
      lans.set(subnet.peerId, list);
    }
  }
  const deviceNames = new Map((devices ?? []).map((device) => [device.id, device.name]));
  const facts = rows.map((row) => factsOf(row, ctx, { view: statusNeeded ? view : undefined, lans: lans.get(row.id) ?? [], deviceNames }));
  const sorted = findPeers(facts, { search: query.search, filter, order });
  const slice = slicePeers(sorted, order, { first: args.first, last: args.last, after, before }, PAGE_DEFAULT);
  // The page's peers whole (a peer deleted since the facts were read is left out).
  const whole = narrow ? await ctx.prisma.peer.findMany({ where: { id: { in: slice.rows.map((fact) => fact.id) } } }) : rows as PeerRow[];
  const byId = new Map(whole.map((row) => [row.id, row]));
  slice.rows = slice.rows.filter((fact) => byId.has(fact.id));
  const edges = slice.rows.map((fact) => ({ cursor: encodeCursor(print, positionOf(fact, order.field)), node: byId.get(fact.id)! }));
  return {
    edges,
    pageInfo: { hasNextPage: slice.hasNextPage, hasPreviousPage: slice.hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: sorted.length,
  };
}

function factsOf(row: FactRow, ctx: Context, with_: { view: OverlayView | undefined; lans: string[]; deviceNames: Map<string, string> }): PeerFacts {
  // The live status the table shows (LiveStatus.svelte): a report with a fresh handshake, a
  // report without one, or no report at all.
  const status = ctx.services.monitor.status(row.id);
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    tunnelIp: row.tunnelIp,
    tunnelIp6: row.tunnelIp6,
    endpointHost: row.endpointHost,
    endpointPort: row.endpointPort,
    enabled: row.enabled,
    deviceId: row.deviceId,
    deviceName: row.deviceId ? with_.deviceNames.get(row.deviceId) ?? null : null,
    lans: with_.lans,
    tunnelState: status ? (status.online ? 'UP' : 'DOWN') : 'UNKNOWN',
    // Only read when the request filters or orders by it (the view is then loaded).
    configStatus: with_.view ? statusOf(with_.view.hashOf(row.id), row.deliveredHash) : 'NEVER_DELIVERED',
    // Peer.lastSeen's own value.
    lastSeen: lastSeenOf(status)?.getTime() ?? null,
    ownerId: row.ownerId,
  };
}
