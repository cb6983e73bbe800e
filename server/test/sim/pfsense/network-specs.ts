// Interface assignment, gateways, static routes, firewall rules and 1:1 NAT: the fields
// a WireGuard overlay needs (pfsense.md §3). Unknown input fields are ignored, as pfSense does.
import { ApiError } from './envelope.js';
import { invalid, type ModelSpec } from './fields.js';
import { canonicalCidr } from '../../../src/domain/ip.js';
import { addressFamily, requireCidr, requireIp, requirePort, subnetFamily } from './validators.js';

const FILTER_NAME = /^[A-Za-z0-9_]+$/;

function requireFilterName(field: string, value: unknown): void {
  const text = String(value);
  if (!FILTER_NAME.test(text) || /^\d+$/.test(text) || text.startsWith('pkg_')) {
    throw invalid('FILTER_NAME_VALIDATOR_FAILED', `Field '${field}' may only contain letters, digits and underscores and must not be numeric. Received '${text}'.`);
  }
}

export const interfaceSpec: ModelSpec = {
  name: 'NetworkInterface',
  subsystem: 'interfaces',
  fields: {
    if: {
      type: 'string',
      required: true,
      unique: true,
      maxLength: 128,
      check: (value, ctx) => {
        if (!ctx.env.state.availablePorts().includes(String(value))) {
          throw invalid('FIELD_INVALID_CHOICE', `Field 'if' must be one of [${ctx.env.state.availablePorts().join(', ')}]. Received '${String(value)}'.`);
        }
      },
    },
    descr: {
      type: 'string',
      required: true,
      unique: true,
      maxLength: 128,
      check: (value, ctx) => {
        requireFilterName('descr', value);
        if (String(value) === 'WireGuard') throw invalid('FILTER_NAME_VALIDATOR_FAILED', 'Field `descr` cannot be the name of an interface group.');
        const clash = ctx.siblings.find(([id]) => id !== ctx.selfId && String(id).toLowerCase() === String(value).toLowerCase());
        if (clash) throw invalid('FIELD_MUST_BE_UNIQUE', `Field 'descr' is in use by interface '${String(clash[0])}'.`);
      },
    },
    enable: { type: 'boolean', default: false },
    typev4: { type: 'string', required: true, choices: ['static', 'dhcp', 'none'] },
    ipaddr: { type: 'string', required: true, when: (obj) => obj.typev4 === 'static', check: (value) => requireIp('ipaddr', value, false, 4) },
    subnet: { type: 'integer', required: true, min: 1, max: 32, when: (obj) => obj.typev4 === 'static' },
    gateway: { type: 'string', nullable: true, default: null, when: (obj) => obj.typev4 === 'static' },
    typev6: { type: 'string', nullable: true, default: 'none', choices: ['staticv6', 'dhcp6', 'slaac', '6rd', 'track6', '6to4', 'none'] },
    // An address for staticv6, the type's own keyword for the dynamic types (validate_ipaddrv6()).
    ipaddrv6: {
      type: 'string',
      required: true,
      when: (obj) => typeof obj.typev6 === 'string' && obj.typev6 !== 'none',
      check: (value, _ctx, obj) => {
        if (obj.typev6 !== 'staticv6') {
          if (value !== obj.typev6) throw invalid(`INTERFACE_IPADDRV6_IS_${String(obj.typev6).toUpperCase()}_WITH_NON_${String(obj.typev6).toUpperCase()}_TYPEV6`, `Interface \`ipaddrv6\` must be \`${String(obj.typev6)}\` when \`typev6\` is \`${String(obj.typev6)}\``);
          return;
        }
        requireIp('ipaddrv6', value, false, 6);
      },
    },
    subnetv6: { type: 'integer', required: true, min: 1, max: 128, when: (obj) => obj.typev6 === 'staticv6' },
    gatewayv6: { type: 'string', nullable: true, default: null, when: (obj) => obj.typev6 === 'staticv6' },
    mtu: { type: 'integer', nullable: true, default: null, min: 1280, max: 8192 },
    blockpriv: { type: 'boolean', default: false },
    blockbogons: { type: 'boolean', default: false },
  },
  // validate_ipaddr() and validate_ipaddrv6(), in pfrest's field order (ipaddr first): each
  // asks where_is_ipaddr_configured($ip, $this->id, true, true, $prefix) of the saved config, so
  // an address another enabled interface has, or whose network overlaps one, is refused.
  check: (obj, ctx) => {
    const self = ctx.selfId === null ? undefined : String(ctx.selfId);
    if (obj.typev4 === 'static' && ctx.env.state.addressInUse(String(obj.ipaddr), Number(obj.subnet), { iface: self })) {
      throw invalid('INTERFACE_IPADDR_ALREADY_IN_USE', `Interface \`ipaddr\` cannot use '${String(obj.ipaddr)}' because it is currently in use`);
    }
    if (obj.typev6 === 'staticv6' && ctx.env.state.addressInUse(String(obj.ipaddrv6), Number(obj.subnetv6), { iface: self })) {
      throw invalid('INTERFACE_IPADDRV6_ALREADY_IN_USE', `Interface \`ipaddrv6\` cannot use '${String(obj.ipaddrv6)}' because it is currently in use`);
    }
  },
};

export const gatewaySpec: ModelSpec = {
  name: 'RoutingGateway',
  subsystem: 'staticroutes',
  fields: {
    name: { type: 'string', required: true, unique: true, editable: false, maxLength: 31, check: (value) => requireFilterName('name', value) },
    descr: { type: 'string', default: '', maxLength: 1024 },
    disabled: { type: 'boolean', default: false },
    ipprotocol: { type: 'string', required: true, choices: ['inet', 'inet6'] },
    interface: {
      type: 'string',
      required: true,
      iface: true,
      check: (value) => {
        if (value === 'any') throw invalid('FIELD_INVALID_CHOICE', 'Field `interface` must be a configured interface.');
      },
    },
    gateway: { type: 'string', required: true, check: (value) => { if (value !== 'dynamic') requireIp('gateway', value); } },
    monitor: { type: 'string', nullable: true, default: null, check: (value) => requireIp('monitor', value) },
    monitor_disable: { type: 'boolean', default: false },
    weight: { type: 'integer', default: 1, min: 1, max: 30 },
    nonlocalgateway: { type: 'boolean', default: true },
    action_disable: { type: 'boolean', default: false },
    force_down: { type: 'boolean', default: false },
    // dpinger's settings, with RoutingGateway.inc's defaults and cross-checks.
    latencylow: { type: 'integer', default: 200, min: 1 },
    latencyhigh: { type: 'integer', default: 500, min: 2 },
    losslow: { type: 'integer', default: 10, min: 1, max: 99 },
    losshigh: { type: 'integer', default: 20, min: 2, max: 100 },
    interval: { type: 'integer', default: 500, min: 1, max: 3_600_000 },
    loss_interval: { type: 'integer', default: 2000, min: 1 },
    time_period: { type: 'integer', default: 60000, min: 1 },
    alert_interval: { type: 'integer', default: 1000, min: 1 },
  },
  uniqueTogether: ['interface', 'ipprotocol', 'gateway'],
  check: (obj, ctx) => {
    if (obj.ipprotocol === 'inet' && !ctx.env.state.interfaceHasIpv4(String(obj.interface))) {
      throw invalid('ROUTING_GATEWAY_INTERFACE_HAS_NO_IPV4', 'Field `interface` must be an interface with an existing IPv4 address when `ipprotocol` is set to `inet`');
    }
    if (obj.ipprotocol === 'inet6' && !ctx.env.state.interfaceHasIpv6(String(obj.interface))) {
      throw invalid('ROUTING_GATEWAY_INTERFACE_HAS_NO_IPV6', 'Field `interface` must be an interface with an existing IPv6 address when `ipprotocol` is set to `inet6`');
    }
    const family = addressFamily(String(obj.gateway));
    if (obj.ipprotocol === 'inet' && family !== 4 && obj.gateway !== 'dynamic') {
      throw invalid('ROUTING_GATEWAY_NO_IPV6_WITH_INET', 'Field `gateway` must be an IPv4 address when `ipprotocol` is set to `inet`');
    }
    if (obj.ipprotocol === 'inet6' && family !== 6 && obj.gateway !== 'dynamic') {
      throw invalid('ROUTING_GATEWAY_NO_IPV4_WITH_INET6', 'Field `gateway` must be an IPv6 address when `ipprotocol` is set to `inet6`');
    }
    const n = (name: string) => Number(obj[name]);
    if (n('latencylow') > n('latencyhigh')) throw invalid('ROUTING_GATEWAY_WITH_LATENCY_LOW_GREATER_THAN_HIGH', 'Routing gateway `latencyhigh` must be greater than `latencylow`.');
    if (n('losslow') > n('losshigh')) throw invalid('ROUTING_GATEWAY_WITH_LOSS_LOW_GREATER_THAN_HIGH', 'Routing gateway `losshigh` must be greater than `losslow`.');
    if (n('latencyhigh') > n('loss_interval')) {
      throw invalid('ROUTING_GATEWAY_WITH_LOSS_INTERVAL_GREATER_THAN_LATENCY_HIGH', 'Routing gateway `loss_interval` must be greater than or equal to `latencyhigh`.');
    }
    if (n('time_period') <= 2 * n('interval') + n('loss_interval')) {
      throw invalid('ROUTING_GATEWAY_TIME_PERIOD_UNDER_MINIMUM', 'Routing gateway `time_period` must be greater than twice the `interval` value plus the `loss_interval` value.');
    }
    if (n('alert_interval') <= n('interval')) {
      throw invalid('ROUTING_GATEWAY_ALERT_INTERVAL_UNDER_MINIMUM', 'Routing gateway `alert_interval` must be greater than or equal to the `interval`.');
    }
  },
};

/** One member of a gateway group, stored in the group as pfSense keeps it ("name|tier|vip"). */
export const gatewayGroupPrioritySpec: ModelSpec = {
  name: 'RoutingGatewayGroupPriority',
  fields: {
    gateway: {
      type: 'string',
      required: true,
      unique: true,
      check: (value, ctx) => {
        if (!ctx.env.state.gatewayNames().includes(String(value))) {
          throw invalid('FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND', `Field 'gateway' could not locate 'Routing Gateway' object with 'name' set to '${String(value)}'`, 404);
        }
      },
    },
    tier: { type: 'integer', required: true, min: 1, max: 5 },
    virtual_ip: { type: 'string', default: 'address' },
  },
};

export const gatewayGroupSpec: ModelSpec = {
  name: 'RoutingGatewayGroup',
  subsystem: 'staticroutes',
  fields: {
    name: { type: 'string', required: true, unique: true, editable: false, maxLength: 31, check: (value) => requireFilterName('name', value) },
    trigger: { type: 'string', default: 'down', choices: ['down', 'downloss', 'downlatency', 'downlosslatency'] },
    descr: { type: 'string', default: '', maxLength: 255 },
    priorities: { type: 'nested', required: true, item: gatewayGroupPrioritySpec },
  },
  check: (obj) => {
    if (!Array.isArray(obj.priorities) || obj.priorities.length === 0) throw invalid('FIELD_IS_REQUIRED', "Field 'priorities' is required.");
  },
};

/** Static routes and policy-routing rules name a gateway or a gateway group. */
function requireGatewayOrGroup(value: unknown, state: { gatewayNames(): string[]; groupNames(): string[] }): void {
  if (!state.gatewayNames().includes(String(value)) && !state.groupNames().includes(String(value))) {
    throw invalid('FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND', `Field 'gateway' could not locate 'Routing Gateway' object with 'name' set to '${String(value)}'`, 404);
  }
}

export const staticRouteSpec: ModelSpec = {
  name: 'StaticRoute',
  subsystem: 'staticroutes',
  fields: {
    network: {
      type: 'string',
      required: true,
      check: (value, ctx) => {
        requireCidr('network', value);
        const conflict = ctx.env.state.routeConflict(String(value));
        if (conflict) {
          throw invalid(`STATIC_ROUTE_CONFLICTS_WITH_IPV${conflict.family}_INTERFACE`, `Destination network \`${String(value)}\` conflicts with the IP address of interface with ID \`${conflict.id}\``);
        }
      },
    },
    gateway: {
      type: 'string',
      required: true,
      // pfrest accepts a group (ForeignModelField over RoutingGateway and RoutingGatewayGroup),
      // though pfSense's system_staticroutes_configure() installs routes through gateways only.
      check: (value, ctx) => requireGatewayOrGroup(value, ctx.env.state),
    },
    descr: { type: 'string', default: '', maxLength: 1024 },
    disabled: { type: 'boolean', default: false },
  },
  // validate_gateway(): a gateway's family must be the network's (a group has no family to
  // compare); validate_disabled(): a route through a disabled gateway must be disabled too.
  check: (obj, ctx) => {
    const protocol = ctx.env.state.gatewayProtocol(String(obj.gateway));
    const family = subnetFamily(String(obj.network));
    if (protocol === 'inet' && family !== 4) {
      throw invalid('STATIC_ROUTE_NON_IPV4_NETWORK_WITH_IPV4_GATEWAY', 'Cannot assign non-IPv4 `network` to IPv4 `gateway`.');
    }
    if (protocol === 'inet6' && family !== 6) {
      throw invalid('STATIC_ROUTE_NON_IPV6_NETWORK_WITH_IPV6_GATEWAY', 'Cannot assign non-IPv6 `network` to IPv6 `gateway`.');
    }
    if (ctx.env.state.gatewayDisabled(String(obj.gateway)) && obj.disabled !== true) {
      throw invalid('STATIC_ROUTE_GATEWAY_DISABLED', 'Static route must also be `disabled` when the parent gateway is `disabled`.');
    }
  },
  // The network is stored as its network address (gen_subnet / gen_subnetv6).
  finish: (obj) => {
    obj.network = canonicalCidr(String(obj.network)) ?? obj.network;
  },
};

function requireFilterAddress(field: string, value: unknown): void {
  const text = String(value).replace(/^!/, '');
  if (['any', '(self)', 'l2tp', 'pppoe'].includes(text) || addressFamily(text) !== null || /^[A-Za-z0-9_]+(:ip)?$/.test(text)) return;
  requireCidr(field, text);
}

const PROTOCOLS = ['tcp', 'udp', 'tcp/udp', 'icmp', 'esp', 'ah', 'gre', 'ipv6', 'igmp', 'pim', 'ospf', 'carp', 'pfsync'] as const;
const hasPorts = (obj: Record<string, unknown>) => obj.protocol === 'tcp' || obj.protocol === 'udp' || obj.protocol === 'tcp/udp';

export const firewallRuleSpec: ModelSpec = {
  name: 'FirewallRule',
  fields: {
    type: { type: 'string', required: true, choices: ['pass', 'block', 'reject'] },
    interface: { type: 'strings', required: true, iface: true },
    ipprotocol: { type: 'string', required: true, choices: ['inet', 'inet6', 'inet46'] },
    protocol: { type: 'string', nullable: true, default: null, choices: PROTOCOLS },
    source: { type: 'string', required: true, check: (value) => requireFilterAddress('source', value) },
    source_port: { type: 'string', nullable: true, default: null, when: hasPorts },
    destination: { type: 'string', required: true, check: (value) => requireFilterAddress('destination', value) },
    destination_port: {
      type: 'string',
      nullable: true,
      default: null,
      when: hasPorts,
      check: (value) => String(value).split(':').forEach((part) => requirePort('destination_port', part)),
    },
    descr: { type: 'string', default: '', maxLength: 1024 },
    disabled: { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
    statetype: { type: 'string', default: 'keep state', choices: ['keep state', 'sloppy state', 'synproxy state', 'none'] },
    gateway: { type: 'string', nullable: true, default: null, check: (value, ctx) => requireGatewayOrGroup(value, ctx.env.state) },
    floating: { type: 'boolean', default: false, editable: false },
    quick: { type: 'boolean', default: false },
    direction: { type: 'string', nullable: true, default: null, choices: ['any', 'in', 'out'], when: (obj) => obj.floating === true },
    tracker: { type: 'integer', readOnly: true, defaultFrom: () => 1_700_000_000 + Math.floor(Math.random() * 1_000_000_000) },
  },
  check: (obj) => {
    if (Array.isArray(obj.interface) && obj.interface.length > 1 && obj.floating !== true) {
      throw invalid('FIREWALL_RULE_MULTIPLE_INTERFACE_WITHOUT_FLOATING', 'Rules with more than one interface must be floating.');
    }
  },
};

/**
 * A FilterAddressField value of the wrong family for `ipprotocol`: an address or a subnet
 * (after a leading "!"), named as OneToOneNATMapping's validate_source/destination() do.
 */
function familyMismatch(ipprotocol: unknown, value: unknown): 'IP' | 'SUBNET' | null {
  const text = String(value).replace(/^!/, '');
  const wanted = ipprotocol === 'inet6' ? 6 : 4;
  const address = addressFamily(text);
  if (address !== null) return address === wanted ? null : 'IP';
  const subnet = subnetFamily(text);
  return subnet !== null && subnet !== wanted ? 'SUBNET' : null;
}

export const oneToOneSpec: ModelSpec = {
  name: 'OneToOneNATMapping',
  subsystem: 'natconf',
  fields: {
    interface: { type: 'string', required: true, iface: true },
    disabled: { type: 'boolean', default: false },
    nobinat: { type: 'boolean', default: false },
    natreflection: { type: 'string', nullable: true, default: null, choices: ['enable', 'disable'] },
    ipprotocol: { type: 'string', default: 'inet', choices: ['inet', 'inet6'] },
    external: { type: 'string', required: true, check: (value) => { if (!/^[A-Za-z0-9_]+:ip$/.test(String(value))) requireIp('external', value); } },
    source: { type: 'string', required: true, check: (value) => requireFilterAddress('source', value) },
    destination: { type: 'string', required: true, check: (value) => requireFilterAddress('destination', value) },
    descr: { type: 'string', default: '', maxLength: 1024 },
  },
  check: (obj) => {
    if (familyMismatch(obj.ipprotocol, obj.external) === 'IP') {
      throw invalid('ONE_TO_ONE_NAT_MAPPING_EXTERNAL_IP_DOES_NOT_MATCH_IPPROTOCOL', 'Field `external` is not an IP address of the IP family assigned in `ipprotocol`.');
    }
    for (const field of ['source', 'destination'] as const) {
      const mismatch = familyMismatch(obj.ipprotocol, obj[field]);
      if (mismatch === null) continue;
      const what = mismatch === 'IP' ? 'an IP address' : 'an subnet';
      throw invalid(`ONE_TO_ONE_NAT_MAPPING_${field.toUpperCase()}_${mismatch}_DOES_NOT_MATCH_IPPROTOCOL`, `Field \`${field}\` is not ${what} of the IP family assigned in \`ipprotocol\`.`);
    }
  },
};

const PORT_FORWARD_PROTOCOLS = ['any', 'tcp', 'udp', 'tcp/udp', 'icmp', 'esp', 'ah', 'gre', 'ipv6', 'igmp', 'pim', 'ospf'] as const;

/**
 * PortForward (nat/rule). pfrest checks no address family here: a target of the other family
 * than `ipprotocol` is stored, and only pf's ruleset load would fail on it.
 */
export const portForwardSpec: ModelSpec = {
  name: 'PortForward',
  subsystem: 'natconf',
  fields: {
    interface: { type: 'string', required: true, iface: true },
    ipprotocol: { type: 'string', default: 'inet', choices: ['inet', 'inet6', 'inet46'] },
    protocol: { type: 'string', required: true, choices: PORT_FORWARD_PROTOCOLS },
    source: { type: 'string', required: true, check: (value) => requireFilterAddress('source', value) },
    source_port: { type: 'string', nullable: true, default: null, when: hasPorts },
    destination: { type: 'string', required: true, check: (value) => requireFilterAddress('destination', value) },
    destination_port: { type: 'string', nullable: true, default: null, when: hasPorts, check: (value) => String(value).split(':').forEach((part) => requirePort('destination_port', part)) },
    target: { type: 'string', required: true, check: (value) => { if (!/^[A-Za-z0-9_]+(:ip)?$/.test(String(value))) requireIp('target', value); } },
    local_port: { type: 'string', required: true, when: hasPorts, check: (value) => requirePort('local_port', value) },
    disabled: { type: 'boolean', default: false },
    nordr: { type: 'boolean', default: false },
    nosync: { type: 'boolean', default: false },
    descr: { type: 'string', default: '', maxLength: 1024 },
    natreflection: { type: 'string', nullable: true, default: null, choices: ['enable', 'disable', 'purenat'] },
    // '' (a separate rule must pass the traffic) or 'pass'; 'new' (an associated rule) is not simulated.
    associated_rule_id: { type: 'string', default: '', choices: ['', 'pass'] },
  },
};

export const restApiSettingsSpec: ModelSpec = {
  name: 'RESTAPISettings',
  fields: {
    enabled: { type: 'boolean', default: true },
    read_only: { type: 'boolean', default: false },
    keep_backup: { type: 'boolean', default: true },
    login_protection: { type: 'boolean', default: true },
    hateoas: { type: 'boolean', default: false },
    expose_sensitive_fields: { type: 'boolean', default: false },
    // "Model:field" entries shown although sensitive (e.g. WireGuardTunnel:privatekey).
    override_sensitive_fields: { type: 'strings', default: [] },
    represent_interfaces_as: { type: 'string', default: 'descr', choices: ['descr', 'id', 'if'] },
    auth_methods: {
      type: 'strings',
      default: ['BasicAuth'],
      check: (value) => {
        for (const method of value as string[]) {
          if (!['BasicAuth', 'KeyAuth', 'JWTAuth'].includes(method)) throw invalid('FIELD_INVALID_CHOICE', `Field 'auth_methods' must be one of [BasicAuth, KeyAuth, JWTAuth]. Received '${method}'.`);
        }
      },
    },
  },
};

/** Guards on deletes that pfSense enforces. */
export function referencedError(data: unknown): ApiError {
  return new ApiError(409, 'MODEL_CANNOT_BE_DELETED_WHILE_REFERENCED', 'Object cannot be deleted because it is in use.', data);
}
