// The Filter node's MVC models (/work/shared/ref/opnsense.md §3.2, §3.3; Filter.xml v1.0.5):
// rules, 1:1 NAT and NPTv6, as ModelDefs for mvc.ts. Interface fields differ on purpose: a
// rule may name an interface group (`wireguard`, the group every wgN joins, assigned or not),
// a NAT rule only an interface of the config (an assigned one): that is what makes NAT on a
// WireGuard tunnel need an assignment (§6 Q4).
import { tryParseAddress, tryParseCidr } from '../../../src/domain/ip.js';
import {
  booleanField, integerField, networkField, optionField, PORT_MESSAGE, textField, type FieldContext, type FieldSpec, type Options,
} from './fields.js';
import type { ModelDef } from './mvc.js';
import type { OpnSenseModel } from './model.js';

/** Interface groups every rule may name (plugins_interfaces()). */
const GROUPS: Options = [['wireguard', 'WireGuard (Group)']];

/** The config's interfaces (assigned, incl. staged assignments), by identifier, labelled by descr. */
export function configInterfaces(model: OpnSenseModel): Options {
  return [...model.config.interfaces.entries()].map(([ident, record]) => [ident, record.descr || ident.toUpperCase()]);
}

const ruleInterfaces = (ctx: FieldContext): Options => [...configInterfaces(ctx.model), ...GROUPS];

const PROTOCOLS = ['any', 'TCP', 'UDP', 'TCP/UDP', 'ICMP', 'IPV6-ICMP', 'ESP', 'AH', 'GRE', 'IGMP', 'OSPF', 'PIM', 'CARP', 'PFSYNC'];

const options = (...keys: string[]): (() => Options) => () => keys.map((key) => [key, key]);

/** NetworkAliasField: any, (self), an interface's net or `<if>ip`, an alias, an address or a CIDR. */
function networkAliasField(direction: 'source' | 'destination'): FieldSpec {
  return {
    render: 'plain',
    default: 'any',
    validate: (value, ctx) => {
      const interfaces = new Set([...configInterfaces(ctx.model).map(([key]) => key), 'wireguard']);
      const valid = (item: string) => item === 'any' || item === '(self)' || interfaces.has(item) || (item.endsWith('ip') && interfaces.has(item.slice(0, -2)))
        || [...ctx.model.config.aliases.values()].some((alias) => alias.name === item)
        || tryParseAddress(item) !== null || tryParseCidr(item) !== null;
      const bad = value.split(',').find((item) => !valid(item.trim()));
      return bad === undefined ? null : `${bad} is not a valid ${direction} IP address or alias.`;
    },
  };
}

const WELL_KNOWN = new Set(['http', 'https', 'ssh', 'domain', 'ntp', 'smtp', 'imap', 'pop3', 'snmp', 'isakmp', 'ipsec-nat-t']);

/** PortField with ranges, well-known names and port aliases. */
const rulePortField = (): FieldSpec => ({
  render: 'plain',
  validate: (value, ctx) => {
    const port = (text: string) => /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
    const range = /^(\d+)[-:](\d+)$/.exec(value);
    if (port(value) || (range && port(range[1] as string) && port(range[2] as string)) || WELL_KNOWN.has(value.toLowerCase())) return null;
    if ([...ctx.model.config.aliases.values()].some((alias) => alias.name === value)) return null;
    return PORT_MESSAGE;
  },
});

const sequenceField = (): FieldSpec => ({ ...integerField(1, 999999, 'Provide a valid sequence for sorting'), required: true });

export const RULE: ModelDef = {
  key: 'rule',
  records: (model) => model.config.filter.rules,
  fields: {
    enabled: booleanField('1'),
    sequence: sequenceField(),
    action: { ...optionField(options('pass', 'block', 'reject')), required: true, default: 'pass' },
    quick: booleanField('1'),
    interface: optionField(ruleInterfaces, 'Option not in list.', true),
    interfacenot: booleanField('0'),
    direction: { ...optionField(options('in', 'out', 'any')), required: true, default: 'in' },
    ipprotocol: { ...optionField(options('inet', 'inet6', 'inet46')), required: true, default: 'inet' },
    protocol: { ...optionField(() => PROTOCOLS.map((key) => [key, key])), required: true, default: 'any', normalize: (value) => (value.toLowerCase() === 'any' ? 'any' : value.toUpperCase()) },
    source_net: networkAliasField('source'),
    source_not: booleanField('0'),
    source_port: rulePortField(),
    destination_net: networkAliasField('destination'),
    destination_not: booleanField('0'),
    destination_port: rulePortField(),
    gateway: textField(),
    log: booleanField('0'),
    categories: textField(),
    description: textField(/^.{0,255}$/s, 'Description should be a string between 1 and 255 characters.'),
  },
};

const natInterfaceField = (fallback: string): FieldSpec => ({
  ...optionField((ctx) => configInterfaces(ctx.model)), required: true, default: fallback,
});

export const ONE_TO_ONE: ModelDef = {
  key: 'rule',
  records: (model) => model.config.filter.onetoone,
  fields: {
    enabled: booleanField('1'),
    log: booleanField('0'),
    sequence: sequenceField(),
    interface: natInterfaceField('wan'),
    type: { ...optionField(options('binat', 'nat')), required: true, default: 'binat' },
    source_net: { ...networkAliasField('source'), default: '', required: true },
    source_not: booleanField('0'),
    destination_net: networkAliasField('destination'),
    destination_not: booleanField('0'),
    external: networkField({ required: true }),
    natreflection: optionField(options('', 'enable', 'disable')),
    categories: textField(),
    description: textField(/^.{0,255}$/s, 'Description should be a string between 1 and 255 characters.'),
  },
};

/** An IPv6 prefix (NPTv6 takes nothing else). */
const prefix6Field = (required: boolean): FieldSpec => ({
  render: 'plain', required, normalize: (value) => value.toLowerCase(),
  validate: (value) => (tryParseCidr(value)?.family === 6 ? null : 'Please specify a valid network segment or IP address.'),
});

export const NPT: ModelDef = {
  key: 'rule',
  records: (model) => model.config.filter.npt,
  fields: {
    enabled: booleanField('1'),
    log: booleanField('0'),
    sequence: sequenceField(),
    interface: natInterfaceField('lan'),
    source_net: prefix6Field(true),
    destination_net: prefix6Field(false),
    trackif: optionField((ctx) => configInterfaces(ctx.model)),
    categories: textField(),
    description: textField(/^.{0,255}$/s, 'Description should be a string between 1 and 255 characters.'),
  },
  constraints: (ctx): Record<string, string> => (ctx.record.destination_net === '' && ctx.record.trackif === '' ? { destination_net: 'A value is required.' } : {}),
};

/**
 * The rules searchRule merges in from the legacy config: the default LAN allow rule and the
 * anti-lockout rule (`is_automatic`). They have no MVC record and are never Meshplane's.
 */
export function legacyRows(model: OpnSenseModel): Array<Record<string, string>> {
  if (!model.config.interfaces.has('lan')) return [];
  const common = { enabled: '1', action: 'pass', quick: '1', interface: 'lan', direction: 'in', ipprotocol: 'inet', protocol: 'any', source_port: '', destination_port: '', legacy: '1' };
  return [
    { ...common, uuid: 'lanrule0', sequence: '1', source_net: 'lan', destination_net: 'any', description: 'Default allow LAN to any rule' },
    { ...common, uuid: 'antilockout0', sequence: '0', protocol: 'TCP', source_net: 'any', destination_net: 'lanip', destination_port: '443', description: 'Anti-Lockout Rule', is_automatic: '1' },
  ];
}
