// The managed tag in an item's comment: "<prefix>:<wanId>:<kind>:<key>", exactly what the
// .rsc script (domain/render/routeros.ts) writes, so a router first set up with the script
// is then managed by the driver without re-creating anything. The plan's resource key is
// everything after "<prefix>:"; items of other WANs (or without a tag) are unmanaged.
import { DeviceError } from '../driver.js';

const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;

export function checkCommentPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new DeviceError('PROTOCOL', 'commentPrefix: use 1-32 characters from A-Z a-z 0-9 _ -');
  return prefix;
}

export function tagFor(prefix: string, key: string): string {
  return `${checkCommentPrefix(prefix)}:${key}`;
}

/** The managed key of an item of this WAN, or null. */
export function keyFromComment(comment: string | undefined, prefix: string, wanId: string): string | null {
  const head = `${prefix}:${wanId}:`;
  return comment !== undefined && comment.startsWith(head) && comment.length > head.length ? comment.slice(prefix.length + 1) : null;
}

/** Whether any Meshplane deployment (this WAN or another) manages the item. */
export function isMeshplaneComment(comment: string | undefined, prefix: string): boolean {
  return comment !== undefined && comment.startsWith(`${prefix}:`);
}
