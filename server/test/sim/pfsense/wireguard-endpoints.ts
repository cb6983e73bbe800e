// /api/v2/vpn/wireguard/* and, from package v2.9.0, /api/v2/status/wireguard/*.
import { addApplyRoute } from './apply-endpoints.js';
import { addRoute, type Routes } from './call.js';
import { addChildCollection, addCollection, matchesQuery, type Collection } from './crud.js';
import { represent, validateObject } from './fields.js';
import type { PfSenseModel } from './model.js';
import type { Obj } from './store.js';
import { allowedIpSpec, peerSpec, scrubAssignedTunnelAddresses, settingsSpec, tunnelAddressSpec, tunnelSpec } from './wireguard-specs.js';

const BASE = '/api/v2/vpn/wireguard';

const tunnels: Collection = {
  spec: tunnelSpec,
  store: (model) => model.tunnels,
  area: 'wireguard',
  beforeUpdate: (input, existing, model) => scrubAssignedTunnelAddresses(input, existing, model),
};

const peers: Collection = {
  spec: peerSpec,
  store: (model) => model.peers,
  area: 'wireguard',
  afterDelete: (_id, peer, model) => model.forgetPeer(peer.publickey),
  beforeReplace: (model) => {
    for (const [, peer] of model.peers.entries()) model.forgetPeer(peer.publickey);
  },
};

function addSettingsRoute(routes: Routes): void {
  const out = (model: PfSenseModel) => represent(settingsSpec, model.wireguardSettings, { id: 0 }, model);
  addRoute(routes, `${BASE}/settings`, {
    GET: (call) => out(call.model),
    PATCH: (call) => {
      const model = call.model;
      const input = Array.isArray(call.data) ? {} : call.data;
      model.wireguardSettings = validateObject(settingsSpec, input, { env: model, siblings: [], selfId: 0, existing: model.wireguardSettings });
      model.markDirty('wireguard');
      if (call.control.apply) call.requestApply('wireguard', false);
      return out(model);
    },
  });
}

function peerStatus(model: PfSenseModel, tunnel: Obj, peer: Obj, index: number, tunnelIndex: number): Obj {
  const publicKey = String(peer.publickey);
  const stats = model.peerStats.get(publicKey);
  const configured = peer.endpoint ? `${String(peer.endpoint)}:${String(peer.port)}` : '(none)';
  return {
    parent_id: tunnelIndex,
    id: index,
    tunnel_device: tunnel.name,
    public_key: publicKey,
    endpoint: stats?.endpoint ?? configured,
    allowed_ips: (peer.allowedips as Obj[]).map((entry) => `${String(entry.address)}/${String(entry.mask)}`),
    latest_handshake: stats?.latestHandshake ?? 0,
    transfer_rx: stats?.rx ?? 0n,
    transfer_tx: stats?.tx ?? 0n,
    persistent_keepalive: peer.persistentkeepalive ? String(peer.persistentkeepalive) : 'off',
    descr: peer.descr,
  };
}

/** What `wg show all dump` would list: the applied config of running tunnels. */
function tunnelStatus(model: PfSenseModel): Obj[] {
  if (!model.wireguardRunning()) return [];
  const running = model.runtime.wireguard.tunnels.filter((tunnel) => tunnel.enabled === true);
  return running.map((tunnel, tunnelIndex) => {
    const peers = model.runtime.wireguard.peers
      .filter((peer) => peer.enabled === true && peer.tun === tunnel.name)
      .map((peer, index) => peerStatus(model, tunnel, peer, index, tunnelIndex));
    const sum = (field: 'transfer_rx' | 'transfer_tx') => peers.reduce((total, peer) => total + (peer[field] as bigint), 0n);
    return {
      id: tunnelIndex,
      name: tunnel.name,
      status: 'up',
      public_key: tunnel.publickey,
      listen_port: tunnel.listenport,
      mtu: tunnel.mtu,
      transfer_rx: sum('transfer_rx'),
      transfer_tx: sum('transfer_tx'),
      inpkts: 0,
      outpkts: 0,
      descr: tunnel.descr,
      peers,
    };
  });
}

/**
 * WireGuardPeerStatus merges the per-tunnel lists with PHP's array union on 0-based
 * arrays, so a later tunnel's peer is dropped when an earlier tunnel has as many peers.
 */
function peerStatusUnion(model: PfSenseModel): Obj[] {
  const merged: Obj[] = [];
  for (const tunnel of tunnelStatus(model)) {
    (tunnel.peers as Obj[]).forEach((peer, index) => {
      if (index >= merged.length) merged.push(peer);
    });
  }
  return merged;
}

export function addWireGuardRoutes(routes: Routes, statusAvailable: boolean): void {
  addCollection(routes, `${BASE}/tunnel`, `${BASE}/tunnels`, tunnels, ['GET', 'PUT', 'DELETE']);
  addChildCollection(routes, `${BASE}/tunnel/address`, `${BASE}/tunnel/addresses`, tunnels, 'addresses', tunnelAddressSpec);
  addCollection(routes, `${BASE}/peer`, `${BASE}/peers`, peers, ['GET', 'PUT', 'DELETE']);
  addChildCollection(routes, `${BASE}/peer/allowed_ip`, `${BASE}/peer/allowed_ips`, peers, 'allowedips', allowedIpSpec);
  addSettingsRoute(routes);
  addApplyRoute(routes, `${BASE}/apply`, 'wireguard');
  if (!statusAvailable) return;
  const query = (data: unknown) => (Array.isArray(data) ? {} : (data as Obj));
  addRoute(routes, '/api/v2/status/wireguard/tunnels', { GET: (call) => tunnelStatus(call.model).filter((item) => matchesQuery(item, query(call.data))) });
  addRoute(routes, '/api/v2/status/wireguard/peers', { GET: (call) => peerStatusUnion(call.model).filter((item) => matchesQuery(item, query(call.data))) });
}
