// Address and prefix helpers for the menus: RouterOS stores `10.0.0.1/24` on /ip/address
// but derives `network`, appends `/32` (`/128`) when the mask is missing, prints IPv6 in
// its short form, and refuses overlapping AllowedIPs on one WireGuard interface. An /ip
// menu takes IPv4 values only and an /ipv6 menu IPv6 values only.
import { isIP } from 'node:net';
import { containsCidr, normalizeCidr, overlapCidr } from 'cidr-tools';
import ipaddr from 'ipaddr.js';

/** 4 or 6: which menus a value belongs to (`/ip/...` or `/ipv6/...`). */
export type Family = 4 | 6;

export function isIpAddress(value: string, family?: Family): boolean {
  const found = isIP(value);
  return found !== 0 && (family === undefined || found === family);
}

/** The family of an address or prefix text, or undefined when malformed. */
export function familyOf(value: string): Family | undefined {
  const found = isIP(value.split('/')[0]!.trim());
  return found === 0 ? undefined : (found as Family);
}

/** An address as RouterOS prints it: IPv6 lower case and compressed (RFC 5952). */
export function canonicalIp(address: string): string {
  return isIP(address) === 6 ? ipaddr.parse(address).toString() : address;
}

/** `a.b.c.d/len` or an address (taken as a host prefix); undefined when malformed or of the other family. */
export function parsePrefix(value: string, family?: Family): { address: string; length: number } | undefined {
  const [address = '', length, ...rest] = value.trim().split('/');
  const found = isIP(address);
  if (found === 0 || rest.length > 0 || (family !== undefined && found !== family)) return undefined;
  const max = found === 4 ? 32 : 128;
  const canonical = canonicalIp(address);
  if (length === undefined) return { address: canonical, length: max };
  if (!/^\d{1,3}$/.test(length) || Number(length) > max) return undefined;
  return { address: canonical, length: Number(length) };
}

/** `10.0.0.1` → `10.0.0.1/32`, `10.0.0.1/24` stays, `FD00::1` → `fd00::1/128`; undefined when malformed. */
export function withMask(value: string, family?: Family): string | undefined {
  const prefix = parsePrefix(value, family);
  return prefix && `${prefix.address}/${prefix.length}`;
}

/** Network address of an interface address, as /ip/address prints it (`10.0.0.0`). */
export function networkOf(addressWithMask: string): string {
  return normalizeCidr(addressWithMask).split('/')[0]!;
}

/** Network prefix (host bits cleared): `10.0.0.1/24` → `10.0.0.0/24`. */
export function networkPrefix(addressWithMask: string): string {
  return normalizeCidr(addressWithMask);
}

export function prefixesOverlap(a: string, b: string): boolean {
  if (isIP(a.split('/')[0]!) !== isIP(b.split('/')[0]!)) return false;
  return overlapCidr(a, b);
}

export function prefixContains(prefix: string, address: string): boolean {
  if (isIP(prefix.split('/')[0]!) !== isIP(address.split('/')[0]!)) return false;
  return containsCidr(prefix, address);
}
