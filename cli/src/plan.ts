// The difference between a WAN file and the server, as a list of changes in the order apply
// makes them. plan prints it; apply runs each change's step: one diff for both, so what plan
// shows is what apply does. Deletions of what the file does not list are changes only with
// prune; without it they are listed as kept.
import type { Api } from './client.js';
import type { LanSpec, PeerSpec, ServiceSpec, WanFile } from './schema.js';
import { WAN_SETTINGS, type ServerLan, type ServerPeer, type ServerService, type ServerWan } from './state.js';

export type Action = 'create' | 'update' | 'remove';
export type Kind = 'wan' | 'peer' | 'lan' | 'service' | 'presharedKey';
type Value = string | number | boolean | null;

export interface FieldChange {
  field: string;
  before: Value;
  after: Value;
}

export interface Change {
  action: Action;
  kind: Kind;
  /** What it is, named from the file: "peer office", "lan 192.168.1.0/24 of peer office". */
  label: string;
  /** update: each changed field; create: the values written. */
  fields: FieldChange[];
  /** Makes the change; ids of things created by earlier steps come from `ids`. */
  run: (api: Api, ids: Ids) => Promise<void>;
}

export interface Plan {
  wan: string;
  changes: Change[];
  /** Changes the API cannot make, each naming the field; apply refuses the whole file then. */
  refused: string[];
  /** On the server, not in the file, and not removed because prune was not asked for. */
  kept: string[];
}

/** Ids known so far: the WAN's, and every peer's by name (those created by this apply too). */
export interface Ids {
  wanId: string | null;
  peers: Map<string, string>;
}

const SIGN: Record<Action, string> = { create: '+', update: '~', remove: '-' };

export function planChanges(file: WanFile, server: ServerWan | null, devices: Map<string, string>, prune: boolean): Plan {
  const plan: Plan = { wan: file.wan.name, changes: [], refused: [], kept: [] };
  const add = (change: Change) => plan.changes.push(change);
  planWan(file, server, add);

  const current = new Map((server?.peers ?? []).map((peer) => [peer.name, peer]));
  const wanted = [...(file.peers ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const wantedNames = new Set(wanted.map((peer) => peer.name));
  const removedPeers = new Set<string>();
  for (const peer of [...current.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (wantedNames.has(peer.name)) continue;
    if (!prune) {
      plan.kept.push(`peer ${peer.name}`);
      continue;
    }
    removedPeers.add(peer.name);
    add({ action: 'remove', kind: 'peer', label: `peer ${peer.name}`, fields: [], run: (api) => api.mutate(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: peer.id }).then(() => undefined) });
  }

  for (const spec of wanted) {
    const deviceId = spec.device === undefined ? null : devices.get(spec.device);
    if (deviceId === undefined) {
      plan.refused.push(`peer ${spec.name}: device "${spec.device}" does not exist on the server (devices are bound by name; add the device first)`);
      continue;
    }
    const existing = current.get(spec.name);
    if (existing) planPeerUpdate(spec, existing, deviceId, prune, plan);
    else planPeerCreate(spec, deviceId, add);
  }

  planPresharedKeys(file, server, removedPeers, prune, plan);
  return plan;
}

function planWan(file: WanFile, server: ServerWan | null, add: (change: Change) => void): void {
  const settings = file.wan;
  if (!server) {
    const input = { ...settings };
    add({
      action: 'create',
      kind: 'wan',
      label: `wan ${settings.name}`,
      fields: Object.entries(input).filter(([key]) => key !== 'name').map(([field, after]) => ({ field, before: null, after: after as Value })),
      run: async (api, ids) => {
        const data = await api.mutate<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, { input });
        ids.wanId = data.createWan.wan.id;
      },
    });
    return;
  }
  const fields: FieldChange[] = [];
  const input: Record<string, unknown> = {};
  for (const key of WAN_SETTINGS) {
    const after = settings[key];
    if (after === undefined || after === server.wan[key]) continue;
    fields.push({ field: key, before: server.wan[key] ?? null, after });
    input[key] = after;
  }
  if (fields.length) {
    add({ action: 'update', kind: 'wan', label: `wan ${settings.name}`, fields, run: (api, ids) => api.mutate(`mutation ($id: ID!, $input: UpdateWanInput!) { updateWan(id: $id, input: $input) { wan { id } } }`, { id: ids.wanId, input }).then(() => undefined) });
  }
}

/** What a new peer has unless told otherwise: a create shows only the values that differ. */
const PEER_DEFAULTS: Record<string, Value> = { portForwarded: false, autoDeploy: false, enabled: true };

/** The peer's settings as the server would hold them, defaults filled in (file order). */
function peerValues(spec: PeerSpec, deviceName: string | null): Record<string, Value> {
  return {
    role: spec.role ?? 'SITE',
    endpointHost: spec.endpointHost ?? null,
    endpointPort: spec.endpointPort ?? null,
    listenPort: spec.listenPort ?? null,
    keepalive: spec.keepalive ?? null,
    portForwarded: spec.portForwarded ?? false,
    autoDeploy: spec.autoDeploy ?? false,
    enabled: spec.enabled ?? true,
    expiresAt: spec.expiresAt === undefined ? null : new Date(spec.expiresAt).toISOString(),
    device: deviceName,
  };
}

function serverPeerValues(peer: ServerPeer): Record<string, Value> {
  return {
    role: peer.role,
    endpointHost: peer.endpointHost,
    endpointPort: peer.endpointPort,
    listenPort: peer.listenPort,
    keepalive: peer.keepalive,
    portForwarded: peer.portForwarded,
    autoDeploy: peer.autoDeploy,
    enabled: peer.enabled,
    expiresAt: peer.expiresAt === null ? null : new Date(peer.expiresAt).toISOString(),
    device: peer.device?.name ?? null,
  };
}

/** The API's name for a file field whose value changes form on the way (device name → id). */
function peerInput(values: Record<string, Value>, deviceId: string | null): Record<string, unknown> {
  const { device, ...rest } = values;
  return device === undefined ? rest : { ...rest, deviceId };
}

function planPeerCreate(spec: PeerSpec, deviceId: string | null, add: (change: Change) => void): void {
  const values = peerValues(spec, spec.device ?? null);
  const input: Record<string, unknown> = {
    name: spec.name,
    ...peerInput(values, deviceId),
    ...(spec.tunnelIp ? { tunnelIp: spec.tunnelIp } : {}),
    ...(spec.tunnelIp6 ? { tunnelIp6: spec.tunnelIp6 } : {}),
    ...(spec.publicKey ? { publicKey: spec.publicKey } : {}),
    subnets: (spec.lans ?? []).map((lan) => ({ cidr: lan.cidr, description: lan.description ?? '', routed: lan.routed ?? true })),
  };
  const shown: FieldChange[] = [
    ...(spec.tunnelIp ? [{ field: 'tunnelIp', before: null, after: spec.tunnelIp }] : []),
    ...Object.entries(values).filter(([field, value]) => value !== null && value !== PEER_DEFAULTS[field]).map(([field, after]) => ({ field, before: null, after })),
  ];
  add({
    action: 'create',
    kind: 'peer',
    label: `peer ${spec.name}`,
    fields: shown,
    run: async (api, ids) => {
      const data = await api.mutate<{ addPeer: { peer: { id: string; subnets: Array<{ id: string; cidr: string }> } } }>(
        `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id subnets { id cidr } } } }`,
        { wanId: ids.wanId, input },
      );
      const peer = data.addPeer.peer;
      ids.peers.set(spec.name, peer.id);
      for (const lan of spec.lans ?? []) {
        if (!lan.natCidr) continue;
        const subnet = peer.subnets.find((row) => row.cidr === lan.cidr);
        if (subnet) await updateSubnet(api, subnet.id, { natCidr: lan.natCidr });
      }
    },
  });
  for (const lan of spec.lans ?? []) add({ action: 'create', kind: 'lan', label: lanLabel(spec.name, lan.cidr), fields: lanFields(lan), run: async () => undefined });
  for (const service of spec.services ?? []) add(serviceCreate(spec.name, service));
}

function planPeerUpdate(spec: PeerSpec, peer: ServerPeer, deviceId: string | null, prune: boolean, plan: Plan): void {
  const add = (change: Change) => plan.changes.push(change);
  const label = `peer ${spec.name}`;
  if (spec.tunnelIp !== undefined && spec.tunnelIp !== peer.tunnelIp) {
    plan.refused.push(`${label}: tunnelIp cannot change (${peer.tunnelIp} → ${spec.tunnelIp}); the API keeps a peer's tunnel address: remove the peer and add it again, or write ${peer.tunnelIp}`);
  }
  if (spec.tunnelIp6 !== undefined && spec.tunnelIp6 !== peer.tunnelIp6) {
    plan.refused.push(`${label}: tunnelIp6 cannot change (${peer.tunnelIp6 ?? '(none)'} → ${spec.tunnelIp6}); remove the peer and add it again, or write ${peer.tunnelIp6 ?? 'none'}`);
  }
  const wanted = peerValues(spec, spec.device ?? null);
  const has = serverPeerValues(peer);
  const fields: FieldChange[] = [];
  const input: Record<string, unknown> = {};
  for (const [field, after] of Object.entries(wanted)) {
    if (after === has[field]) continue;
    fields.push({ field, before: has[field] ?? null, after });
    Object.assign(input, peerInput({ [field]: after }, deviceId));
  }
  if (spec.publicKey !== undefined && (peer.keyCustody !== 'USER' || spec.publicKey !== peer.publicKey)) {
    // The key Meshplane holds is never shown: the before side names only who holds it.
    fields.push({ field: 'publicKey', before: peer.keyCustody === 'USER' ? peer.publicKey : '(held by Meshplane)', after: spec.publicKey });
    input.publicKey = spec.publicKey;
  } else if (spec.publicKey === undefined && peer.keyCustody === 'USER') {
    plan.refused.push(`${label}: publicKey is left out, but the peer has its own key (${peer.publicKey}); apply does not replace it with a key Meshplane makes (rotatePeerKey does): write the publicKey`);
  }
  if (fields.length) {
    add({ action: 'update', kind: 'peer', label, fields, run: (api) => api.mutate(`mutation ($id: ID!, $input: UpdatePeerInput!) { updatePeer(id: $id, input: $input) { peer { id } } }`, { id: peer.id, input }).then(() => undefined) });
  }
  planLans(spec, peer, prune, plan);
  planServices(spec, peer, prune, plan);
}

function lanLabel(peer: string, cidr: string): string {
  return `lan ${cidr} of peer ${peer}`;
}

function lanValues(lan: LanSpec): Record<string, Value> {
  return { description: lan.description ?? '', routed: lan.routed ?? true, natCidr: lan.natCidr ?? null };
}

function lanFields(lan: LanSpec): FieldChange[] {
  return Object.entries(lanValues(lan))
    .filter(([field, value]) => value !== null && !(field === 'description' && value === ''))
    .map(([field, after]) => ({ field, before: null, after }));
}

async function updateSubnet(api: Api, id: string, input: Record<string, unknown>): Promise<void> {
  await api.mutate(`mutation ($id: ID!, $input: UpdateSubnetInput!) { updateSubnet(id: $id, input: $input) { id } }`, { id, input });
}

function planLans(spec: PeerSpec, peer: ServerPeer, prune: boolean, plan: Plan): void {
  const current = new Map(peer.subnets.map((lan) => [lan.cidr, lan]));
  const wanted = spec.lans ?? [];
  const wantedCidrs = new Set(wanted.map((lan) => lan.cidr));
  for (const lan of peer.subnets) {
    if (wantedCidrs.has(lan.cidr)) continue;
    if (!prune) plan.kept.push(lanLabel(spec.name, lan.cidr));
    else plan.changes.push({ action: 'remove', kind: 'lan', label: lanLabel(spec.name, lan.cidr), fields: [], run: (api) => api.mutate(`mutation ($id: ID!) { deleteSubnet(id: $id) }`, { id: lan.id }).then(() => undefined) });
  }
  for (const lan of wanted) {
    const existing = current.get(lan.cidr);
    const label = lanLabel(spec.name, lan.cidr);
    if (!existing) {
      plan.changes.push({
        action: 'create',
        kind: 'lan',
        label,
        fields: lanFields(lan),
        run: async (api) => {
          const data = await api.mutate<{ addSubnet: { id: string } }>(`mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id } }`, {
            peerId: peer.id,
            input: { cidr: lan.cidr, description: lan.description ?? '', routed: lan.routed ?? true },
          });
          if (lan.natCidr) await updateSubnet(api, data.addSubnet.id, { natCidr: lan.natCidr });
        },
      });
      continue;
    }
    const fields = changedFields(lanValues(lan), serverLanValues(existing));
    if (fields.length) {
      const input = Object.fromEntries(fields.map(({ field, after }) => [field, after]));
      plan.changes.push({ action: 'update', kind: 'lan', label, fields, run: (api) => updateSubnet(api, existing.id, input) });
    }
  }
}

function serverLanValues(lan: ServerLan): Record<string, Value> {
  return { description: lan.description, routed: lan.routed, natCidr: lan.natCidr };
}

function changedFields(wanted: Record<string, Value>, has: Record<string, Value>): FieldChange[] {
  return Object.entries(wanted)
    .filter(([field, after]) => after !== has[field])
    .map(([field, after]) => ({ field, before: has[field] ?? null, after }));
}

function serviceLabel(peer: string, name: string): string {
  return `service ${name} of peer ${peer}`;
}

function serviceInput(service: ServiceSpec): Record<string, unknown> {
  return {
    name: service.name,
    protocol: service.protocol ?? 'TCP',
    localIp: service.localIp,
    localPort: service.localPort,
    ...(service.serviceIp === undefined ? {} : { serviceIp: service.serviceIp }),
    ...(service.servicePort === undefined ? {} : { servicePort: service.servicePort }),
  };
}

async function publish(api: Api, peerId: string, service: ServiceSpec): Promise<void> {
  await api.mutate(`mutation ($peerId: ID!, $input: PublishServiceInput!) { publishService(peerId: $peerId, input: $input) { id } }`, { peerId, input: serviceInput(service) });
}

function serviceCreate(peerName: string, service: ServiceSpec, peerId?: string): Change {
  return {
    action: 'create',
    kind: 'service',
    label: serviceLabel(peerName, service.name),
    fields: Object.entries(serviceInput(service)).filter(([field]) => field !== 'name').map(([field, after]) => ({ field, before: null, after: after as Value })),
    run: (api, ids) => publish(api, peerId ?? ids.peers.get(peerName)!, service),
  };
}

function planServices(spec: PeerSpec, peer: ServerPeer, prune: boolean, plan: Plan): void {
  const current = new Map(peer.services.map((service) => [service.name, service]));
  const wanted = spec.services ?? [];
  const wantedNames = new Set(wanted.map((service) => service.name));
  for (const service of peer.services) {
    if (wantedNames.has(service.name)) continue;
    if (!prune) plan.kept.push(serviceLabel(spec.name, service.name));
    else plan.changes.push({ action: 'remove', kind: 'service', label: serviceLabel(spec.name, service.name), fields: [], run: (api) => unpublish(api, service.id) });
  }
  for (const service of wanted) {
    const existing = current.get(service.name);
    if (!existing) {
      plan.changes.push(serviceCreate(spec.name, service, peer.id));
      continue;
    }
    const fields = changedFields(
      Object.fromEntries(Object.entries(serviceInput(service)).filter(([field]) => field !== 'name')) as Record<string, Value>,
      serverServiceValues(existing),
    );
    // No updateService in the API: a changed service is published again under the same name.
    if (fields.length) {
      plan.changes.push({
        action: 'update',
        kind: 'service',
        label: serviceLabel(spec.name, service.name),
        fields,
        run: async (api) => {
          await unpublish(api, existing.id);
          await publish(api, peer.id, service);
        },
      });
    }
  }
}

function serverServiceValues(service: ServerService): Record<string, Value> {
  return { protocol: service.protocol.toUpperCase(), localIp: service.localIp, localPort: service.localPort, serviceIp: service.serviceIp, servicePort: service.servicePort };
}

async function unpublish(api: Api, id: string): Promise<void> {
  await api.mutate(`mutation ($id: ID!) { unpublishService(id: $id) }`, { id });
}

function pairKey(a: string, b: string): string {
  return [a, b].sort().join(' ↔ ');
}

function planPresharedKeys(file: WanFile, server: ServerWan | null, removedPeers: Set<string>, prune: boolean, plan: Plan): void {
  const current = new Map((server?.presharedKeys ?? []).map(({ a, b }) => [pairKey(a.name, b.name), { a, b }]));
  const wanted = new Map((file.presharedKeys ?? []).map(([a, b]) => [pairKey(a, b), [a, b] as const]));
  const set = (api: Api, ids: Ids, a: string, b: string, enabled: boolean) =>
    api.mutate(`mutation ($a: ID!, $b: ID!, $enabled: Boolean!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: $enabled) }`, { a: ids.peers.get(a), b: ids.peers.get(b), enabled }).then(() => undefined);
  for (const [key, { a, b }] of [...current].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (wanted.has(key) || removedPeers.has(a.name) || removedPeers.has(b.name)) continue;
    if (!prune) plan.kept.push(`presharedKey ${key}`);
    else plan.changes.push({ action: 'remove', kind: 'presharedKey', label: `presharedKey ${key}`, fields: [], run: (api, ids) => set(api, ids, a.name, b.name, false) });
  }
  for (const [key, [a, b]] of [...wanted].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (current.has(key)) continue;
    plan.changes.push({ action: 'create', kind: 'presharedKey', label: `presharedKey ${key}`, fields: [], run: (api, ids) => set(api, ids, a, b, true) });
  }
}

function shown(value: Value): string {
  return value === null ? '(none)' : String(value);
}

/** Counts per action, worded like the deploy plan: "2 to create, 1 to update, 0 to remove". */
export function summary(plan: Plan): string {
  const count = (action: Action) => plan.changes.filter((change) => change.action === action).length;
  return plan.changes.length ? `${count('create')} to create, ${count('update')} to update, ${count('remove')} to remove` : 'no changes';
}

/** The plan as text, like the web UI's deploy plan: "+ peer office", "~ peer hub: endpointHost a → b". */
export function formatPlan(plan: Plan): string {
  const lines = [`WAN ${plan.wan}: ${summary(plan)}`];
  for (const change of plan.changes) {
    const sign = SIGN[change.action];
    if (change.action === 'update' && change.fields.length === 1) {
      const [field] = change.fields;
      lines.push(`${sign} ${change.label}: ${field!.field} ${shown(field!.before)} → ${shown(field!.after)}`);
      continue;
    }
    lines.push(`${sign} ${change.label}`);
    for (const field of change.fields) {
      lines.push(change.action === 'update' ? `    ${field.field}: ${shown(field.before)} → ${shown(field.after)}` : `    ${field.field}: ${shown(field.after)}`);
    }
  }
  for (const kept of plan.kept) lines.push(`  (kept, not in the file; --prune removes it) ${kept}`);
  for (const refused of plan.refused) lines.push(`! refused: ${refused}`);
  return lines.join('\n');
}

/** The plan for --output json: everything but the steps. */
export function planJson(plan: Plan): Record<string, unknown> {
  return {
    wan: plan.wan,
    summary: summary(plan),
    changes: plan.changes.map(({ action, kind, label, fields }) => ({ action, kind, label, fields })),
    kept: plan.kept,
    refused: plan.refused,
  };
}

/** Makes every change of the plan in order; returns how many mutations it sent. */
export async function applyPlan(api: Api, plan: Plan, server: ServerWan | null): Promise<number> {
  const ids: Ids = { wanId: server?.wan.id ?? null, peers: new Map((server?.peers ?? []).map((peer) => [peer.name, peer.id])) };
  const before = api.mutations;
  for (const change of plan.changes) await change.run(api, ids);
  return api.mutations - before;
}
