// Value validators the WireGuard and network models share.
import { isIP } from 'node:net';
import { x25519 } from '@noble/curves/ed25519.js';
import { familyOf, tryParseAddress, tryParseCidr, type IpFamily } from '../../../src/domain/ip.js';
import { invalid } from './fields.js';

/** wg_is_valid_key(): 32 bytes of base64 (the 43rd digit carries 4 bits). */
export const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/;

export function isIp(value: string): boolean {
  return isIP(value) !== 0;
}

export function isFqdn(value: string): boolean {
  return value.length <= 253 && /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value);
}

/** The family of an address (no prefix), or null. */
export function addressFamily(text: string): IpFamily | null {
  const position = tryParseAddress(text);
  return position === null ? null : familyOf(position);
}

/** The family of a subnet "address/prefix", or null (what pfSense labels is_subnetv4 / is_subnetv6). */
export function subnetFamily(text: string): IpFamily | null {
  return tryParseCidr(text)?.family ?? null;
}

/** IPAddressValidator: both families unless `family` narrows it (allow_ipv4 / allow_ipv6), FQDN when allowed. */
export function requireIp(name: string, value: unknown, allowFqdn = false, family?: IpFamily): void {
  const text = String(value);
  const found = addressFamily(text);
  if ((found !== null && (family === undefined || found === family)) || (allowFqdn && isFqdn(text))) return;
  const families = family === undefined ? 'IPv4 address, IPv6 address' : `IPv${family} address`;
  const kinds = allowFqdn ? `${families} or FQDN` : families;
  throw invalid('IP_ADDRESS_VALIDATOR_FAILED', `Field '${name}' must be a valid ${kinds}, received '${text}'.`);
}

export function requirePort(name: string, value: unknown): void {
  const text = String(value);
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) throw invalid('PORT_FIELD_INVALID', `Field '${name}' must be a valid port. Received '${text}'.`);
}

export function requireCidr(name: string, value: unknown): void {
  const [address, prefix, extra] = String(value).split('/');
  const bits = address !== undefined && isIP(address) === 6 ? 128 : 32;
  if (extra !== undefined || address === undefined || !isIp(address) || prefix === undefined || !/^\d+$/.test(prefix) || Number(prefix) > bits) {
    throw invalid('SUBNET_VALIDATOR_FAILED', `Field '${name}' must be a valid subnet CIDR. Received '${String(value)}'.`);
  }
}

/** Stores the key clamped, as `wg` does, and derives its public key. */
export function clampedKeyPair(privateKey: string): { privateKey: string; publicKey: string } {
  const bytes = new Uint8Array(Buffer.from(privateKey, 'base64'));
  bytes[0] = (bytes[0] as number) & 248;
  bytes[31] = ((bytes[31] as number) & 127) | 64;
  return { privateKey: Buffer.from(bytes).toString('base64'), publicKey: Buffer.from(x25519.getPublicKey(bytes)).toString('base64') };
}
