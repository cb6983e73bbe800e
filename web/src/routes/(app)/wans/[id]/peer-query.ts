// The peer table's search, filters, order and page, kept in the page's URL query so a reload,
// a shared link and the back button show the same table: ?q=…&role=…&tunnel=…&stale=1&enabled=no
// &device=<id>|manual&self=1&sort=name&dir=desc&after=<cursor> (or before=<cursor>).
import type { PeerFilter, PeerOrderField, PeerRole, PeerTableQueryVariables, TunnelState } from '$lib/gql/graphql';

export const PAGE_SIZE = 25;

export const ROLES = ['HUB', 'SITE', 'CLIENT'] as const satisfies readonly PeerRole[];
export const TUNNEL_STATES = ['UP', 'DOWN', 'UNKNOWN'] as const satisfies readonly TunnelState[];
export const SORT_FIELDS = ['NAME', 'TUNNEL_STATE', 'ROLE', 'TUNNEL_IP', 'ENDPOINT', 'DEVICE', 'CONFIG_STATUS', 'LAST_SEEN'] as const satisfies readonly PeerOrderField[];
/** The server's order when none is asked. */
export const DEFAULT_SORT: PeerOrderField = 'TUNNEL_IP';

export interface PeerQuery {
  q: string;
  role: PeerRole | null;
  tunnel: TunnelState | null;
  stale: boolean;
  /** Only disabled peers. */
  disabled: boolean;
  /** A device id, 'manual' (no device) or null (any). */
  device: string | null;
  /** Only devices users added through self-service. */
  selfService: boolean;
  sort: PeerOrderField;
  desc: boolean;
  after: string | null;
  before: string | null;
}

/** A value of `allowed` named in the URL (any case), or null for a missing or hand-edited one. */
function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | null {
  return allowed.find((candidate) => candidate === value?.toUpperCase()) ?? null;
}

export function readPeerQuery(params: URLSearchParams): PeerQuery {
  return {
    q: (params.get('q') ?? '').slice(0, 100),
    role: oneOf(params.get('role'), ROLES),
    tunnel: oneOf(params.get('tunnel'), TUNNEL_STATES),
    stale: params.get('stale') === '1',
    disabled: params.get('enabled') === 'no',
    device: params.get('device') || null,
    selfService: params.get('self') === '1',
    sort: oneOf(params.get('sort'), SORT_FIELDS) ?? DEFAULT_SORT,
    desc: params.get('dir') === 'desc',
    after: params.get('after') || null,
    before: params.get('after') ? null : params.get('before') || null,
  };
}

/** The URL query of `query`, leaving out what is the default (a clean link for the plain table). */
export function writePeerQuery(query: PeerQuery): string {
  const params = new URLSearchParams();
  if (query.q.trim()) params.set('q', query.q.trim());
  if (query.role) params.set('role', query.role.toLowerCase());
  if (query.tunnel) params.set('tunnel', query.tunnel.toLowerCase());
  if (query.stale) params.set('stale', '1');
  if (query.disabled) params.set('enabled', 'no');
  if (query.device) params.set('device', query.device);
  if (query.selfService) params.set('self', '1');
  if (query.sort !== DEFAULT_SORT || query.desc) params.set('sort', query.sort.toLowerCase());
  if (query.desc) params.set('dir', 'desc');
  if (query.after) params.set('after', query.after);
  else if (query.before) params.set('before', query.before);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Whether anything narrows the list (what "Clear filters" clears). */
export function isFiltered(query: PeerQuery): boolean {
  return !!query.q.trim() || !!query.role || !!query.tunnel || query.stale || query.disabled || !!query.device || query.selfService;
}

export function cleared(query: PeerQuery): PeerQuery {
  return { ...query, q: '', role: null, tunnel: null, stale: false, disabled: false, device: null, selfService: false, after: null, before: null };
}

export function peerTableVariables(wanId: string, query: PeerQuery): PeerTableQueryVariables {
  const filter: PeerFilter = {};
  if (query.role) filter.roles = [query.role];
  if (query.tunnel) filter.tunnel = [query.tunnel];
  if (query.stale) filter.stale = true;
  if (query.disabled) filter.enabled = false;
  if (query.device === 'manual') filter.manual = true;
  else if (query.device) filter.deviceIds = [query.device];
  if (query.selfService) filter.selfService = true;
  return {
    id: wanId,
    ...(query.q.trim() ? { search: query.q.trim() } : {}),
    ...(Object.keys(filter).length ? { filter } : {}),
    orderBy: { field: query.sort, direction: query.desc ? 'DESC' : 'ASC' },
    ...(query.before ? { last: PAGE_SIZE, before: query.before } : { first: PAGE_SIZE, ...(query.after ? { after: query.after } : {}) }),
  };
}

/** What the list is narrowed to, in words: "“lyon”, hubs, stale". */
export function describeFilters(query: PeerQuery, deviceName: (id: string) => string | undefined): string {
  const parts: string[] = [];
  if (query.q.trim()) parts.push(`“${query.q.trim()}”`);
  if (query.role) parts.push({ HUB: 'hubs', SITE: 'sites', CLIENT: 'clients' }[query.role]);
  if (query.tunnel) parts.push(`tunnel ${{ UP: 'up', DOWN: 'down', UNKNOWN: 'not reported' }[query.tunnel]}`);
  if (query.stale) parts.push('stale');
  if (query.disabled) parts.push('disabled');
  if (query.device) parts.push(query.device === 'manual' ? 'no device' : `on ${deviceName(query.device) ?? 'a device'}`);
  if (query.selfService) parts.push('self-service');
  return parts.join(', ');
}
