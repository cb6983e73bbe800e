// Meshplane's mark on OPNsense objects. Rules and NAT entries carry the shared text tag in
// their `description` (devices/shared/tags.ts). WireGuard instances and peers have no free
// text field: their `name` (only [0-9A-Za-z._-], at most 64 characters) is the tag,
// "<prefix>.<wanId>.<i|p>.<n>", where n is the interface name or peer id when it fits and
// a short hash of it otherwise. The key's name part is that same n, so a key computed from
// the desired state and one read back from a name are equal.
import { createHash } from 'node:crypto';
import { formatKey, parseKey, type ManagedType } from '../shared/tags.js';

export { adminText, formatKey, isRef, ownDescr, parseDescr, parseKey, pskFingerprint, ref, tagOf, withAdminText } from '../shared/tags.js';

const NAME_MAX = 64;
const PLAIN = /^[0-9A-Za-z_-]+$/;
const TYPE_LETTER = { tunnel: 'i', peer: 'p' } as const;
export type NamedType = keyof typeof TYPE_LETTER;

/** A prefix as it can stand in a WireGuard name: characters OPNsense refuses become "-". */
export function namePrefix(prefix: string): string {
  return prefix.replace(/[^0-9A-Za-z_-]/g, '-');
}

/** The name part n for an interface name or peer id, identical wherever it is computed. */
export function nameSegment(prefix: string, wanId: string, type: NamedType, name: string): string {
  const whole = `${namePrefix(prefix)}.${wanId}.${TYPE_LETTER[type]}.${name}`;
  return PLAIN.test(name) && whole.length <= NAME_MAX ? name : `h${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

/** The managed key of an instance/peer: "<wanId>:tunnel:<n>" / "<wanId>:peer:<n>". */
export function namedKey(prefix: string, wanId: string, type: NamedType, name: string): string {
  return formatKey({ wanId, type, name: nameSegment(prefix, wanId, type, name) });
}

/** The `name` an instance/peer with that key carries. */
export function nameTag(prefix: string, key: string): string {
  const parsed = parseKey(key);
  if (parsed === null || (parsed.type !== 'tunnel' && parsed.type !== 'peer')) throw new Error(`not an instance or peer key: ${key}`);
  return `${namePrefix(prefix)}.${parsed.wanId}.${TYPE_LETTER[parsed.type]}.${parsed.name}`;
}

/** The key a `name` stands for, or null when the object is not Meshplane's (under this prefix). */
export function keyOfName(name: unknown, prefix: string): string | null {
  if (typeof name !== 'string') return null;
  const parts = name.split('.');
  if (parts.length < 4) return null;
  const [wanId, letter, segment] = parts.slice(-3) as [string, string, string];
  if (parts.slice(0, -3).join('.') !== namePrefix(prefix) || wanId === '' || !PLAIN.test(segment)) return null;
  const type: ManagedType | null = letter === 'i' ? 'tunnel' : letter === 'p' ? 'peer' : null;
  return type === null ? null : formatKey({ wanId, type, name: segment });
}
