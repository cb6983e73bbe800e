// Parsers for property values: each normalises what a client wrote into what RouterOS
// prints back, or throws the trap RouterOS would answer with.
import { formatDuration, parseBool, parseDuration } from '../values.js';
import { canonicalIp, isIpAddress, withMask, type Family } from '../ip-prefix.js';
import { traps } from '../trap.js';
import { randomPrivateKey } from '../wireguard-keys.js';
import type { MenuContext, PropertySpec } from './types.js';

type Extra = Omit<PropertySpec, 'parse'>;

export function text(extra: Extra = {}): PropertySpec {
  return { ...extra, parse: (value) => value };
}

export function bool(extra: Extra = {}): PropertySpec {
  return {
    ...extra,
    parse(value, name) {
      const parsed = parseBool(value);
      if (parsed === undefined) throw traps.invalidValue(name, value);
      return parsed ? 'true' : 'false';
    },
  };
}

export function integer(min: number, max: number, extra: Extra = {}): PropertySpec {
  return {
    ...extra,
    parse(value, name) {
      if (!/^\d+$/.test(value.trim())) throw traps.invalidValue(name, value);
      const n = Number(value.trim());
      if (n < min || n > max) throw traps.outOfRange(name, min, max);
      return String(n);
    },
  };
}

export function oneOf(values: readonly string[], extra: Extra = {}): PropertySpec {
  return {
    ...extra,
    parse(value, name) {
      if (!values.includes(value)) throw traps.noMatch(name);
      return value;
    },
  };
}

/** Comma list whose members each come from `values` (e.g. connection-state). */
export function listOf(values: readonly string[], extra: Extra = {}): PropertySpec {
  return {
    ...extra,
    parse(value, name) {
      const members = value.split(',').map((m) => m.trim());
      if (members.some((m) => !values.includes(m))) throw traps.noMatch(name);
      return members.join(',');
    },
  };
}

/** A time interval, printed like RouterOS (`25s`, `1m5s`). */
export function duration(maxSeconds: number, extra: Extra = {}): PropertySpec {
  return {
    ...extra,
    parse(value, name) {
      const seconds = parseDuration(value);
      if (seconds === undefined) throw traps.invalidValue(name, value);
      if (seconds > maxSeconds) throw traps.outOfRange(name, 0, maxSeconds);
      return formatDuration(seconds);
    },
  };
}

/**
 * One prefix; a bare address gets its host mask (`/32`, `/128`), as RouterOS prints it. With
 * `family`, a value of the other family is refused like a malformed one (an /ip menu takes no
 * IPv6 value, an /ipv6 menu no IPv4 value).
 */
export function prefix(extra: Extra & { family?: Family } = {}): PropertySpec {
  const { family, ...rest } = extra;
  return {
    ...rest,
    parse(value, name) {
      const normalised = withMask(value, family);
      if (!normalised) throw traps.invalidValue(name, value);
      return normalised;
    },
  };
}

/** Comma-separated prefixes (AllowedIPs, user/service address lists); may be empty. */
export function prefixList(extra: Extra & { allowEmpty?: boolean } = {}): PropertySpec {
  const { allowEmpty = true, ...rest } = extra;
  return {
    ...rest,
    parse(value, name) {
      const members = value.split(',').map((m) => m.trim()).filter((m) => m !== '');
      if (members.length === 0) {
        if (allowEmpty) return '';
        throw traps.invalidValue(name, value);
      }
      return members
        .map((m) => {
          const normalised = withMask(m);
          if (!normalised) throw traps.invalidValue(name, value);
          return normalised;
        })
        .join(',');
    },
  };
}

/**
 * Address matchers of firewall rules: `10.0.0.0/24`, `!10.0.0.1`, `10.0.0.1-10.0.0.9`, of
 * `family` only when given. An IPv4 host prints as written; an IPv6 one in its short form
 * with `/128` (unverified: no capture of an /ipv6/firewall host matcher was found).
 */
export function addressMatcher(extra: Extra & { family?: Family } = {}): PropertySpec {
  const { family, ...rest } = extra;
  return {
    ...rest,
    parse(value, name) {
      const negated = value.startsWith('!');
      const body = negated ? value.slice(1) : value;
      if (body.includes('-')) {
        if (!body.split('-').every((end) => isIpAddress(end, family))) throw traps.invalidValue(name, value);
        return value;
      }
      const normalised = withMask(body, family);
      if (normalised === undefined) throw traps.invalidValue(name, value);
      return normalised.includes(':') ? `${negated ? '!' : ''}${normalised}` : value;
    },
  };
}

/** Port lists of firewall rules: `13231`, `80,443`, `1000-2000`. */
export function portList(extra: Extra = {}): PropertySpec {
  return {
    ...extra,
    parse(value, name) {
      const body = value.startsWith('!') ? value.slice(1) : value;
      const ok = body.split(',').every((part) => {
        const ends = part.split('-');
        return ends.length <= 2 && ends.every((p) => /^\d{1,5}$/.test(p) && Number(p) <= 65535);
      });
      if (!ok) throw traps.invalidValue(name, value);
      return value;
    },
  };
}

/** An IP address or a DNS name (WireGuard endpoint-address); empty clears it. */
export function host(extra: Extra = {}): PropertySpec {
  return {
    ...extra,
    parse(value, name) {
      const v = value.trim();
      if (v === '' || isIpAddress(v) || /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(v)) {
        return v;
      }
      throw traps.invalidValue(name, value);
    },
  };
}

/** A gateway: an address (of `family` when given) or an interface name. */
export function gateway(extra: Extra & { family?: Family } = {}): PropertySpec {
  const { family, ...rest } = extra;
  return {
    ...rest,
    parse(value, name, ctx) {
      const v = value.trim();
      if (isIpAddress(v, family)) return canonicalIp(v);
      if (ctx.interfaceNames().includes(v)) return v;
      // An address with `%interface` is a valid gateway too (IPv6 link-local next hops).
      const [address, iface] = v.split('%');
      if (address && iface && isIpAddress(address, family) && ctx.interfaceNames().includes(iface)) return `${canonicalIp(address)}%${iface}`;
      throw traps.noMatch(name);
    },
  };
}

/** Name of an existing interface; `!name` negates it where matchers allow (`negatable`). */
export function interfaceName(
  extra: Extra & { among?: (ctx: MenuContext) => string[]; negatable?: boolean } = {},
): PropertySpec {
  const { among = (ctx: MenuContext) => ctx.interfaceNames(), negatable = false, ...rest } = extra;
  return {
    ...rest,
    interfaceReference: true,
    parse(value, name, ctx) {
      const bare = negatable && value.startsWith('!') ? value.slice(1) : value;
      if (!among(ctx).includes(bare)) throw traps.noMatch(name);
      return value;
    },
  };
}

/**
 * A WireGuard key: base64 of exactly 32 bytes. `keywords` (e.g. `none`) pass through;
 * with `autoGenerates`, `auto` makes RouterOS generate a fresh key.
 */
export function wireguardKey(extra: Extra & { keywords?: readonly string[]; autoGenerates?: boolean } = {}): PropertySpec {
  const { keywords = [], autoGenerates = false, ...rest } = extra;
  return {
    ...rest,
    parse(value, name) {
      if (autoGenerates && value === 'auto') return randomPrivateKey();
      if (keywords.includes(value)) return value;
      if (!/^[A-Za-z0-9+/]{43}=$/.test(value) || Buffer.from(value, 'base64').length !== 32) {
        throw traps.invalidValue(name, value);
      }
      return value;
    },
  };
}

export const comment = (): PropertySpec => text();
export const disabled = (): PropertySpec => bool();

/** The name RouterOS gives an item added without one: the stem and the first number no item has ("wireguard1", "peer2"). */
export function firstFreeName(taken: Iterable<string | undefined>, stem: string): string {
  const names = new Set(taken);
  let n = 1;
  while (names.has(`${stem}${n}`)) n += 1;
  return `${stem}${n}`;
}
