// Pure helpers on the compiled model shared by the drivers that write WireGuard settings
// field by field (pfSense, OPNsense): endpoints split into host and port, a dual-stack
// interface's IPv6 tunnel address, and the service addresses beyond the tunnel addresses.
import { tryParseCidr } from '../../domain/ip.js';
import type { CompiledInterface } from '../../domain/compiled.js';

export interface Endpoint {
  host: string;
  port: string;
}

/** "host:port" or "[v6]:port" as the domain renders endpoints. */
export function splitEndpoint(endpoint: string): Endpoint {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(endpoint);
  if (bracketed) return { host: bracketed[1] as string, port: bracketed[2] as string };
  const colon = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, colon), port: endpoint.slice(colon + 1) };
}

/**
 * A dual-stack interface's IPv6 tunnel address ("address/prefix"): the IPv6 entry right
 * after the IPv4 one, never a /128 (a service address). null on an IPv4-only interface.
 */
export function tunnelAddress6(iface: CompiledInterface): string | null {
  const second = iface.addresses[1];
  const range = second === undefined ? null : tryParseCidr(second);
  return range !== null && range.family === 6 && range.prefix < 128 ? (second as string) : null;
}

/** Addresses of the interface beyond its tunnel addresses: the services it publishes (/32, /128). */
export function serviceAddresses(iface: CompiledInterface): string[] {
  return iface.addresses.slice(tunnelAddress6(iface) === null ? 1 : 2);
}

