// Network endpoints (/work/shared/ref/opnsense.md §3.5–§3.7, §1.2): interface assignment (26.7+;
// the record key is the config identifier, changes staged until reconfigure), static routes
// (flag `disabled` ≤ 26.1, `enabled` 26.7+), gateways (24.1+) and the firmware version.
import { tryParseAddress, tryParseCidr } from '../../../src/domain/ip.js';
import { booleanField, integerField, optionField, textField, type FieldSpec, type Options } from './fields.js';
import { configInterfaces } from './filter-models.js';
import { reloadFilter } from './management.js';
import { addBase, delBase, getBase, searchBase, setBase, toggleBase, validateRecord, defaultRecord, applyWrite, bodyObject, type ModelDef } from './mvc.js';
import type { OpnSenseModel } from './model.js';
import { UserException, type Call, type Router } from './router.js';

/** Physical ports of the simulated box besides the wgN devices. */
export const PORTS = ['em0', 'em1', 'em2'];

const devices = (model: OpnSenseModel): Options => [...PORTS, ...model.running.wg.keys()].map((name) => [name, name]);

const ipField = (): FieldSpec => ({ render: 'plain', validate: (value) => (tryParseAddress(value) !== null ? null : 'Please specify a valid IP address.') });

export const ASSIGNMENT: ModelDef = {
  key: 'interface',
  records: (model) => model.config.interfaces,
  fields: {
    if: { ...optionField((ctx) => devices(ctx.model)), required: true },
    descr: textField(/^[a-z_0-9]{0,255}$/i, 'Description should be alphanumeric.'),
    enable: booleanField('1'),
    lock: booleanField('1'),
    type4: { ...optionField(() => ['none', 'staticv4', 'dhcp'].map((key) => [key, key])), default: 'none' },
    type6: { ...optionField(() => ['none', 'staticv6', 'dhcp6', 'slaac', 'track6'].map((key) => [key, key])), default: 'none' },
    ipaddr: ipField(),
    subnet: integerField(0, 32),
    ipaddrv6: ipField(),
    subnetv6: integerField(0, 128),
    mtu: integerField(576, 65535),
  },
  constraints: (ctx): Record<string, string> => {
    const taken = [...ctx.model.config.interfaces.entries()].some(([ident, record]) => ident !== ctx.uuid && record.if === ctx.record.if);
    return taken ? { if: 'Device already assigned.' } : {};
  },
};

function nextOpt(model: OpnSenseModel): string {
  for (let n = 1; n < 4096; n++) if (!model.config.interfaces.has(`opt${n}`)) return `opt${n}`;
  throw new Error('no free interface identifier');
}

/** addItem: the next free optN is the record key ({"result":"saved","uuid":"optN"}); staged until reconfigure. */
function addAssignment(call: Call): unknown {
  if (call.method !== 'POST') return { result: 'failed' };
  const input = bodyObject(call, ASSIGNMENT.key);
  if (!input) return { result: 'failed' };
  const ident = nextOpt(call.model);
  const record = defaultRecord(ASSIGNMENT, call.model, ident);
  applyWrite(ASSIGNMENT, call.model, record, input);
  const validations = validateRecord(ASSIGNMENT, { model: call.model, uuid: ident, record }, 'all');
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  call.model.config.interfaces.set(ident, record);
  call.model.assignmentTodo.add(ident);
  call.model.save();
  return { result: 'saved', uuid: ident };
}

function setAssignment(call: Call): unknown {
  const ident = call.params[0] as string;
  if (!call.model.config.interfaces.has(ident)) return { result: 'failed' };
  const reply = setBase(call, ASSIGNMENT);
  call.model.assignmentTodo.add(ident);
  return reply;
}

function delAssignment(call: Call): unknown {
  if (call.method !== 'POST') return { result: 'failed' };
  const ident = call.params[0] as string;
  const record = call.model.config.interfaces.get(ident);
  if (record === undefined) return { result: 'not found' };
  if (record.lock === '1') throw new UserException(`Interface ${ident} is locked and cannot be removed.`, 'Assignments');
  call.model.assignmentTodo.add(ident);
  return delBase(call, ASSIGNMENT);
}

/** Rules that name only interfaces that no longer exist go with them (interface apply). */
function dropOrphanRules(model: OpnSenseModel, removed: ReadonlySet<string>): void {
  for (const records of [model.config.filter.rules, model.config.filter.onetoone, model.config.filter.npt]) {
    for (const [uuid, record] of records) {
      const interfaces = (record.interface ?? '').split(',').filter((item) => item !== '');
      if (interfaces.length > 0 && interfaces.every((item) => removed.has(item))) records.delete(uuid);
    }
  }
}

function reconfigureAssignments(call: Call): unknown {
  if (call.method !== 'POST') return { status: 'failed' };
  const { model } = call;
  const removed = new Set([...model.running.interfaces.keys()].filter((ident) => !model.config.interfaces.has(ident)));
  if (removed.size > 0) {
    dropOrphanRules(model, removed);
    model.save();
  }
  model.running.interfaces = structuredClone(model.config.interfaces);
  model.assignmentTodo.clear();
  reloadFilter(model, call.faults, false);
  return { status: 'ok' };
}

const gatewayNames = (model: OpnSenseModel): Options => [...model.config.gateways.values()].map((gateway) => [gateway.name ?? '', `${gateway.name} - ${gateway.gateway}`]);

function routeDef(model: OpnSenseModel): ModelDef {
  const flag: Record<string, FieldSpec> = model.features.routeFlag === 'enabled' ? { enabled: booleanField('1') } : { disabled: booleanField('0') };
  return {
    key: 'route',
    records: (m) => m.config.routes,
    fields: {
      network: { render: 'plain', required: true, normalize: (value) => value.toLowerCase(), validate: (value) => (tryParseCidr(value) !== null ? null : 'Please specify a valid network segment.') },
      gateway: { ...optionField((ctx) => gatewayNames(ctx.model)), required: true },
      descr: textField(),
      ...flag,
    },
  };
}

/** toggleroute/<uuid>[/<state>] flips the version's flag (`disabled` ≤26.1, `enabled` 26.7+). */
function toggleRoute(call: Call, def: ModelDef): unknown {
  if (call.model.features.routeFlag === 'enabled') return toggleBase(call, def);
  const record = call.model.config.routes.get(call.params[0] ?? '');
  if (!record) return toggleBase(call, def);
  const disabled = call.params[1] ?? (record.disabled === '1' ? '0' : '1');
  call.model.config.routes.set(call.params[0] as string, { ...record, disabled });
  call.model.save();
  return { result: disabled === '1' ? 'Disabled' : 'Enabled', changed: disabled !== record.disabled };
}

export const GATEWAY: ModelDef = {
  key: 'gateway_item',
  records: (model) => model.config.gateways,
  fields: {
    disabled: booleanField('0'),
    name: { ...textField(/^[a-zA-Z0-9_-]{1,32}$/, 'Name should be between 1 and 32 characters (alphanumeric, dash, underscore).'), required: true },
    descr: textField(),
    interface: { ...optionField((ctx) => configInterfaces(ctx.model)), required: true, default: 'wan' },
    ipprotocol: { ...optionField(() => [['inet', 'IPv4'], ['inet6', 'IPv6']]), required: true, default: 'inet' },
    gateway: ipField(),
    defaultgw: booleanField('0'),
    fargw: booleanField('0'),
    monitor_disable: booleanField('1'),
    monitor: ipField(),
    priority: { ...integerField(0, 255), default: '255' },
    weight: { ...integerField(1, 5), default: '1' },
  },
  constraints: (ctx): Record<string, string> => {
    const clash = [...ctx.model.config.gateways.entries()].some(([uuid, gateway]) => uuid !== ctx.uuid && gateway.name === ctx.record.name);
    return clash ? { name: 'A gateway with this name already exists.' } : {};
  },
};

function delGateway(call: Call): unknown {
  const gateway = call.model.config.gateways.get(call.params[0] ?? '');
  if (gateway && [...call.model.config.routes.values()].some((route) => route.gateway === gateway.name)) {
    throw new UserException(`Gateway ${gateway.name} is in use by a static route.`, 'Gateways');
  }
  return delBase(call, GATEWAY);
}

export function registerNetworkEndpoints(router: Router, model: OpnSenseModel): void {
  const assignment = { since: '26.7' };
  router.register('interfaces/assignment/searchItem', (call) => searchBase(call, ASSIGNMENT), assignment);
  router.register('interfaces/assignment/getItem', (call) => getBase(call, ASSIGNMENT), assignment);
  router.register('interfaces/assignment/addItem', addAssignment, { ...assignment, write: true });
  router.register('interfaces/assignment/setItem', setAssignment, { ...assignment, write: true, minParams: 1 });
  router.register('interfaces/assignment/delItem', delAssignment, { ...assignment, write: true, minParams: 1 });
  router.register('interfaces/assignment/reconfigure', reconfigureAssignments, { ...assignment, write: true, configd: true });

  const route = routeDef(model);
  router.register('routes/routes/searchroute', (call) => searchBase(call, route));
  router.register('routes/routes/getroute', (call) => getBase(call, route));
  router.register('routes/routes/addroute', (call) => addBase(call, route), { write: true });
  router.register('routes/routes/setroute', (call) => setBase(call, route), { write: true, minParams: 1 });
  router.register('routes/routes/delroute', (call) => delBase(call, route), { write: true, minParams: 1 });
  router.register('routes/routes/toggleroute', (call) => toggleRoute(call, route), { write: true, minParams: 1 });
  router.register('routes/routes/reconfigure', (call) => {
    if (call.method !== 'POST') return { status: 'failed' };
    call.model.running.routes = structuredClone(call.model.config.routes);
    return { status: 'ok' };
  }, { write: true, configd: true });

  router.register('routing/settings/searchGateway', (call) => searchBase(call, GATEWAY));
  router.register('routing/settings/getGateway', (call) => getBase(call, GATEWAY));
  router.register('routing/settings/addGateway', (call) => addBase(call, GATEWAY), { write: true });
  router.register('routing/settings/setGateway', (call) => setBase(call, GATEWAY), { write: true, minParams: 1 });
  router.register('routing/settings/delGateway', delGateway, { write: true, minParams: 1 });
  router.register('routing/settings/toggleGateway', (call) => toggleBase(call, GATEWAY), { write: true, minParams: 1 });
  router.register('routing/settings/reconfigure', (call) => {
    if (call.method !== 'POST') return { status: 'failed' };
    call.model.running.gateways = structuredClone(call.model.config.gateways);
    return { status: 'ok' };
  }, { write: true, configd: true });

  router.register('core/firmware/info', (call) => ({
    product_name: 'OPNsense', product_id: 'opnsense', product_version: call.model.version, product_abi: call.model.version.split('.').slice(0, 2).join('.'), product_arch: 'amd64',
  }));
}
