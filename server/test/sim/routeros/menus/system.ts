// `/user`, `/ip/service`, `/system/resource` and `/system/identity`
// (routeros.md §3.9–3.12). Passwords are write-only; services are a fixed set that can
// only be `set`; resource is a read-only singleton that reports the emulated version.
import type { Row } from '../query.js';
import { traps } from '../trap.js';
import { formatDuration } from '../values.js';
import { atLeast, versionDisplay } from '../version.js';
import { comment, disabled, integer, oneOf, prefixList, text } from './properties.js';
import type { Item, MenuContext, MenuSpec } from './types.js';

export const USER = '/user';
export const IP_SERVICE = '/ip/service';
export const SYSTEM_RESOURCE = '/system/resource';
export const SYSTEM_IDENTITY = '/system/identity';

/** Runtime of a `/user` row. */
export interface UserRuntime {
  /** Model-clock milliseconds of the last binary-API login (REST does not update it, §3.9). */
  lastLoggedIn?: number;
}

/** RouterOS ≥ 7.10 prints dates as `YYYY-MM-DD HH:MM:SS`. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export const users: MenuSpec = {
  path: USER,
  kind: 'table',
  nameKey: 'name',
  required: ['name', 'group'],
  properties: {
    name: text(),
    group: oneOf(['full', 'read', 'write']),
    password: text({ writeOnly: true }),
    address: prefixList(),
    comment: comment(),
    disabled: disabled(),
  },
  defaults: () => ({ address: '', disabled: 'false', password: '' }),
  check(props, self, ctx) {
    if (ctx.items(USER).some((u) => u !== self && u.props.name === props.name)) throw traps.nameExists();
  },
  render(item: Item): Row {
    const p = item.props;
    const runtime = item.runtime as UserRuntime;
    return {
      name: p.name!,
      group: p.group!,
      address: p.address ?? '',
      ...(runtime.lastLoggedIn !== undefined ? { 'last-logged-in': formatDateTime(runtime.lastLoggedIn) } : {}),
      ...(p.comment ? { comment: p.comment } : {}),
      expired: 'false',
      disabled: p.disabled ?? 'false',
    };
  },
};

export const SERVICE_NAMES = ['telnet', 'ftp', 'www', 'ssh', 'www-ssl', 'api', 'winbox', 'api-ssl'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const ipServices: MenuSpec = {
  path: IP_SERVICE,
  kind: 'fixed',
  // `*0` is a real id here: telnet comes first (routeros.md §3.1).
  firstId: 0,
  nameKey: 'name',
  properties: {
    port: integer(1, 65535),
    address: prefixList(),
    certificate: text(),
    'tls-version': oneOf(['any', 'only-1.2']),
    disabled: disabled(),
    vrf: oneOf(['main']),
    'max-sessions': integer(1, 1000, { since: '7.17' }),
  },
  render(item: Item, ctx: MenuContext): Row {
    const p = item.props;
    const tls = p.name === 'www-ssl' || p.name === 'api-ssl';
    return {
      name: p.name!,
      port: p.port!,
      address: p.address ?? '',
      ...(tls ? { certificate: p.certificate ?? 'none', 'tls-version': p['tls-version'] ?? 'any' } : {}),
      disabled: p.disabled ?? 'false',
      dynamic: 'false',
      invalid: 'false',
      ...(atLeast(ctx.version, '7.17') ? { 'max-sessions': p['max-sessions'] ?? '20' } : {}),
      proto: 'tcp',
      vrf: p.vrf ?? 'main',
    };
  },
};

export const systemResource: MenuSpec = {
  path: SYSTEM_RESOURCE,
  kind: 'singleton',
  readOnly: true,
  properties: {},
  render(_item: Item, ctx: MenuContext): Row {
    // Shape of a real 7.23.7 CHR reply (routeros.md §7.3); the version follows the knob.
    return {
      uptime: formatDuration((ctx.now() - ctx.bootedAt) / 1000),
      version: versionDisplay(ctx.version),
      'build-time': '2025-01-16 08:20:15',
      'factory-software': '7.1',
      'free-memory': '314195968',
      'total-memory': '536870912',
      cpu: 'QEMU',
      'cpu-count': '2',
      'cpu-frequency': '2496',
      'cpu-load': '1',
      'free-hdd-space': '72495104',
      'total-hdd-space': '93564928',
      'write-sect-since-reboot': '3328',
      'write-sect-total': '3328',
      'architecture-name': 'x86_64',
      'board-name': 'CHR (Meshplane simulator)',
      platform: 'MikroTik',
    };
  },
};

export const systemIdentity: MenuSpec = {
  path: SYSTEM_IDENTITY,
  kind: 'singleton',
  properties: { name: text() },
  render: (item: Item): Row => ({ name: item.props.name ?? 'MikroTik' }),
};
