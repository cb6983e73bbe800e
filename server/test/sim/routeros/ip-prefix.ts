// Address and prefix helpers for the menus: RouterOS stores `10.0.0.1/24` on /ip/address
// but derives `network`, appends `/32` when the mask is missing, and refuses overlapping
// AllowedIPs on one WireGuard interface.
import { isIP } from 'node:net';
import { containsCidr, normalizeCidr, overlapCidr } from 'cidr-tools';

export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** `a.b.c.d/len` or an address (taken as a host prefix); undefined when malformed. */
export function parsePrefix(value: string): { address: string; length: number } | undefined {
  const [address = '', length, ...rest] = value.trim().split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (length === undefined) return { address, length: max };
  if (!/^\d{1,3}$/.test(length) || Number(length) > max) return undefined;
  return { address, length: Number(length) };
}

/** `10.0.0.1` → `10.0.0.1/32`, `10.0.0.1/24` stays; undefined when malformed. */
export function withMask(value: string): string | undefined {
  const prefix = parsePrefix(value);
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
