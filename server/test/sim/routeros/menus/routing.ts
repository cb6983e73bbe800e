// The RouterOS v7 routing menus a WAN with redundant hubs uses: `/routing/bgp/connection`,
// the read-only `/routing/bgp/session`, `/routing/filter/rule` and
// `/routing/bfd/configuration`. Properties, value formats and defaults follow MikroTik's v7
// documentation (help.mikrotik.com "BGP", "Route Selection and Filters", "BFD"); only the
// properties listed here exist, so anything else is `unknown parameter`, as on a router.
// Trap texts not captured from a router are marked "unverified" in trap.ts terms.
import { isIpAddress, withMask } from '../ip-prefix.js';
import type { Row } from '../query.js';
import { RouterOsTrap, traps } from '../trap.js';
import { formatDuration, parseDuration } from '../values.js';
import { bool, comment, disabled, firstFreeName, integer, oneOf, text } from './properties.js';
import type { Item, MenuContext, MenuSpec, PropertySpec } from './types.js';

export const BGP_CONNECTION = '/routing/bgp/connection';
export const BGP_SESSION = '/routing/bgp/session';
export const ROUTING_FILTER_RULE = '/routing/filter/rule';
export const BFD_CONFIGURATION = '/routing/bfd/configuration';

const ROLES = ['ebgp', 'ebgp-customer', 'ebgp-peer', 'ebgp-provider', 'ebgp-rs', 'ebgp-rs-client', 'ibgp', 'ibgp-rr', 'ibgp-rr-client'];
/** `address-families`: what a connection exchanges; `ipv6` for IPv6 unicast [terraform-provider-routeros resource_bgp_connection.go]. */
const ADDRESS_FAMILIES = ['ip', 'ipv6', 'l2vpn', 'l2vpn-cisco', 'vpnv4'];
const REDISTRIBUTE = ['bgp', 'bgp-mpls-vpn', 'connected', 'dhcp', 'fantasy', 'modem', 'ospf', 'rip', 'static', 'vpn'];

/** Session state tests set (`RouterOsModel.setBgpSession`), kept on the connection row. */
export interface BgpSessionRuntime {
  /** Model-clock milliseconds since the session is established; undefined while it is not. */
  establishedAt?: number;
}

/** AS numbers: AS-plain 0..4294967295 (AS-dot `x.y` is read as x * 65536 + y). */
const asNumber: PropertySpec = {
  parse(value, name) {
    const v = value.trim();
    const dot = /^(\d{1,5})\.(\d{1,5})$/.exec(v);
    const n = dot ? Number(dot[1]) * 65536 + Number(dot[2]) : /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
    if (Number.isNaN(n)) throw traps.invalidValue(name, value);
    if (n > 4_294_967_295) throw traps.outOfRange(name, 0, 4_294_967_295);
    return String(n);
  },
};

const address: PropertySpec = {
  parse(value, name) {
    if (!isIpAddress(value.trim())) throw traps.invalidValue(name, value);
    return value.trim();
  },
};

/** remote.address: an address, or a prefix to accept connections from (printed as written). */
const remoteAddress: PropertySpec = {
  parse(value, name) {
    const v = value.trim();
    if (!isIpAddress(v) && withMask(v) === undefined) throw traps.invalidValue(name, value);
    return v;
  },
};

/** hold-time: `infinity` or 3 s to 1 h. */
const holdTime: PropertySpec = {
  parse(value, name) {
    if (value.trim() === 'infinity') return 'infinity';
    const seconds = parseDuration(value);
    if (seconds === undefined) throw traps.invalidValue(name, value);
    if (seconds < 3 || seconds > 3600) throw traps.outOfRange(name, 3, 3600);
    return formatDuration(seconds);
  },
};

const keepaliveTime: PropertySpec = {
  parse(value, name) {
    const seconds = parseDuration(value);
    if (seconds === undefined) throw traps.invalidValue(name, value);
    if (seconds > 3600) throw traps.outOfRange(name, 0, 3600);
    return formatDuration(seconds);
  },
};

/** A comma list of members of `values`; empty clears it. */
function optionalListOf(values: readonly string[]): PropertySpec {
  return {
    parse(value, name) {
      const members = value.split(',').map((m) => m.trim()).filter((m) => m !== '');
      if (members.some((m) => !values.includes(m))) throw traps.noMatch(name);
      return members.join(',');
    },
  };
}

/** BFD intervals: `200ms`, `1s`, a bare number of milliseconds; printed as `200ms` / `1s`. */
function interval(minMs: number, maxMs: number): PropertySpec {
  return {
    parse(value, name) {
      const v = value.trim();
      const match = /^(?:(\d+)s)?(?:(\d+)ms)?$/.exec(v);
      const bare = /^\d+$/.test(v) ? Number(v) : undefined;
      if (v === '' || (!match && bare === undefined)) throw traps.invalidValue(name, value);
      const ms = bare ?? Number(match![1] ?? 0) * 1000 + Number(match![2] ?? 0);
      if (ms < minMs || ms > maxMs) throw traps.outOfRange(name, minMs, maxMs);
      return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
    },
  };
}

/** A comma list of existing interface names (or `all`), as BFD's `interfaces`. */
const interfaceList: PropertySpec = {
  interfaceReference: true,
  parse(value, name, ctx) {
    const members = value.split(',').map((m) => m.trim()).filter((m) => m !== '');
    const known = new Set(ctx.interfaceNames());
    if (members.some((m) => m !== 'all' && !known.has(m))) throw traps.noMatch(name);
    return members.join(',');
  },
};

/** The properties that are set (an empty list prints as absent), the comment last, then `inactive`. */
function renderSetProperties(item: Item): Row {
  const row: Record<string, string> = {};
  for (const [key, value] of Object.entries(item.props)) if (value !== '' && key !== 'comment') row[key] = value;
  if (item.props.comment) row.comment = item.props.comment;
  row.inactive = 'false';
  return row;
}

export const bgpConnections: MenuSpec = {
  path: BGP_CONNECTION,
  kind: 'table',
  nameKey: 'name',
  required: ['as', 'local.role'],
  properties: {
    name: text(),
    'address-families': optionalListOf(ADDRESS_FAMILIES),
    as: asNumber,
    'router-id': text(),
    'local.role': oneOf(ROLES),
    'local.address': address,
    'local.port': integer(1, 65535),
    'remote.address': remoteAddress,
    'remote.as': asNumber,
    'remote.port': integer(1, 65535),
    multihop: bool(),
    'use-bfd': bool(),
    'hold-time': holdTime,
    'keepalive-time': keepaliveTime,
    'nexthop-choice': oneOf(['default', 'force-self', 'propagate']),
    'input.filter': text(),
    'output.filter-chain': text(),
    'output.network': text(),
    'output.redistribute': optionalListOf(REDISTRIBUTE),
    connect: bool(),
    listen: bool(),
    templates: text(),
    'routing-table': oneOf(['main']),
    vrf: oneOf(['main']),
    comment: comment(),
    disabled: disabled(),
  },
  defaults: (props, ctx) => ({
    name: props.name ?? firstFreeName(ctx.items(BGP_CONNECTION).map((item) => item.props.name), 'bgp'),
    'address-families': 'ip',
    connect: 'true',
    listen: 'true',
    multihop: 'false',
    'use-bfd': 'false',
    'hold-time': '3m',
    'nexthop-choice': 'default',
    disabled: 'false',
  }),
  check(props, self, ctx) {
    if (ctx.items(BGP_CONNECTION).some((other) => other !== self && other.props.name === props.name)) throw traps.nameExists();
  },
  render: renderSetProperties,
};

/**
 * One session per enabled connection (named `<connection>-1`), established or not as tests
 * set it (`setBgpSession`, by the far end's address of either family): a monitor reads which
 * neighbours are up here. An IPv6 connection's session is listed like an IPv4 one.
 */
export const bgpSessions: MenuSpec = {
  path: BGP_SESSION,
  kind: 'table',
  readOnly: true,
  properties: {},
  derive(ctx) {
    return ctx.items(BGP_CONNECTION).filter((item) => item.props.disabled !== 'true');
  },
  render(item: Item, ctx: MenuContext): Row {
    const p = item.props;
    const establishedAt = (item.runtime as BgpSessionRuntime).establishedAt;
    return {
      name: `${p.name}-1`,
      'remote.address': (p['remote.address'] ?? '').replace(/\/(32|128)$/, ''),
      'address-families': p['address-families']!,
      ...(p['remote.as'] ? { 'remote.as': p['remote.as'] } : {}),
      'local.role': p['local.role']!,
      ...(p['local.address'] ? { 'local.address': p['local.address'] } : {}),
      'local.as': p.as!,
      established: establishedAt === undefined ? 'false' : 'true',
      ...(establishedAt === undefined ? {} : { uptime: formatDuration((ctx.now() - establishedAt) / 1000) }),
      ...(p['use-bfd'] === 'true' ? { 'use-bfd': 'true' } : {}),
    };
  },
};

// ---- routing filter rules: the subset of the rule language the menus are checked against ----

const NUMERIC = ['dst-len', 'bgp-path-len', 'bgp-local-pref', 'bgp-med', 'distance', 'bgp-weight'];
const WRITABLE = ['bgp-local-pref', 'bgp-med', 'distance', 'bgp-weight', 'bgp-path-prepend', 'gw', 'pref-src', 'scope', 'target-scope'];

/** Unverified text: RouterOS refuses an unparsable rule on add; the capture was not found. */
function syntaxError(detail: string): RouterOsTrap {
  return new RouterOsTrap('INVALID_VALUE', `syntax error: ${detail}`, 1);
}

class RuleParser {
  private readonly tokens: string[];
  private at = 0;

  constructor(text: string) {
    this.tokens = text.match(/&&|\|\||==|!=|>=|<=|[(){};<>!]|[^\s(){};<>!=&|]+/g) ?? [];
  }

  parse(): void {
    this.statements(null);
    if (this.at < this.tokens.length) throw syntaxError(`unexpected ${this.tokens[this.at]}`);
  }

  private peek(): string | undefined {
    return this.tokens[this.at];
  }

  private take(expected?: string): string {
    const token = this.tokens[this.at];
    if (token === undefined) throw syntaxError('unexpected end of rule');
    if (expected !== undefined && token !== expected) throw syntaxError(`expected ${expected} near ${token}`);
    this.at += 1;
    return token;
  }

  private statements(end: string | null): void {
    while (this.peek() !== undefined && this.peek() !== end) {
      this.statement();
      if (this.peek() === ';') this.take(';');
    }
  }

  private block(): void {
    this.take('{');
    this.statements('}');
    this.take('}');
  }

  private statement(): void {
    const word = this.take();
    if (word === 'if') {
      this.take('(');
      this.condition();
      this.take(')');
      this.block();
      if (this.peek() === 'else') {
        this.take('else');
        this.block();
      }
      return;
    }
    if (word === 'accept' || word === 'reject' || word === 'return') return;
    if (word === 'jump') return void this.take();
    if (word === 'set') {
      const property = this.take();
      if (!WRITABLE.includes(property)) throw syntaxError(`unknown property ${property}`);
      this.take();
      return;
    }
    throw syntaxError(`unknown action ${word}`);
  }

  private condition(): void {
    this.term();
    while (this.peek() === '&&' || this.peek() === '||') {
      this.take();
      this.term();
    }
  }

  private term(): void {
    if (this.peek() === '!') this.take('!');
    if (this.peek() === '(') {
      this.take('(');
      this.condition();
      this.take(')');
      return;
    }
    const property = this.take();
    if (property === 'dst') {
      const operator = this.take();
      const operand = this.take();
      if (operator !== 'in' && operator !== '==') throw syntaxError(`dst ${operator}`);
      // A prefix, or (with `in`) an address list's name.
      if (withMask(operand) === undefined && (operator === '==' || !/^[A-Za-z0-9_.-]+$/.test(operand))) throw syntaxError(`bad prefix ${operand}`);
      return;
    }
    if (NUMERIC.includes(property)) {
      const operator = this.take();
      if (!['==', '!=', '<', '>', '<=', '>='].includes(operator)) throw syntaxError(`${property} ${operator}`);
      if (!/^\d+$/.test(this.take())) throw syntaxError(`${property} needs a number`);
      return;
    }
    if (property === 'protocol') return void this.take();
    throw syntaxError(`unknown property ${property}`);
  }
}

const ruleText: PropertySpec = {
  parse(value) {
    new RuleParser(value).parse();
    return value;
  },
};

export const routingFilterRules: MenuSpec = {
  path: ROUTING_FILTER_RULE,
  kind: 'table',
  ordered: true,
  required: ['chain', 'rule'],
  properties: { chain: text(), rule: ruleText, comment: comment(), disabled: disabled() },
  defaults: () => ({ disabled: 'false' }),
  render(item: Item): Row {
    const p = item.props;
    return { chain: p.chain!, rule: p.rule!, ...(p.comment ? { comment: p.comment } : {}), disabled: p.disabled!, inactive: 'false', dynamic: 'false' };
  },
};

export const bfdConfiguration: MenuSpec = {
  path: BFD_CONFIGURATION,
  kind: 'table',
  ordered: true,
  properties: {
    interfaces: interfaceList,
    addresses: text(),
    'address-list': text(),
    'min-rx': interval(10, 60_000),
    'min-tx': interval(10, 60_000),
    multiplier: integer(1, 255),
    'forbid-bfd': bool(),
    vrf: oneOf(['main']),
    comment: comment(),
    disabled: disabled(),
  },
  defaults: () => ({ 'min-rx': '200ms', 'min-tx': '200ms', multiplier: '5', 'forbid-bfd': 'false', vrf: 'main', disabled: 'false' }),
  render: renderSetProperties,
};
