// Meshplane's mark on objects of devices that give each object one free text field (pfSense
// `descr`, OPNsense `description`, OpenWrt rule names): the field starts with
// "<prefix>:<key>", the key being "<wanId>:<type>:<name>", optionally followed by a PSK
// fingerprint (" psk:<8 hex>") and then by whatever the admin wrote there. Values that point
// at other managed objects are kept in props as references to their tag ("@<tag>"), because
// the device's names and ids for them are only known once they exist.
import { createHash } from 'node:crypto';

export type ManagedType = 'tunnel' | 'peer' | 'iface' | 'gateway' | 'group' | 'route' | 'rule' | 'nat' | 'npt' | 'forward';

export interface ManagedKey {
  wanId: string;
  type: ManagedType;
  name: string;
}

const TYPES: ReadonlySet<string> = new Set<ManagedType>(['tunnel', 'peer', 'iface', 'gateway', 'group', 'route', 'rule', 'nat', 'npt', 'forward']);

export function formatKey(key: ManagedKey): string {
  return `${key.wanId}:${key.type}:${key.name}`;
}

export function parseKey(key: string): ManagedKey | null {
  const [wanId, type, ...rest] = key.split(':');
  if (!wanId || !type || !TYPES.has(type) || rest.length === 0) return null;
  return { wanId, type: type as ManagedType, name: rest.join(':') };
}

export function tagOf(prefix: string, key: string): string {
  return `${prefix}:${key}`;
}

export interface ParsedDescr {
  /** The full tag ("meshplane:wan1:peer:b"), or null when the object is not Meshplane's. */
  tag: string | null;
  /** The key after the prefix, or null. */
  key: string | null;
  pskFingerprint: string;
}

/** Splits a description into its tag and shadow fields; anything not starting with the prefix is unmanaged. */
export function parseDescr(descr: unknown, prefix: string): ParsedDescr {
  const text = typeof descr === 'string' ? descr : '';
  const [tag = '', ...extras] = text.split(' ');
  const pskFingerprint = extras.find((extra) => extra.startsWith('psk:'))?.slice(4) ?? '';
  if (!tag.startsWith(`${prefix}:`) || parseKey(tag.slice(prefix.length + 1)) === null) return { tag: null, key: null, pskFingerprint: '' };
  return { tag, key: tag.slice(prefix.length + 1), pskFingerprint };
}

/**
 * What a person wrote in a description, apart from Meshplane's words: the text after the tag
 * and its PSK fingerprint on a tagged object (an adopted one keeps its old description there),
 * the whole text on an untagged one. Never a "psk:" word, which would read as a fingerprint.
 */
export function adminText(descr: unknown, prefix: string): string {
  const text = typeof descr === 'string' ? descr : '';
  const words = text.split(' ').filter((word) => word !== '');
  const own = parseDescr(text, prefix).tag === null ? words : words.slice(1);
  return own.filter((word) => !word.startsWith('psk:')).join(' ');
}

/** Meshplane's description (tag, fingerprint) followed by the admin's text, within `max` characters. */
export function withAdminText(descr: string, admin: string, max = 1024): string {
  return admin === '' ? descr : `${descr} ${admin}`.slice(0, max);
}

/** A description as Meshplane compares it: its tag and fingerprint, without the admin's text after them. */
export function ownDescr(descr: string): string {
  const [tag = '', ...rest] = descr.split(' ');
  return [tag, ...rest.filter((word) => word.startsWith('psk:'))].join(' ');
}

/** A non-reversible, short fingerprint: enough to notice that a PSK changed. */
export function pskFingerprint(presharedKey: string): string {
  return presharedKey === '' ? '' : createHash('sha256').update(`meshplane-psk:${presharedKey}`).digest('hex').slice(0, 8);
}

export const REF = '@';

export function ref(tag: string): string {
  return `${REF}${tag}`;
}

export function isRef(value: string): boolean {
  return value.startsWith(REF);
}
