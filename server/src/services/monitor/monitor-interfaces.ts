// The rows the monitor reads to know a managed peer's WireGuard interfaces, and their mapping
// to the domain's spec types (only what decides hub redundancy: no keys, LANs or services).
import type { PeerRole, PeerSpec, Topology, WanSpec } from '../../domain/model.js';

export const INTERFACE_WAN_FIELDS = {
  interfaceName: true, hubRedundancy: true, topology: true, listenPort: true, tunnelCidr: true, servicesCidr: true, natPool: true, mtu: true, keepalive: true, name: true,
} as const;
export const INTERFACE_PEER_FIELDS = { id: true, name: true, role: true, tunnelIp: true, publicKey: true, endpointHost: true, endpointPort: true, listenPort: true } as const;

interface InterfaceWanRow {
  interfaceName: string;
  hubRedundancy: boolean;
  topology: string;
  listenPort: number;
  tunnelCidr: string;
  servicesCidr: string;
  natPool: string;
  mtu: number;
  keepalive: number;
  name: string;
}

export interface InterfacePeerRow {
  id: string;
  wanId: string;
  name: string;
  role: string;
  tunnelIp: string;
  publicKey: string;
  endpointHost: string | null;
  endpointPort: number | null;
  listenPort: number | null;
  wan: InterfaceWanRow;
}

export function interfaceWanSpec(wanId: string, wan: InterfaceWanRow): WanSpec {
  return { id: wanId, ...wan, topology: wan.topology as Topology };
}

export function interfacePeerSpec(peer: Omit<InterfacePeerRow, 'wan'>): PeerSpec {
  return {
    id: peer.id, name: peer.name, role: peer.role as PeerRole, tunnelIp: peer.tunnelIp, publicKey: peer.publicKey, privateKey: null,
    endpointHost: peer.endpointHost, endpointPort: peer.endpointPort, listenPort: peer.listenPort, keepalive: null, portForwarded: false, subnets: [], services: [],
  };
}
