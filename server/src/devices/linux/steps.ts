// Plan operations as commands (pure). A step is a command whose secret arguments are
// fingerprints, replaced by 0600 key files only when it runs, a link lifecycle step that
// link-lifecycle.ts carries out (kernel WireGuard or wireguard-go), or a BIRD step that
// bird.ts carries out (config file, daemon).
import { safeCidr, safeEndpoint, safeIp, safeKey } from '../../domain/render/safe-values.js';
import type { PlanOperation } from '../../domain/plan.js';
import { DeviceError } from '../driver.js';
import { deleteRuleCommand, iptablesCommand, parseRuleId, type IptablesTable } from './iptables.js';
import { FORWARDING_SYSCTLS, KIND, linuxInterfaceName, parseRouteId, rpFilterSysctl, splitMemberKey, type Family } from './names.js';
import { parseAddressItem } from './resources.js';

export type Arg = string | { secret: string };

export type Step =
  | { type: 'run'; argv: Arg[] }
  | { type: 'create-link'; ifname: string }
  | { type: 'delete-link'; ifname: string }
  /** Write the bird.conf whose text has this hash (bird.ts ConfigStore) to the config path. */
  | { type: 'bird-write'; config: string; hash: string }
  | { type: 'bird-start'; config: string }
  | { type: 'bird-reconfigure'; config: string }
  | { type: 'bird-stop'; config: string }
  /** Stop it and remove its whole directory. */
  | { type: 'bird-remove'; config: string };

export interface StepOptions {
  routeProtocol: number;
}

const run = (...argv: Arg[]): Step => ({ type: 'run', argv });

function linkSettings(ifname: string, props: Record<string, string>): Step[] {
  const steps: Step[] = [];
  if (props.alias !== undefined) steps.push(run('ip', 'link', 'set', 'dev', ifname, 'alias', props.alias));
  if (props.mtu !== undefined) steps.push(run('ip', 'link', 'set', 'dev', ifname, 'mtu', String(Number(props.mtu))));
  const rpFilter = props['rp-filter'];
  if (rpFilter !== undefined) {
    if (!/^[012]$/.test(rpFilter)) throw new DeviceError('PROTOCOL', `rp_filter must be 0, 1 or 2, got ${JSON.stringify(rpFilter)}`);
    // The "/" spelling: interface names may contain dots, which sysctl's dotted form would split.
    steps.push(run('sysctl', '-w', `${rpFilterSysctl(ifname)}=${rpFilter}`));
  }
  const wg: Arg[] = [];
  if (props['listen-port'] !== undefined) wg.push('listen-port', String(Number(props['listen-port'])));
  if (props['private-key'] !== undefined) wg.push('private-key', { secret: props['private-key'] });
  if (wg.length > 0) steps.push(run('wg', 'set', ifname, ...wg));
  if (props['public-key'] !== undefined) {
    throw new DeviceError('REFUSED', `${ifname}: the host's key does not match the peer's public key, and Meshplane does not hold the private key (bring-your-own key)`);
  }
  if (props.up === 'yes') steps.push(run('ip', 'link', 'set', 'dev', ifname, 'up'));
  return steps;
}

function linkSteps(operation: PlanOperation): Step[] {
  const ifname = linuxInterfaceName(operation.op === 'create' ? operation.key : operation.id);
  switch (operation.op) {
    case 'create':
      if (operation.props['private-key'] === undefined) {
        throw new DeviceError('REFUSED', `${ifname}: cannot create the interface without its private key (bring-your-own key): create it on the host first`);
      }
      // The alias goes on first, so an interface left half-configured is still recognised as ours.
      return [{ type: 'create-link', ifname }, ...linkSettings(ifname, operation.props)];
    case 'update':
      return linkSettings(ifname, operation.changes);
    case 'delete':
      return [{ type: 'delete-link', ifname }];
  }
}

function peerSettings(props: Record<string, string>): Arg[] {
  const args: Arg[] = [];
  const preshared = props['preshared-key'];
  if (preshared !== undefined) args.push('preshared-key', preshared === '(none)' ? '/dev/null' : { secret: preshared });
  if (props.endpoint !== undefined && props.endpoint !== '') {
    safeEndpoint(props.endpoint);
    args.push('endpoint', props.endpoint);
  }
  const keepalive = props['persistent-keepalive'];
  if (keepalive !== undefined) args.push('persistent-keepalive', keepalive === 'off' ? 'off' : String(Number(keepalive)));
  const allowed = props['allowed-ips'];
  if (allowed !== undefined) args.push('allowed-ips', allowed === '' ? '' : allowed.split(',').map(safeCidr).join(','));
  return args;
}

function peerSteps(operation: PlanOperation): Step[] {
  const { ifname, item } = splitMemberKey(operation.op === 'create' ? operation.key : operation.id);
  const target = ['wg', 'set', linuxInterfaceName(ifname), 'peer', safeKey(item)];
  switch (operation.op) {
    case 'create':
      return [run(...target, ...peerSettings(operation.props))];
    case 'update':
      // `wg set … peer` changes the peer in place: its session and counters survive.
      return [run(...target, ...peerSettings(operation.changes))];
    case 'delete':
      return [run(...target, 'remove')];
  }
}

function addressSteps(operation: PlanOperation): Step[] {
  const { ifname, item } = splitMemberKey(operation.op === 'create' ? operation.key : operation.id);
  const { cidr, peer } = parseAddressItem(item);
  const address = peer === null ? [cidr] : [cidr, 'peer', peer];
  switch (operation.op) {
    case 'create':
      return [run('ip', 'address', 'add', ...address, 'dev', linuxInterfaceName(ifname))];
    case 'delete':
      return [run('ip', 'address', 'del', ...address, 'dev', linuxInterfaceName(ifname))];
    case 'update':
      return []; // addresses have no properties: the key is all there is
  }
}

function routeSteps(operation: PlanOperation, options: StepOptions): Step[] {
  const proto = ['proto', String(options.routeProtocol)];
  switch (operation.op) {
    case 'create':
      return [run('ip', 'route', 'add', safeCidr(operation.key), 'dev', linuxInterfaceName(operation.props.dev ?? ''), ...proto)];
    case 'update': {
      if (operation.key === null) throw new DeviceError('REFUSED', `Meshplane does not change unmanaged routes (${operation.id})`);
      // `ip route replace` changes the route that has this destination and metric in place,
      // atomically: no packet finds the table without it. So the same command moves our route
      // to another interface, and adopts a hand-made one by writing our protocol onto it (its
      // gateway kept). Another metric would be another route beside it, hence the read one.
      const route = parseRouteId(operation.id);
      if (route.destination !== safeCidr(operation.key)) throw new DeviceError('PROTOCOL', `route ${operation.id} is not one to ${operation.key}`);
      const dev = operation.changes.dev ?? route.dev;
      const via = route.gateway === null || operation.changes.dev !== undefined ? [] : ['via', safeIp(route.gateway)];
      return [run('ip', 'route', 'replace', route.destination, ...via, 'dev', linuxInterfaceName(dev), ...proto, 'metric', String(route.metric))];
    }
    case 'delete':
      return [run('ip', 'route', 'del', safeCidr(operation.key), 'dev', linuxInterfaceName(operation.props.dev ?? ''), ...proto)];
  }
}

function table(value: string | undefined): IptablesTable {
  if (value !== 'filter' && value !== 'nat') throw new DeviceError('PROTOCOL', `unexpected iptables table ${JSON.stringify(value)}`);
  return value;
}

const CHAINS = new Set(['INPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

function chain(value: string | undefined): string {
  if (value === undefined || !CHAINS.has(value)) throw new DeviceError('PROTOCOL', `unexpected iptables chain ${JSON.stringify(value)}`);
  return value;
}

/** A rule planned before rules had a family is an iptables one. */
function family(value: string | undefined): Family {
  if (value === undefined) return 4;
  if (value !== '4' && value !== '6') throw new DeviceError('PROTOCOL', `unexpected address family ${JSON.stringify(value)}`);
  return Number(value) as Family;
}

function firewallSteps(operation: PlanOperation): Step[] {
  switch (operation.op) {
    case 'create': {
      const args = JSON.parse(operation.props.args ?? '[]') as unknown;
      if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) throw new DeviceError('PROTOCOL', 'firewall rule arguments must be strings');
      return [run(...iptablesCommand(family(operation.props.family), table(operation.props.table), '-I', chain(operation.props.chain), args))];
    }
    case 'delete': {
      const rule = parseRuleId(operation.id);
      return [run(...deleteRuleCommand(rule.family, rule.table, rule.line))];
    }
    case 'update':
      // The key carries the rule's digest, so a changed rule is a new key, never an update.
      throw new DeviceError('PROTOCOL', `firewall rules are replaced, not updated (${operation.id})`);
  }
}

const FORWARDING = new Set(Object.values(FORWARDING_SYSCTLS));

function sysctlSteps(operation: PlanOperation): Step[] {
  if (operation.op !== 'update' || !FORWARDING.has(operation.id) || !/^[01]$/.test(operation.changes.value ?? '')) {
    throw new DeviceError('PROTOCOL', `unsupported sysctl operation on ${operation.op === 'create' ? operation.key : operation.id}`);
  }
  return [run('sysctl', '-w', `${operation.id}=${operation.changes.value}`)];
}

const HASH = /^sha256:[0-9a-f]{16}$/;

function configHashOf(value: string | undefined): string {
  if (value === undefined || !HASH.test(value)) throw new DeviceError('PROTOCOL', `not a bird.conf hash: ${JSON.stringify(value)}`);
  return value;
}

/**
 * The daemon: a changed config is written, then loaded — by starting BIRD when it does not
 * run, by reconfiguring it when it does — and `running: no` (an undo) stops it. Writing the
 * file alone is never the end of a step while BIRD runs: it must not run a config other
 * than the one on disk.
 */
function birdSteps(operation: PlanOperation): Step[] {
  const config = operation.op === 'create' ? operation.key : operation.id;
  if (operation.op === 'delete') return [{ type: 'bird-remove', config }];
  const changes = operation.op === 'create' ? operation.props : operation.changes;
  const steps: Step[] = [];
  if (changes.config !== undefined && changes.config !== '(none)') steps.push({ type: 'bird-write', config, hash: configHashOf(changes.config) });
  if (changes.running === 'no') return [...steps, { type: 'bird-stop', config }];
  if (changes.running === 'yes') return [...steps, { type: 'bird-start', config }];
  if (operation.op === 'update' && (changes.config !== undefined || changes.loaded !== undefined)) steps.push({ type: 'bird-reconfigure', config });
  return steps;
}

export function stepsFor(operation: PlanOperation, options: StepOptions): Step[] {
  switch (operation.kind) {
    case KIND.link:
      return linkSteps(operation);
    case KIND.peer:
      return peerSteps(operation);
    case KIND.address:
      return addressSteps(operation);
    case KIND.route:
      return routeSteps(operation, options);
    case KIND.firewall:
      return firewallSteps(operation);
    case KIND.sysctl:
      return sysctlSteps(operation);
    case KIND.bird:
      return birdSteps(operation);
    default:
      throw new DeviceError('PROTOCOL', `the Linux driver has no resource kind ${JSON.stringify(operation.kind)}`);
  }
}
