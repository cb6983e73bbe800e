// Input rules shared by the GraphQL inputs (checked at the edge, before any service runs).
// A rule about a port, CIDR, host, name or key carries the overlay's error code in its zod
// issue (`params.code`), so a too-long CIDR is refused as INVALID_CIDR exactly like a
// malformed one the domain finds later; inputError (../errors.ts) turns the issues into the client error.
import { z } from 'zod';
import type { DomainErrorCode } from '../../domain/errors.js';

export type InputErrorCode = Extract<DomainErrorCode, 'INVALID_PORT' | 'INVALID_CIDR' | 'INVALID_HOST' | 'INVALID_NAME' | 'INVALID_KEY'>;

/** A TCP/UDP port, 1–65535 (INVALID_PORT). */
export const port = z.number().refine((value) => Number.isInteger(value) && value >= 1 && value <= 65535, {
  message: 'must be a whole number from 1 to 65535',
  params: { code: 'INVALID_PORT' satisfies InputErrorCode },
});

/** Free text of at most `max` characters; with a code, a longer value is refused with it. */
export function text(max: number, code?: InputErrorCode) {
  const message = `must have at most ${max} characters`;
  if (!code) return z.string().max(max, message);
  return z.string().refine((value) => value.length <= max, { message, params: { code } });
}

/** Text the domain parses as a CIDR or an address (longer than any IPv4 CIDR: INVALID_CIDR). */
export const cidrText = (max = 43) => text(max, 'INVALID_CIDR');
/** An IPv4 or IPv6 address in any valid form (45: the longest, ::ffff: with a dotted quad). */
export const addressText = cidrText(45);
/** An IPv4 or IPv6 CIDR in any valid form. */
export const anyCidrText = cidrText(49);
/** Text the domain parses as a host name or address (DNS names stop at 253 characters). */
export const hostText = text(253, 'INVALID_HOST');
/** A peer's, WAN's or service's name. */
export const nameText = (max = 64) => text(max, 'INVALID_NAME');
/** A WireGuard public key in base64 (44 characters; a little slack for the domain's message). */
export const keyText = text(64, 'INVALID_KEY');
/** A whole number from `min` to `max`, refused in words a form can put after the field's label. */
export const wholeNumber = (min: number, max: number) =>
  z.number().refine((value) => Number.isInteger(value) && value >= min && value <= max, { message: `must be a whole number from ${min} to ${max}` });

/** Seconds between keepalives; 0 turns them off. */
export const keepaliveSeconds = wholeNumber(0, 3600);
