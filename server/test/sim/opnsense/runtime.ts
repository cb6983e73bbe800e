// What `wireguard/service/reconfigure` does to the running devices (/work/shared/ref/opnsense.md
// §2.5, wg-service-control.php) and what `service/show` reports (§2.7, wg_show.py): the raw
// `wg show all dump` text first (private key and PSK included, as the real tool prints them),
// then decorated with the keys dropped.
import { createHash, randomInt } from 'node:crypto';
import { contains, formatCidr, tryParseCidr } from '../../../src/domain/ip.js';
import { publicKeyFromPrivate } from '../../../src/domain/keys.js';
import { renderWgAllDump, type WgDumpInterface } from '../shared/wg-dump-text.js';
import type { OpnSenseFaults } from './faults.js';
import { updateRouteCut } from './management.js';
import { splitList, type Fields, type OpnSenseModel, type RunningInstance, type RunningPeer } from './model.js';

/** The wgN.conf template: what syncconf loads; the comments make address/mtu changes visible. */
function renderConf(server: Fields, peers: RunningPeer[]): string {
  const lines = [`# Address = ${server.tunneladdress ?? ''}`, `# MTU = ${server.mtu ?? ''}`, '[Interface]', `PrivateKey = ${server.privkey ?? ''}`];
  if (server.port) lines.push(`ListenPort = ${server.port}`);
  for (const peer of peers) {
    lines.push('[Peer]', `PublicKey = ${peer.pubkey}`);
    if (peer.psk) lines.push(`PresharedKey = ${peer.psk}`);
    if (peer.endpoint) lines.push(`Endpoint = ${peer.endpoint}`);
    lines.push(`AllowedIPs = ${peer.allowedIps.join(',')}`);
    if (peer.keepalive) lines.push(`PersistentKeepalive = ${peer.keepalive}`);
  }
  return lines.join('\n');
}

const masked = (cidr: string) => {
  const range = tryParseCidr(cidr);
  return range ? formatCidr(range) : cidr;
};

/** Enabled peers attached to the instance, as the template writes them. */
function peersOf(model: OpnSenseModel, server: Fields): RunningPeer[] {
  return splitList(server.peers ?? '').flatMap((uuid) => {
    const client = model.config.clients.get(uuid);
    if (!client || client.enabled !== '1') return [];
    const host = client.serveraddress ?? '';
    const endpoint = host === '' ? null : `${host.includes(':') ? `[${host}]` : host}:${client.serverport || '51820'}`;
    return [{ uuid, name: client.name ?? '', pubkey: client.pubkey ?? '', psk: client.psk ?? '', allowedIps: splitList(client.tunneladdress ?? '').map(masked), endpoint, keepalive: client.keepalive ?? '' }];
  });
}

/** `route add … -interface wgN` per allowed IP, skipping the instance's own subnets; /0 → two /1. */
function routesOf(server: Fields, peers: RunningPeer[]): string[] {
  if (server.disableroutes === '1') return server.gateway ? [`${server.gateway}/${server.gateway.includes(':') ? 128 : 32}`] : [];
  const own = splitList(server.tunneladdress ?? '').map((address) => tryParseCidr(masked(address))).filter((range) => range !== null);
  const routes: string[] = [];
  for (const cidr of peers.flatMap((peer) => peer.allowedIps)) {
    const range = tryParseCidr(cidr);
    if (!range || own.some((subnet) => contains(subnet, range))) continue;
    if (cidr === '0.0.0.0/0') routes.push('0.0.0.0/1', '128.0.0.0/1');
    else if (cidr === '::/0') routes.push('::/1', '8000::/1');
    else routes.push(cidr);
  }
  return [...new Set(routes)];
}

function derivedPublicKey(privkey: string): string {
  try {
    return publicKeyFromPrivate(privkey);
  } catch {
    return '';
  }
}

/** Drops the stats of peers a device no longer has (syncconf removes them; a re-added peer starts at zero). */
function forgetRemovedPeers(model: OpnSenseModel, ifname: string, before: RunningPeer[], after: RunningPeer[]): void {
  const kept = new Set(after.map((peer) => peer.pubkey));
  for (const peer of before) if (!kept.has(peer.pubkey)) model.peerStats.delete(`${ifname}|${peer.pubkey}`);
}

export function reconfigure(model: OpnSenseModel, faults: OpnSenseFaults): void {
  const wanted = model.config.general.enabled === '1'
    ? [...model.config.servers.entries()].filter(([, server]) => server.enabled === '1')
    : [];
  if (model.config.general.enabled !== '1' && !faults.generalDisabledTearsDown) return;
  const next = new Map<string, RunningInstance>();
  for (const [uuid, server] of wanted) {
    const ifname = `wg${server.instance ?? ''}`;
    const existing = model.running.wg.get(ifname);
    const peers = peersOf(model, server);
    const confHash = createHash('sha256').update(renderConf(server, peers)).digest('hex');
    let privkey = server.privkey ?? '';
    let port = server.port || existing?.port || String(randomInt(49152, 65535));
    if (faults.listenPortBug_26_7_3 && existing && server.port && existing.port !== server.port) {
      privkey = '';
      port = String(randomInt(49152, 65535));
    }
    const addresses = splitList(server.tunneladdress ?? '');
    const routes = routesOf(server, peers);
    // wg_reconfigure_hash() is random with disableroutes=0: every reconfigure flushes; with
    // disableroutes=1 only an address/mtu/gateway change does. Peers go through syncconf.
    const addressChanged = existing !== undefined && (existing.addresses.join(',') !== addresses.join(',') || existing.mtu !== (server.mtu ?? ''));
    const flushes = (existing?.flushes ?? 0) + (existing && ((server.disableroutes !== '1' && faults.reconfigureFlushesAddresses) || addressChanged) ? 1 : 0);
    if (existing) forgetRemovedPeers(model, ifname, existing.peers, peers);
    next.set(ifname, {
      uuid, name: server.name ?? '', ifname, privkey, pubkey: derivedPublicKey(privkey), port, mtu: server.mtu ?? '', addresses, peers, routes, flushes, confHash,
    });
  }
  for (const [ifname, instance] of model.running.wg) if (!next.has(ifname)) forgetRemovedPeers(model, ifname, instance.peers, []);
  model.running.wg = next;
  updateRouteCut(model);
}

/** `wg show all dump` as the firewall would print it (keys included). */
export function wgShowAllDump(model: OpnSenseModel): string {
  const interfaces: WgDumpInterface[] = [...model.running.wg.values()].map((instance) => ({
    ifname: instance.ifname,
    privateKey: instance.privkey || null,
    publicKey: instance.pubkey || null,
    port: Number(instance.port),
    fwmark: null,
    peers: instance.peers.map((peer) => {
      const stats = model.statsOf(instance.ifname, peer.pubkey);
      return {
        publicKey: peer.pubkey,
        psk: peer.psk || null,
        endpoint: stats?.endpoint ?? peer.endpoint,
        allowedIps: peer.allowedIps,
        latestHandshake: stats?.latestHandshake ?? 0,
        rx: stats?.rx ?? 0n,
        tx: stats?.tx ?? 0n,
        keepalive: peer.keepalive ? Number(peer.keepalive) : null,
      };
    }),
  }));
  return renderWgAllDump(interfaces);
}

const pad = (n: number) => String(n).padStart(2, '0');
/** date('Y-m-d H:i:s') on a firewall whose clock runs in UTC. */
function localTime(epoch: number): string {
  const d = new Date(epoch * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export type ShowRow = Record<string, string | number | bigint | null>;

/**
 * wg_show.py over the dump text: one row per interface and peer, private and preshared keys left
 * out; then ServiceController::showAction's names (24.1.4+: peer by interface + key), and on
 * 25.1.2+ the handshake age/epoch and peer-status.
 */
export function showRows(model: OpnSenseModel, dump: string): ShowRow[] {
  const now = Math.floor(model.clock());
  const instanceName = new Map([...model.config.servers.values()].map((server) => [`wg${server.instance ?? ''}`, server.name ?? '']));
  const peerName = (ifname: string, pubkey: string): string => {
    const byInterface = model.features.showNamesByInterface;
    for (const server of model.config.servers.values()) {
      if (byInterface && `wg${server.instance ?? ''}` !== ifname) continue;
      for (const uuid of splitList(server.peers ?? '')) {
        const client = model.config.clients.get(uuid);
        if (client?.pubkey === pubkey) return client.name ?? '';
      }
    }
    return '';
  };
  const rows: ShowRow[] = [];
  for (const line of dump.split('\n').filter((text) => text !== '')) {
    const cells = line.split('\t');
    let row: ShowRow;
    if (cells.length === 5) {
      // interface line: if, private-key (dropped), public-key, listen-port, fwmark
      const [ifname = '', , publicKey = '', listenPort = '', fwmark = ''] = cells;
      row = { if: ifname, type: 'interface', 'public-key': publicKey, 'listen-port': listenPort, fwmark, endpoint: listenPort, status: 'up', name: instanceName.get(ifname) ?? '' };
      if (model.features.showAge) Object.assign(row, { 'latest-handshake-age': null, 'latest-handshake-epoch': null, 'peer-status': 'offline' });
    } else {
      // peer line: if, public-key, preshared-key (dropped), endpoint, allowed-ips, handshake, rx, tx, keepalive
      const [ifname = '', publicKey = '', , endpoint = '', allowed = '', handshake = '0', rx = '0', tx = '0', keepalive = 'off'] = cells;
      const latest = Number(handshake);
      row = {
        if: ifname, type: 'peer', 'public-key': publicKey, endpoint, 'allowed-ips': allowed, 'latest-handshake': latest,
        'transfer-rx': BigInt(rx), 'transfer-tx': BigInt(tx), 'persistent-keepalive': keepalive, name: peerName(ifname, publicKey),
      };
      if (model.features.showAge) {
        const age = latest > 0 ? Math.max(0, now - latest) : null;
        Object.assign(row, {
          'latest-handshake-age': age,
          'latest-handshake-epoch': latest > 0 ? localTime(latest) : null,
          'peer-status': age === null ? 'offline' : age <= 300 ? 'online' : 'stale',
        });
      }
    }
    row.ifname = instanceName.get(String(row.if)) ?? '';
    rows.push(row);
  }
  return rows;
}
