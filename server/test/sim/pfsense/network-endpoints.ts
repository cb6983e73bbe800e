// Interface assignment, routing (gateways, static routes), firewall rules and 1:1 NAT,
// each with its own apply endpoint; and the REST API's own settings and version.
import { addApplyRoute } from './apply-endpoints.js';
import { addRoute, type Routes } from './call.js';
import { addChildCollection, addCollection, type Collection } from './crud.js';
import { ApiError } from './envelope.js';
import { represent, validateObject } from './fields.js';
import { AREA_SUBSYSTEMS, type PfSenseModel } from './model.js';
import {
  firewallRuleSpec, gatewayGroupPrioritySpec, gatewayGroupSpec, gatewaySpec, interfaceSpec, oneToOneSpec, portForwardSpec, referencedError, restApiSettingsSpec, staticRouteSpec,
} from './network-specs.js';
import type { Obj } from './store.js';

const interfaces: Collection = {
  spec: interfaceSpec,
  store: (model) => model.interfaces,
  area: 'interfaces',
  pendingDetail: true,
  beforeDelete: (id) => {
    if (id === 'wan') throw new ApiError(400, 'NETWORK_INTERFACE_WAN_CANNOT_BE_DELETED', 'The WAN interface cannot be deleted.');
  },
  // Deleting an interface also removes its filter and NAT rules from the config.
  afterDelete: (id, _obj, model) => {
    const uses = (rule: Obj) => (Array.isArray(rule.interface) ? rule.interface.includes(id) : rule.interface === id);
    model.rules.replaceAll(model.rules.entries().map(([, rule]) => rule).filter((rule) => !uses(rule)));
    model.oneToOne.replaceAll(model.oneToOne.entries().map(([, rule]) => rule).filter((rule) => !uses(rule)));
    model.portForwards.replaceAll(model.portForwards.entries().map(([, rule]) => rule).filter((rule) => !uses(rule)));
  },
};

const gateways: Collection = {
  spec: gatewaySpec,
  store: (model) => model.gateways,
  area: 'routing',
  beforeDelete: (_id, gateway, model) => {
    // Static routes and rules (pfrest's referenced_by) and, as pfSense's own gateway page
    // refuses, a group that has the gateway as a member.
    const referencing = [
      ...[...model.list('routes'), ...model.list('rules')].filter((obj) => obj.gateway === gateway.name),
      ...model.list('groups').filter((group) => (group.priorities as Obj[]).some((member) => member.gateway === gateway.name)),
    ];
    if (referencing.length > 0) throw referencedError(referencing);
  },
};

const groups: Collection = {
  spec: gatewayGroupSpec,
  store: (model) => model.groups,
  area: 'routing',
  beforeDelete: (_id, group, model) => {
    const referencing = [...model.list('routes'), ...model.list('rules')].filter((obj) => obj.gateway === group.name);
    if (referencing.length > 0) throw referencedError(referencing);
  },
};

const routes: Collection = { spec: staticRouteSpec, store: (model) => model.routes, area: 'routing' };
const rules: Collection = { spec: firewallRuleSpec, store: (model) => model.rules, area: 'firewall', minimum: 1 };
const oneToOne: Collection = { spec: oneToOneSpec, store: (model) => model.oneToOne, area: 'firewall' };
const portForwards: Collection = { spec: portForwardSpec, store: (model) => model.portForwards, area: 'firewall' };

function addRestApiRoutes(table: Routes): void {
  const out = (model: PfSenseModel) => represent(restApiSettingsSpec, model.restapi, { id: 0 }, model);
  addRoute(table, '/api/v2/system/restapi/settings', {
    GET: (call) => out(call.model),
    PATCH: (call) => {
      const input = Array.isArray(call.data) ? {} : call.data;
      call.model.restapi = validateObject(restApiSettingsSpec, input, { env: call.model, siblings: [], selfId: 0, existing: call.model.restapi });
      return out(call.model);
    },
  });
  addRoute(table, '/api/v2/system/restapi/version', {
    GET: (call) => ({
      current_version: `v${call.model.version}`,
      latest_version: `v${call.model.version}`,
      latest_version_release_date: null,
      update_available: false,
      install_version: null,
      available_versions: [`v${call.model.version}`],
    }),
  });
}

export function addNetworkRoutes(table: Routes): void {
  addCollection(table, '/api/v2/interface', '/api/v2/interfaces', interfaces, ['GET', 'DELETE']);
  addRoute(table, '/api/v2/interface/available_interfaces', {
    GET: (call) => call.model.availablePorts().map((port, id) => ({ id, if: port, in_use_by: call.model.interfaceUsing(port) })),
  });
  addApplyRoute(table, '/api/v2/interface/apply', 'interfaces', (model) => ({ pending_interfaces: [...model.pendingInterfaces] }));

  addCollection(table, '/api/v2/routing/gateway', '/api/v2/routing/gateways', gateways, ['GET', 'DELETE']);
  addCollection(table, '/api/v2/routing/gateway/group', '/api/v2/routing/gateway/groups', groups, ['GET', 'DELETE']);
  addChildCollection(table, '/api/v2/routing/gateway/group/priority', '/api/v2/routing/gateway/group/priorities', groups, 'priorities', gatewayGroupPrioritySpec);
  addRoute(table, '/api/v2/routing/gateway/default', {
    GET: (call) => ({ ...call.model.defaultGateway }),
    PATCH: (call) => {
      const input = Array.isArray(call.data) ? {} : call.data;
      const names = ['', '-', ...call.model.gatewayNames(), ...call.model.groupNames()];
      for (const field of ['defaultgw4', 'defaultgw6'] as const) {
        if (!(field in input)) continue;
        if (typeof input[field] !== 'string' || !names.includes(input[field] as string)) {
          throw new ApiError(400, 'FIELD_INVALID_CHOICE', `Field '${field}' must be one of [${names.join(', ')}]. Received '${String(input[field])}'.`);
        }
        call.model.defaultGateway[field] = input[field] as string;
      }
      call.model.markDirty('staticroutes');
      return { ...call.model.defaultGateway };
    },
  });
  addCollection(table, '/api/v2/routing/static_route', '/api/v2/routing/static_routes', routes, ['GET', 'DELETE']);
  addApplyRoute(table, '/api/v2/routing/apply', 'routing');

  addCollection(table, '/api/v2/firewall/rule', '/api/v2/firewall/rules', rules, ['GET', 'PUT', 'DELETE']);
  addCollection(table, '/api/v2/firewall/nat/one_to_one/mapping', '/api/v2/firewall/nat/one_to_one/mappings', oneToOne, ['GET', 'PUT', 'DELETE']);
  addCollection(table, '/api/v2/firewall/nat/port_forward', '/api/v2/firewall/nat/port_forwards', portForwards, ['GET', 'PUT', 'DELETE']);
  addApplyRoute(table, '/api/v2/firewall/apply', 'firewall', (model) => ({
    pending_subsystems: AREA_SUBSYSTEMS.firewall.filter((subsystem) => model.dirty.has(subsystem)),
  }));

  addRestApiRoutes(table);
}
