// Pure: the nftables include that carries one WAN's address translation on OpenWrt (fw4).
// UCI has no NETMAP: fw4 renders an `snat_ip` prefix as a single address (reference §6.3), so
// 1:1 prefix translation (NETMAP for IPv4, NPTv6-style prefix mapping for IPv6, host bits
// kept) and published services are raw nft chains, included into `table inet fw4` by a UCI
// `config include` (type nftables, position table-append). The file starts with the tag and
// the spec it was rendered from, so a reading gets the spec back without parsing nft.
//
// What works where: 22.03 (nft 1.0.x) may not accept `prefix to … map` (unverified): the
// driver checks before it confirms that the chain loaded, and rolls back otherwise. 23.05+
// load it. 21.02 (fw3/iptables) is refused as a whole device.
import { familyOfValue } from '../../domain/compiled.js';
import { canonicalAddress, canonicalCidr } from '../../domain/ip.js';
import { chainPrefix } from './names.js';

export interface NatNetmap {
  ifname: string;
  /** What the overlay sees. */
  translated: string;
  /** The LAN as it is. */
  real: string;
}

export interface NatService {
  ifname: string;
  protocol: 'tcp' | 'udp';
  serviceIp: string;
  servicePort: number;
  localIp: string;
  localPort: number;
}

export interface NatSpec {
  netmaps: NatNetmap[];
  services: NatService[];
}

const IFNAME = /^[A-Za-z0-9_]{1,15}$/;

function bad(what: string, value: unknown): never {
  throw new Error(`invalid ${what} for the nftables include: ${String(value).slice(0, 64)}`);
}

function ifname(value: string): string {
  return IFNAME.test(value) ? value : bad('interface name', value);
}

function cidr(value: string): string {
  return canonicalCidr(value) ?? bad('prefix', value);
}

function address(value: string): string {
  return canonicalAddress(value) ?? bad('address', value);
}

function port(value: number): number {
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? value : bad('port', value);
}

function protocol(value: string): 'tcp' | 'udp' {
  return value === 'tcp' || value === 'udp' ? value : bad('protocol', value);
}

/** Every value checked and canonical: nothing unchecked reaches the nft text. */
export function checkedSpec(spec: NatSpec): NatSpec {
  return {
    netmaps: spec.netmaps.map((netmap) => {
      const translated = cidr(netmap.translated);
      const real = cidr(netmap.real);
      if (familyOfValue(translated) !== familyOfValue(real) || translated.split('/')[1] !== real.split('/')[1]) bad('prefix pair', `${translated} ${real}`);
      return { ifname: ifname(netmap.ifname), translated, real };
    }),
    services: spec.services.map((service) => {
      const serviceIp = address(service.serviceIp);
      const localIp = address(service.localIp);
      if (familyOfValue(serviceIp) !== familyOfValue(localIp)) bad('service address pair', `${serviceIp} ${localIp}`);
      return { ifname: ifname(service.ifname), protocol: protocol(service.protocol), serviceIp, servicePort: port(service.servicePort), localIp, localPort: port(service.localPort) };
    }),
  };
}

/** The spec as one line of words per item, joined by "; " (the include's `netmap` prop). */
export function specText(spec: NatSpec): string {
  const checked = checkedSpec(spec);
  return [
    ...checked.netmaps.map((netmap) => `netmap ${netmap.ifname} ${netmap.translated} ${netmap.real}`),
    ...checked.services.map((service) => `service ${service.ifname} ${service.protocol} ${service.serviceIp} ${service.servicePort} ${service.localIp} ${service.localPort}`),
  ].join('; ');
}

export function parseSpecText(text: string): NatSpec {
  const spec: NatSpec = { netmaps: [], services: [] };
  for (const item of text.split(';').map((part) => part.trim()).filter(Boolean)) {
    const words = item.split(/\s+/);
    if (words[0] === 'netmap' && words.length === 4) {
      spec.netmaps.push({ ifname: words[1] as string, translated: words[2] as string, real: words[3] as string });
    } else if (words[0] === 'service' && words.length === 7) {
      spec.services.push({
        ifname: words[1] as string, protocol: words[2] as 'tcp', serviceIp: words[3] as string, servicePort: Number(words[4]), localIp: words[5] as string, localPort: Number(words[6]),
      });
    } else {
      bad('spec item', item);
    }
  }
  return checkedSpec(spec);
}

const ip = (value: string) => (familyOfValue(value) === 6 ? 'ip6' : 'ip');
const hostPort = (value: string, portNumber: number) => (familyOfValue(value) === 6 ? `[${value}]:${portNumber}` : `${value}:${portNumber}`);

/** The include file: header (tag, spec lines), then a dstnat and a srcnat chain just before fw4's own. */
export function renderInclude(tag: string, text: string): string {
  if (!/^[A-Za-z0-9_.:@/-]+$/.test(tag)) bad('tag', tag);
  const spec = parseSpecText(text);
  const chain = chainPrefix(tag, specText(spec));
  const dst: string[] = [];
  const src: string[] = [];
  for (const { ifname: dev, translated, real } of spec.netmaps) {
    const family = ip(real);
    dst.push(`\t\tiifname "${dev}" ${family} daddr ${translated} dnat ${family} prefix to ${family} daddr map { ${translated} : ${real} }`);
    src.push(`\t\toifname "${dev}" ${family} saddr ${real} snat ${family} prefix to ${family} saddr map { ${real} : ${translated} }`);
  }
  for (const service of spec.services) {
    const family = ip(service.serviceIp);
    dst.push(`\t\tiifname "${service.ifname}" ${family} daddr ${service.serviceIp} ${service.protocol} dport ${service.servicePort} dnat ${family} to ${hostPort(service.localIp, service.localPort)}`);
  }
  const header = [`# ${tag}`, ...text.split(';').map((item) => item.trim()).filter(Boolean).map((item) => `# ${item}`)];
  return [
    ...header,
    `chain ${chain}_dst {`,
    '\t\ttype nat hook prerouting priority dstnat - 1; policy accept;',
    ...dst,
    '}',
    `chain ${chain}_src {`,
    '\t\ttype nat hook postrouting priority srcnat - 1; policy accept;',
    ...src,
    '}',
    '',
  ].join('\n');
}

/** The tag and spec of an include file as Meshplane wrote it, or null for anything else. */
export function readIncludeHeader(content: string): { tag: string; spec: string } | null {
  const lines = content.split('\n');
  const tag = /^# (\S+)$/.exec(lines[0] ?? '')?.[1];
  if (tag === undefined) return null;
  const items: string[] = [];
  for (const line of lines.slice(1)) {
    const item = /^# ((?:netmap|service) .+)$/.exec(line)?.[1];
    if (item === undefined) break;
    items.push(item);
  }
  try {
    return { tag, spec: specText(parseSpecText(items.join('; '))) };
  } catch {
    return null;
  }
}

/** The chain the check before confirm lists: it exists once fw4 loaded this content of the include. */
export function dstChain(tag: string, text: string): string {
  return `${chainPrefix(tag, specText(parseSpecText(text)))}_dst`;
}
