// Probes shared by the dual-stack lab scenarios (issue 16): LAN hosts of both families, pings and
// TCP connections to servers that answer with their site's name and the client address they see.
import { formatAddress, parseCidr, tryParseAddress } from '../../src/domain/ip.js';
import { LabCommandError, type Lab, type Where } from './harness.js';

/** The port of every LAN host's TCP server (tcpBanner with withPeer). */
export const PORT = 7000;

export interface Lan {
  cidr: string;
  host: string;
}

/** A site with LANs of one or both families. */
export interface LanSite {
  name: string;
  lan4?: Lan;
  lan6?: Lan;
}

/** One path: from a site's LAN host (or router) to an address, answered by ping or by a TCP banner. */
export interface Probe {
  from: string;
  where: Where;
  to: string;
  /** The TCP port (default PORT). */
  port?: number;
  /** What the TCP server must send back (`<banner> <client address>`); absent: a ping. */
  expect?: string;
  what: string;
}

/** How a client address shows in Node's `socket.remoteAddress` on a '::' server. */
export function seenAs(address: string): string {
  return address.includes(':') ? address : `::ffff:${address}`;
}

/** Every ordered pair of LAN hosts, per family both have: a ping, and a TCP connection when `tcp` says so. */
export function lanProbes<S extends LanSite>(defs: readonly S[], tcp: (from: S, to: S, family: 4 | 6) => boolean = () => false): Probe[] {
  const probes: Probe[] = [];
  for (const a of defs) {
    for (const b of defs) {
      if (a === b) continue;
      for (const family of [4, 6] as const) {
        const [from, to] = family === 4 ? [a.lan4, b.lan4] : [a.lan6, b.lan6];
        if (!from || !to) continue;
        const what = `${a.name} LAN -> ${b.name} LAN over IPv${family}`;
        probes.push({ from: a.name, where: 'lan', to: to.host, what: `ping ${what}` });
        if (tcp(a, b, family)) probes.push({ from: a.name, where: 'lan', to: to.host, expect: `lan-${b.name} ${seenAs(from.host)}`, what: `TCP ${what}` });
      }
    }
  }
  return probes;
}

/** The probes that do not answer as expected, as readable lines. */
export async function failing(lab: Lab, probes: readonly Probe[]): Promise<string[]> {
  const results = await Promise.all(probes.map(async (probe): Promise<string | null> => {
    if (probe.expect === undefined) {
      const answered = await lab.ping(probe.from, probe.to, { from: probe.where, count: 1, timeoutSec: 2 });
      return answered ? null : `${probe.what} (${probe.to}): no echo reply`;
    }
    // A failed connection shows as what the client printed (ECONNREFUSED, EHOSTUNREACH, timeout, ...).
    const port = probe.port ?? PORT;
    const got = await lab.tcpRead(probe.from, probe.to, port, { where: probe.where, timeoutMs: 2_000 })
      .then((text) => text.trim(), (e: Error) => `(${e instanceof LabCommandError ? e.result.stderr.trim() : e.message})`);
    return got === probe.expect ? null : `${probe.what} ([${probe.to}]:${port}): got "${got}", expected "${probe.expect}"`;
  }));
  return results.filter((line): line is string => line !== null);
}

/** The address a host of `real` has on the overlay when its LAN is translated into `translated` (1:1, host bits kept). */
export function translatedHost(host: string, real: string, translated: string): string {
  return formatAddress(parseCidr(translated).start + ((tryParseAddress(host) as bigint) - parseCidr(real).start));
}

/** Where the sites of an overlap scenario are seen on the overlay: a and b share an IPv6 LAN and are both translated, c is not. */
export interface OverlapHosts {
  a: { name: string; host: string; nat: string };
  b: { name: string; host: string; nat: string };
  c: { name: string; host: string };
}

/**
 * The paths that prove an IPv6 overlap resolved by translation: c reaches each real host at its
 * translated address (ping -6, and TCP answered by the right host, which sees c's real address),
 * and a and b reach c and each other with their own source translated.
 */
export function overlapProbes({ a, b, c }: OverlapHosts): Probe[] {
  return [
    { from: c.name, where: 'lan', to: a.host, what: `ping -6 ${c.name} LAN -> ${a.name} host translated (${a.nat})` },
    { from: c.name, where: 'lan', to: b.host, what: `ping -6 ${c.name} LAN -> ${b.name} host translated (${b.nat})` },
    ...[a, b].flatMap((x) => [
      { from: c.name, where: 'lan' as const, to: x.host, expect: `lan-${x.name} ${c.host}`, what: `TCP ${c.name} LAN -> ${x.name} host translated` },
      { from: x.name, where: 'lan' as const, to: c.host, expect: `lan-${c.name} ${x.host}`, what: `TCP ${x.name} LAN -> ${c.name} host (source translated)` },
    ]),
    { from: a.name, where: 'lan', to: b.host, expect: `lan-${b.name} ${a.host}`, what: `TCP ${a.name} LAN -> ${b.name} host, both translated` },
    { from: b.name, where: 'lan', to: a.host, expect: `lan-${a.name} ${b.host}`, what: `TCP ${b.name} LAN -> ${a.name} host, both translated` },
  ];
}

export const v4 = (n: number): Lan => ({ cidr: `192.168.${n}.0/24`, host: `192.168.${n}.10` });
export const v6 = (n: number): Lan => ({ cidr: `2001:db8:${n.toString(16)}::/64`, host: `2001:db8:${n.toString(16)}::10` });
