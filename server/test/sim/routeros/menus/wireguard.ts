// `/interface/wireguard` and `/interface/wireguard/peers` (routeros.md §3.4–3.5), with
// the fields RouterOS derives: the public key, `running`, and per-peer statistics that
// tests drive through the model (`setHandshake`).
import { prefixesOverlap } from '../ip-prefix.js';
import type { Row } from '../query.js';
import { traps } from '../trap.js';
import { formatDuration } from '../values.js';
import { atLeast } from '../version.js';
import { publicKeyOf, randomPrivateKey } from '../wireguard-keys.js';
import {
  bool,
  comment,
  disabled,
  duration,
  firstFreeName,
  host,
  integer,
  interfaceName,
  oneOf,
  prefixList,
  text,
  wireguardKey,
} from './properties.js';
import type { Item, MenuContext, MenuSpec } from './types.js';

export const WIREGUARD = '/interface/wireguard';
export const WIREGUARD_PEERS = '/interface/wireguard/peers';

/** Peer runtime state kept in `Item.runtime`. */
export interface PeerRuntime {
  rx: bigint;
  tx: bigint;
  /** Model-clock milliseconds of the last handshake; undefined = never. */
  handshakeAt?: number;
  currentEndpointAddress?: string;
  currentEndpointPort?: number;
}

function wireguardNames(ctx: MenuContext): string[] {
  return ctx.items(WIREGUARD).map((i) => i.props.name!);
}

export const wireguardInterfaces: MenuSpec = {
  path: WIREGUARD,
  kind: 'table',
  nameKey: 'name',
  properties: {
    name: text(),
    'listen-port': integer(1, 65535),
    mtu: integer(0, 65536),
    'private-key': wireguardKey({ sensitive: true }),
    comment: comment(),
    disabled: disabled(),
    vrf: oneOf(['main'], { since: '7.21' }),
  },
  defaults(props, ctx) {
    return {
      name: firstFreeName(ctx.interfaceNames(), 'wireguard'),
      'listen-port': '13231',
      mtu: '1420',
      'private-key': props['private-key'] ?? randomPrivateKey(),
      disabled: 'false',
    };
  },
  check(props, self, ctx) {
    const clash = ctx.interfaceNames().some((name) => name === props.name && name !== self?.props.name);
    if (clash) throw traps.interfaceExists();
  },
  afterRemove(item, ctx) {
    // Peers cannot outlive their interface.
    ctx.removeWhere(WIREGUARD_PEERS, (peer) => peer.props.interface === item.props.name);
  },
  render(item: Item): Row {
    const p = item.props;
    return {
      'listen-port': p['listen-port']!,
      mtu: p.mtu!,
      name: p.name!,
      'private-key': p['private-key']!,
      'public-key': publicKeyOf(p['private-key']!),
      running: p.disabled === 'true' ? 'false' : 'true',
      disabled: p.disabled!,
      ...(p.comment ? { comment: p.comment } : {}),
      ...(p.vrf ? { vrf: p.vrf } : {}),
    };
  },
};

export const wireguardPeers: MenuSpec = {
  path: WIREGUARD_PEERS,
  kind: 'table',
  nameKey: 'name',
  required: ['interface', 'public-key', 'allowed-address'],
  properties: {
    interface: interfaceName({ among: wireguardNames }),
    'public-key': wireguardKey(),
    'allowed-address': prefixList({ allowEmpty: false }),
    'endpoint-address': host(),
    'endpoint-port': integer(0, 65535),
    'persistent-keepalive': duration(65535),
    'preshared-key': wireguardKey({ sensitive: true, keywords: ['none'], autoGenerates: true }),
    comment: comment(),
    disabled: disabled(),
    'private-key': wireguardKey({ sensitive: true, keywords: ['none'], autoGenerates: true, since: '7.12' }),
    'client-address': prefixList({ since: '7.12' }),
    'client-dns': text({ since: '7.12' }),
    'client-endpoint': text({ since: '7.12' }),
    'client-keepalive': duration(65535, { since: '7.12' }),
    'client-listen-port': integer(0, 65535, { since: '7.12' }),
    name: text({ since: '7.15' }),
    'is-responder': bool({ since: '7.15', until: '7.17' }),
    responder: bool({ since: '7.17' }),
    'client-allowed-address': prefixList({ since: '7.21' }),
  },
  defaults(props, ctx) {
    const defaults: Record<string, string> = { 'endpoint-address': '', 'endpoint-port': '0', disabled: 'false' };
    if (atLeast(ctx.version, '7.15')) {
      defaults.name = firstFreeName(ctx.items(WIREGUARD_PEERS).map((p) => p.props.name), 'peer');
    }
    return defaults;
  },
  check(props, self, ctx) {
    const siblings = ctx
      .items(WIREGUARD_PEERS)
      .filter((peer) => peer !== self && peer.props.interface === props.interface);
    // Texts unverified (routeros.md §9): no capture of these traps was found.
    if (siblings.some((peer) => peer.props['public-key'] === props['public-key'])) {
      throw traps.conflict('peer with such public key already exists');
    }
    const mine = (props['allowed-address'] ?? '').split(',').filter(Boolean);
    for (const peer of siblings) {
      for (const theirs of (peer.props['allowed-address'] ?? '').split(',').filter(Boolean)) {
        if (mine.some((prefix) => prefixesOverlap(prefix, theirs))) {
          throw traps.conflict(`allowed-address ${theirs} overlaps with another peer on this interface`);
        }
      }
    }
  },
  render(item: Item, ctx: MenuContext): Row {
    const p = item.props;
    const runtime = item.runtime as Partial<PeerRuntime>;
    const row: Record<string, string> = {
      interface: p.interface!,
      ...(p.name !== undefined ? { name: p.name } : {}),
      'public-key': p['public-key']!,
      'endpoint-address': p['endpoint-address'] ?? '',
      'endpoint-port': p['endpoint-port'] ?? '0',
      'allowed-address': p['allowed-address']!,
    };
    for (const key of Object.keys(wireguardPeers.properties)) {
      if (!(key in row) && p[key] !== undefined && p[key] !== '' && key !== 'comment') row[key] = p[key];
    }
    if (p.comment) row.comment = p.comment;
    row.disabled = p.disabled ?? 'false';
    row.dynamic = 'false';
    row.rx = String(runtime.rx ?? 0);
    row.tx = String(runtime.tx ?? 0);
    if (runtime.handshakeAt !== undefined) {
      row['last-handshake'] = formatDuration((ctx.now() - runtime.handshakeAt) / 1000);
    }
    // Before any contact RouterOS probably prints "" and "0" (routeros.md §3.5, unverified).
    row['current-endpoint-address'] = runtime.currentEndpointAddress ?? '';
    row['current-endpoint-port'] = String(runtime.currentEndpointPort ?? 0);
    return row;
  },
};
