// Which addresses a webhook may be sent to (SSRF guard): only public unicast ones, unless an
// admin allowed private targets for that webhook. Range classification is ipaddr.js's (IANA
// special-purpose registries); the forms that embed an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
// 6to4 2002::/16, NAT64 64:ff9b::/96) are judged by the address they embed.
import ipaddr from 'ipaddr.js';

/** Longest webhook URL accepted. */
export const WEBHOOK_URL_MAX = 2048;

/** Why a range is refused, in words ("a private address"). */
const RANGE_WORDS: Record<string, string> = {
  private: 'a private address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local address',
  carrierGradeNat: 'a carrier-grade NAT address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
};

/** IPv6 global unicast: every public IPv6 address is in it. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/** Names that mean this host whatever DNS says. */
const LOCAL_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/i;

function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === 'ipv4Mapped') return address.toIPv4Address();
  if (range === '6to4') return ipaddr.fromByteArray(bytes.slice(2, 6)) as ipaddr.IPv4;
  if (range === 'rfc6052') return ipaddr.fromByteArray(bytes.slice(12, 16)) as ipaddr.IPv4;
  return null;
}

/**
 * Null when `address` (an IP literal) is a public unicast address; otherwise why not, in words:
 * "10.0.0.5 is a private address".
 */
export function refusedAddress(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const inner = embeddedIpv4(parsed as ipaddr.IPv6);
    if (inner) {
      const reason = refusedAddress(inner.toString());
      return reason ? `${address} embeds ${reason}` : null;
    }
  }
  const range = parsed.range();
  // ipaddr.js calls every IPv6 address outside its listed ranges unicast, the IPv4-compatible
  // ::a.b.c.d (::7f00:1) and ::2 included; only 2000::/3 is allocated as global unicast (RFC 4291).
  if (range === 'unicast' && parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return `${address} is ${RANGE_WORDS.reserved} (outside the global unicast range 2000::/3)`;
  if (range === 'unicast') return null;
  return `${address} is ${RANGE_WORDS[range] ?? `a special-purpose address (${range})`}`;
}

/** Null when the host name itself is acceptable (before resolving it). */
export function refusedHostName(host: string): string | null {
  const bare = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (LOCAL_NAMES.test(bare)) return `${bare} names this host`;
  return null;
}

export interface WebhookUrl {
  url: URL;
  /** The host without IPv6 brackets. */
  host: string;
  /** Set when the host is an IP literal. */
  literal: string | null;
}

/** Parses a webhook URL or says what is wrong with it (http/https only, no user:password@, bounded). */
export function parseWebhookUrl(text: string): WebhookUrl | { error: string } {
  const trimmed = text.trim();
  if (trimmed.length === 0) return { error: 'must not be empty' };
  if (trimmed.length > WEBHOOK_URL_MAX) return { error: `must be at most ${WEBHOOK_URL_MAX} characters` };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { error: 'is not a URL (e.g. https://hooks.example.com/meshplane)' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: 'must start with https:// or http://' };
  if (url.username || url.password) return { error: 'must not contain a user name or password (the signature authenticates Meshplane)' };
  if (!url.hostname) return { error: 'has no host' };
  url.hash = '';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { url, host, literal: ipaddr.isValid(host) ? host : null };
}
