// Small display helpers shared by several pages.
import type { ConfigStatus, DeviceKind, PeerRole, Role } from './gql/graphql';

export const roleLabels: Record<PeerRole, string> = { HUB: 'Hub', SITE: 'Site', CLIENT: 'Client' };
export const userRoleLabels: Record<Role, string> = { ADMIN: 'Admin', OPERATOR: 'Operator', VIEWER: 'Viewer', SELF_SERVICE: 'Self-service' };
export const deviceKindLabels: Record<DeviceKind, string> = {
  ROUTEROS_API: 'MikroTik (API)',
  ROUTEROS_REST: 'MikroTik (REST)',
  PFSENSE: 'pfSense',
  OPNSENSE: 'OPNsense',
  OPENWRT: 'OpenWrt',
  LINUX: 'Local Linux',
};
export const configStatusLabels: Record<ConfigStatus, string> = { CURRENT: 'Current', STALE: 'Stale', NEVER_DELIVERED: 'Never delivered' };

export function endpointOf(peer: { endpointHost: string | null; endpointPort: number | null }): string | null {
  if (!peer.endpointHost) return null;
  return peer.endpointPort ? hostPort(peer.endpointHost, peer.endpointPort) : peer.endpointHost;
}

/** host:port; an IPv6 literal in brackets (RFC 3986), as wg-quick's Endpoint writes it. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(value: string | null | undefined): string {
  return value ? dateTime.format(new Date(value)) : '—';
}

/** A whole number from a form field: undefined when empty (the server's default applies). */
export function optionalInt(value: string): number | undefined {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : Number(trimmed);
}

export function bytes(decimal: string): string {
  const n = Number(decimal);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** "42 s ago", "5 min ago", "3 h ago", or the date for anything older than a day. */
export function ago(value: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - new Date(value).getTime()) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 24 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return when(value);
}

const pluralRules = new Intl.PluralRules('en');

/** A count with its noun in the right number: "1 peer", "2 peers", "0 operations" (irregular plurals passed as `plural`). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${pluralRules.select(n) === 'one' ? singular : plural}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A peer's expiry in local time: "expires 12 Dec 14:00", or "expired" once it has passed. */
export function expiryText(expiresAt: string, now = Date.now()): string {
  const at = new Date(expiresAt);
  if (at.getTime() <= now) return 'expired';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `expires ${at.getDate()} ${MONTHS[at.getMonth()]} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** A date-time as a datetime-local input holds it (local time, minutes). */
export function localInputValue(value: string | null | undefined): string {
  if (!value) return '';
  const at = new Date(value);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}
