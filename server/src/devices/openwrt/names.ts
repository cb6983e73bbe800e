// Naming on OpenWrt. Meshplane creates only named sections, `mp_` + 16 hex of SHA-256 of the
// item's tag, so it can address them directly: anonymous sections (`cfgNNHHHH`) are
// renumbered whenever an earlier section goes. The tag itself is never in a section name
// (adoption keeps a hand-made item's name, which is its id): network sections carry it in
// `option mp_tag` (netifd ignores options it does not know), fw4 rules at the start of their
// `name` (fw4 warns about unknown options in firewall sections, and prints the name as the
// nft comment), followed by the admin's old name when the rule was adopted.
import { createHash } from 'node:crypto';
import { adminText, formatKey, parseDescr, parseKey, tagOf, withAdminText, type ManagedType } from '../shared/tags.js';

export { adminText, formatKey, parseDescr, parseKey, tagOf, withAdminText };

export const TAG_OPTION = 'mp_tag';

/** fw4 copies a rule's name into an nft comment, which nftables limits to 128 bytes (with its "!fw4: " prefix). */
export const RULE_NAME_MAX = 128 - '!fw4: '.length;

const ANONYMOUS = /^cfg[0-9a-f]{6}$/;

/** Whether UCI named the section itself (`cfgNNHHHH`): that name changes when earlier sections go. */
export function isAnonymous(section: string): boolean {
  return ANONYMOUS.test(section);
}

/** UCI section names are `[A-Za-z0-9_]+`; netifd names the WireGuard device after the section. */
export function uciInterfaceName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

function hex(text: string, length: number): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/** The section Meshplane creates for a tag. */
export function sectionName(tag: string): string {
  return `mp_${hex(tag, 16)}`;
}

/**
 * nft chain names of an include: unique per tag inside `table inet fw4`, and per content: when
 * fw4 cannot load a changed include, the old ruleset stays loaded whole (nft -f is atomic), so
 * a chain named after the tag alone would still be listed and the check would pass.
 */
export function chainPrefix(tag: string, spec: string): string {
  return `mp_${hex(tag, 8)}_${hex(spec, 8)}`;
}

export const INCLUDE_DIR = '/etc/meshplane';

/** Where a preshared key waits for `wg set` (0600, removed right after): never on a command line. */
export const PSK_FILE = '/tmp/meshplane-psk';

/** Content-addressed: a new content is a new path, so the UCI rollback covers the NAT too. */
export function includePath(tag: string, content: string): string {
  return `${INCLUDE_DIR}/${hex(tag, 8)}-${hex(content, 12)}.nft`;
}

const INCLUDE_FILE = new RegExp(`^${INCLUDE_DIR}/[0-9a-f]{8}-[0-9a-f]{12}\\.nft$`);

/** Whether a path is one of Meshplane's include files (what includePath makes). */
export function isIncludeFile(path: string): boolean {
  return INCLUDE_FILE.test(path);
}

/**
 * One list per WAN of the files a run writes outside UCI's rollback, appended before it writes
 * them: the include files it starts or stops using, the preshared-key file. A run interrupted
 * before it removed one leaves it to the next run, which removes those no include section
 * points at, then the list.
 */
export function leftoversPath(prefix: string, wanId: string): string {
  return `${INCLUDE_DIR}/${hex(`${prefix}:${wanId}`, 8)}-leftovers.txt`;
}

export interface Naming {
  prefix: string;
  wanId: string;
  key(type: ManagedType, name: string): string;
  tag(type: ManagedType, name: string): string;
}

export function naming(prefix: string, wanId: string): Naming {
  const key = (type: ManagedType, name: string) => formatKey({ wanId, type, name });
  return { prefix, wanId, key, tag: (type, name) => tagOf(prefix, key(type, name)) };
}

/** The key a `mp_tag` value carries, when it is this prefix's. */
export function keyOfTag(tag: string | undefined, prefix: string): string | null {
  if (tag === undefined || !tag.startsWith(`${prefix}:`)) return null;
  const key = tag.slice(prefix.length + 1);
  return parseKey(key) === null ? null : key;
}

/** A rule name: the tag, then the admin's text, cut to what fw4 can keep (the tag alone must fit). */
export function ruleName(tag: string, admin: string): string {
  return withAdminText(tag, admin, RULE_NAME_MAX);
}
