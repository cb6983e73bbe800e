// Reads what is on the host (or in the driver's namespace) as ActualResources: every link,
// the peers and addresses of Meshplane's WireGuard links (and, unmanaged, of a hand-made one
// under a name this WAN uses: what adoption takes over), the main routing tables, the
// iptables and ip6tables rules of the filter and nat tables, the forwarding sysctl of each
// family the peer uses, and the WAN's BIRD
// (its state directory, and the bird binary when the peer needs it).
import { interfacesOf } from '../../domain/compiled.js';
import type { ActualResource } from '../../domain/plan.js';
import { readBird, readBirdBinary, type BirdOptions, type BirdPaths, type ConfigStore } from './bird.js';
import type { DesiredDeviceState } from '../driver.js';
import type { CommandRunner } from './exec.js';
import { parseAddresses, parseLinks, parseRoutes, type LinkInfo } from './ip-json.js';
import { listRulesCommand, parseIptablesRules, ruleId, type IptablesTable } from './iptables.js';
import { familiesOf, FORWARDING_SYSCTLS, isMeshplaneAlias, KIND, linuxInterfaceName, memberKey, routeId, rpFilterSysctl, splitMemberKey, type Family } from './names.js';
import { addressItem, desiredLinkAlias, runsBird } from './resources.js';
import { parseWgInterfaceDump, type WgInterfaceDump } from '../shared/wg-dump.js';

export interface ReadOptions {
  routeProtocol: number;
  manageFirewall: boolean;
  bird: { paths: BirdPaths; configs: ConfigStore; options: BirdOptions };
}

export async function readWgDump(runner: CommandRunner, ifname: string): Promise<WgInterfaceDump> {
  return parseWgInterfaceDump((await runner.run(['wg', 'show', linuxInterfaceName(ifname), 'dump'])).stdout);
}

/** Userspace interfaces of every namespace (their UAPI sockets share /var/run/wireguard) and kernel ones of this one. */
export async function wireguardNames(runner: CommandRunner): Promise<Set<string>> {
  const out = (await runner.run(['wg', 'show', 'interfaces'])).stdout;
  return new Set(out.split(/\s+/).filter(Boolean));
}

function linkResources(links: LinkInfo[], wgNames: Set<string>, dumps: Map<string, WgInterfaceDump>, managedNames: ReadonlySet<string>): ActualResource[] {
  const resources: ActualResource[] = [];
  const local = new Set(links.map((link) => link.name));
  for (const link of links) {
    const wireguard = link.kind === 'wireguard' || wgNames.has(link.name);
    const dump = dumps.get(link.name);
    if (!wireguard) {
      resources.push({ kind: KIND.link, id: link.name, key: null, props: { type: link.kind ?? 'unknown' } });
    } else if (dump) {
      const props: Record<string, string> = {
        type: 'wireguard',
        alias: link.alias ?? '',
        mtu: String(link.mtu),
        up: link.up ? 'yes' : 'no',
        'listen-port': String(dump.listenPort),
        'private-key': dump.privateKeyFingerprint ?? '(none)',
        'public-key': dump.publicKey ?? '(none)',
      };
      resources.push({ kind: KIND.link, id: link.name, key: managedNames.has(link.name) ? link.name : null, props });
    } else {
      resources.push({ kind: KIND.link, id: link.name, key: null, props: { type: 'wireguard', alias: link.alias ?? '', mtu: String(link.mtu) } });
    }
  }
  // Userspace interfaces living in other namespaces still own their name (the socket path).
  for (const name of wgNames) {
    if (!local.has(name)) resources.push({ kind: KIND.link, id: name, key: null, props: { type: 'wireguard', namespace: 'other' } });
  }
  return resources;
}

function peerResources(ifname: string, dump: WgInterfaceDump, managed: boolean): ActualResource[] {
  return dump.peers.map((peer) => {
    const key = memberKey(ifname, peer.publicKey);
    const props: Record<string, string> = {
      'allowed-ips': peer.allowedIps.join(','),
      'persistent-keepalive': peer.persistentKeepalive === null ? 'off' : String(peer.persistentKeepalive),
      'preshared-key': peer.presharedKeyFingerprint ?? '(none)',
      endpoint: peer.endpoint ?? '',
    };
    return { kind: KIND.peer, id: key, key: managed ? key : null, props };
  });
}

async function firewallResources(runner: CommandRunner, family: Family, prefix: string, isOurs: (ifname: string) => boolean): Promise<ActualResource[]> {
  const resources: ActualResource[] = [];
  for (const table of ['filter', 'nat'] as const satisfies readonly IptablesTable[]) {
    const rules = parseIptablesRules(table, (await runner.run(listRulesCommand(family, table))).stdout);
    for (const rule of rules) {
      const tagged = rule.comment !== null && rule.comment.startsWith(`${prefix}:`) ? rule.comment.slice(prefix.length + 1) : null;
      const key = tagged !== null && tagged.includes('/') && isOurs(splitMemberKey(tagged).ifname) ? tagged : null;
      resources.push({ kind: KIND.firewall, id: ruleId(family, table, rule.line), key, props: { family: String(family), table, chain: rule.chain, args: JSON.stringify(rule.args) } });
    }
  }
  return resources;
}

export async function readLinuxState(runner: CommandRunner, desired: DesiredDeviceState, options: ReadOptions): Promise<ActualResource[]> {
  const ifnames = new Set(interfacesOf(desired.peer).map((view) => linuxInterfaceName(view.interface.name)));
  const families = familiesOf(desired.peer);
  const alias = desiredLinkAlias(desired);
  const links = parseLinks((await runner.run(['ip', '-j', '-d', 'link', 'show'])).stdout);
  const wgNames = await wireguardNames(runner);
  const wireguard = links.filter((link) => link.kind === 'wireguard' || wgNames.has(link.name));
  const managed = wireguard.filter((link) => link.alias === alias);
  // A hand-made interface under one of this WAN's names is read too: it is what an adoption
  // takes over in place (adoption.ts), so its peers and addresses must be seen as they are.
  // Another WAN's interface is not: its keys are none of this deploy's business.
  // (A userspace one is a tun: a name shared with another namespace's socket is not enough.)
  const handMade = wireguard.filter((link) => ifnames.has(link.name) && (link.kind === 'wireguard' || link.kind === 'tun') && !isMeshplaneAlias(link.alias, desired.commentPrefix));
  const dumps = new Map<string, WgInterfaceDump>();
  for (const link of [...managed, ...handMade]) dumps.set(link.name, await readWgDump(runner, link.name));
  const managedNames = new Set(managed.map((link) => link.name));

  const resources = linkResources(links, wgNames, dumps, managedNames);
  // Read whatever the desired state: undo creates a deleted link again from this reading, and a link
  // of a WAN that had redundant hubs needs its loose rp_filter back even when the new state has none.
  for (const link of resources.filter((resource) => resource.kind === KIND.link && resource.key !== null)) {
    link.props['rp-filter'] = (await runner.run(['sysctl', '-n', rpFilterSysctl(link.id)])).stdout.trim();
  }
  for (const [name, dump] of dumps) resources.push(...peerResources(name, dump, managedNames.has(name)));

  // IPv6 is read for an IPv4-only peer too (what a dual-stack deployment left is still ours to
  // remove), but a host without IPv6 or ip6tables is no reason to fail a peer that needs neither.
  const read = <T>(family: Family, reading: () => Promise<T[]>): Promise<T[]> => (family === 4 || families.includes(6) ? reading() : reading().catch(() => []));

  for (const family of [4, 6] as const) {
    const addresses = await read(family, async () => parseAddresses((await runner.run(['ip', '-j', `-${family}`, 'addr', 'show'])).stdout));
    for (const address of addresses) {
      const ours = managedNames.has(address.ifname);
      const key = memberKey(address.ifname, address.peer === null ? address.cidr : addressItem(address.cidr, address.peer));
      resources.push({ kind: KIND.address, id: key, key: ours ? key : null, props: {} });
    }
  }

  const protocol = String(options.routeProtocol);
  for (const family of [4, 6] as const) {
    const routes = await read(family, async () => parseRoutes((await runner.run(['ip', '-j', `-${family}`, 'route', 'show', 'table', 'main'])).stdout, family));
    for (const route of routes) {
      // The prefix route the kernel adds for an address on our link (or the hand-made one read
      // for adoption) is part of that address: it comes and goes with it.
      if (route.protocol === 'kernel' && route.dev !== null && dumps.has(route.dev)) continue;
      const ours = route.protocol === protocol && route.dev !== null && managedNames.has(route.dev) && route.type === 'unicast';
      const props: Record<string, string> = { dev: route.dev ?? '', protocol: route.protocol, metric: String(route.metric) };
      if (route.gateway !== null) props.gateway = route.gateway;
      const id = routeId({ destination: route.destination, gateway: route.gateway, dev: route.dev ?? '', metric: route.metric });
      resources.push({ kind: KIND.route, id, key: ours ? route.destination : null, props });
    }
  }

  if (options.manageFirewall) {
    // Rules naming an interface that no longer exists at all are leftovers of ours only when it
    // is one of this WAN's interface names; a link of that name we do not manage belongs to someone else.
    const present = new Set(links.map((link) => link.name));
    const isOurs = (name: string): boolean => managedNames.has(name) || (ifnames.has(name) && !present.has(name));
    for (const family of [4, 6] as const) resources.push(...(await read(family, () => firewallResources(runner, family, desired.commentPrefix, isOurs))));
  }

  for (const family of families) {
    const sysctl = FORWARDING_SYSCTLS[family];
    resources.push({ kind: KIND.sysctl, id: sysctl, key: null, props: { value: (await runner.run(['sysctl', '-n', sysctl])).stdout.trim() } });
  }

  // Read whether or not the peer routes now: a daemon left from when it did is still ours to stop.
  const bird = readBird(options.bird.paths, options.bird.configs);
  if (bird) resources.push(bird);
  if (runsBird(desired)) resources.push(await readBirdBinary(runner, options.bird.options));
  return resources;
}
