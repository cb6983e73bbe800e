// pfSense's use of the shared tag format (devices/shared/tags.ts) on its `descr` fields.
// pfSense never echoes preshared keys, so a peer's descr also carries a short fingerprint of
// its PSK (" psk:<8 hex>") to notice rotations.
import { createHash } from 'node:crypto';
import { formatKey, parseKey, pskFingerprint } from '../shared/tags.js';

export {
  adminText, formatKey, isRef, ownDescr, parseDescr, parseKey, pskFingerprint, ref, REF, tagOf, withAdminText,
  type ManagedKey, type ManagedType, type ParsedDescr,
} from '../shared/tags.js';

export function peerDescr(tag: string, presharedKey: string): string {
  const fingerprint = pskFingerprint(presharedKey);
  return fingerprint === '' ? tag : `${tag} psk:${fingerprint}`;
}

/** The interface assignment that belongs to a managed tunnel has the same key, typed "iface". */
export function interfaceKeyForTunnel(tunnelKey: string): string | null {
  const parsed = parseKey(tunnelKey);
  return parsed && parsed.type === 'tunnel' ? formatKey({ ...parsed, type: 'iface' }) : null;
}

export function tunnelKeyForInterface(interfaceKey: string): string | null {
  const parsed = parseKey(interfaceKey);
  return parsed && parsed.type === 'iface' ? formatKey({ ...parsed, type: 'tunnel' }) : null;
}

/** An unmanaged interface by its pfSense id ("#wan"); managed ones are referenced by tag. */
export function interfaceIdRef(id: string): string {
  return `#${id}`;
}

/** pfSense filter names: letters, digits, underscore; gateway names at most 31 characters. */
export function filterName(prefix: string, text: string, max: number): string {
  return `${prefix}${text.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, max);
}

export function hashedName(prefix: string, text: string): string {
  return `${prefix}${createHash('sha256').update(text).digest('hex').slice(0, 12).toUpperCase()}`;
}
