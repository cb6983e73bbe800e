// The WireGuard models (/work/shared/ref/opnsense.md §2.3 instance, §2.4 peer, general) with their
// masks, defaults, messages and the version that added each field.
import { base64Field, booleanField, hostOrIpField, integerField, networkField, optionField, portField, relationField, textField, type FieldContext, type FieldSpecs } from './fields.js';
import type { ModelDef } from './mvc.js';
import { splitList } from './model.js';
import type { Call } from './router.js';
import { atLeast } from './versions.js';

export const NAME_MASK = /^([0-9a-zA-Z._-]){1,64}$/u;
export const NAME_MESSAGE = 'Should be a string between 1 and 64 characters. Allowed characters are alphanumeric characters, dash and underscores.';

const nameField = () => textField(NAME_MASK, NAME_MESSAGE, true);

const clientOptions = (ctx: FieldContext): Array<[string, string]> =>
  [...ctx.model.config.clients.entries()].map(([uuid, client]) => [uuid, client.name ?? '']);
const serverOptions = (ctx: FieldContext): Array<[string, string]> =>
  [...ctx.model.config.servers.entries()].map(([uuid, server]) => [uuid, server.name ?? '']);

export const serverFields: FieldSpecs = {
  enabled: booleanField('1'),
  name: nameField(),
  instance: { ...integerField(0, 65535), default: (ctx) => ctx.model.nextInstance() },
  pubkey: base64Field(),
  privkey: base64Field(true, 'A private key is required.'),
  port: portField(),
  mtu: integerField(1, 9300),
  dns: networkField({ asList: true, noMask: true }),
  tunneladdress: networkField({ asList: true, maskRequired: (ctx) => ctx.model.features.instanceMaskRequired }),
  disableroutes: booleanField('0'),
  gateway: networkField({ noMask: true }),
  carp_depend_on: optionField(() => []),
  peers: relationField(clientOptions, 'Choose a peer.'),
  debug: booleanField('0', '25.7.6'),
  endpoint: { ...textField(), since: '24.7' },
  peer_dns: { ...textField(), since: '24.7' },
  allowed_ips: { ...textField(), since: '24.7' },
  interface: { render: 'plain', volatile: (ctx) => `wg${ctx.record.instance ?? ''}` },
  cnfFilename: { render: 'plain', volatile: (ctx) => `/usr/local/etc/wireguard/wg${ctx.record.instance ?? ''}.conf` },
  statFilename: { render: 'plain', volatile: (ctx) => `/usr/local/etc/wireguard/wg${ctx.record.instance ?? ''}.stat` },
};

export const clientFields: FieldSpecs = {
  enabled: booleanField('1'),
  name: nameField(),
  pubkey: base64Field(true, 'A public key is required.'),
  psk: base64Field(),
  tunneladdress: networkField({ asList: true, required: true, maskRequired: (ctx) => ctx.model.features.peerMaskRequired }),
  serveraddress: hostOrIpField(),
  serverport: portField(),
  keepalive: { ...integerField(1, 86400), validate: (value, ctx) => (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= ctx.model.features.keepaliveMax ? null : 'Invalid integer value.') },
  servers: { ...relationField(serverOptions, 'Choose an instance.'), since: '24.1', volatile: (ctx) => ctx.model.clientServers(ctx.uuid).join(',') },
  privkey: { ...base64Field(), since: '24.7' },
};

export const generalFields: FieldSpecs = {
  enabled: booleanField('0'),
};

const INSTANCE_VOLATILES = ['interface', 'cnfFilename', 'statFilename'];

export const serverDef: ModelDef = {
  key: 'server',
  records: (model) => model.config.servers,
  fields: serverFields,
  searchColumns: (call: Call) => (atLeast(call.model.version, '25.1.3') ? null : ['enabled', 'instance', 'peers', 'name', 'pubkey', 'port', 'tunneladdress', 'interface']),
  // 25.1.3 – 25.7.0 lost the volatile fields; 25.7.1 lists them again.
  searchOmits: (call: Call) => (call.faults.searchMissingInterfaceField ? INSTANCE_VOLATILES : []),
  constraints: (ctx, written) => {
    if (!written.has('gateway') && !written.has('disableroutes')) return {};
    return ctx.record.gateway && ctx.record.disableroutes !== '1' ? { disableroutes: 'You have to enable Disable Routes option.' } : {};
  },
};

export const clientDef: ModelDef = {
  key: 'client',
  records: (model) => model.config.clients,
  fields: clientFields,
  searchColumns: (call: Call) => {
    if (atLeast(call.model.version, '25.1.3')) return null;
    const columns = ['enabled', 'name', 'pubkey', 'tunneladdress', 'serveraddress', 'serverport'];
    return call.features.listServers ? [...columns, 'servers'] : columns;
  },
  // 24.1.3+: unique by pubkey + serveraddress + serverport; before, by pubkey alone.
  constraints: (ctx, written) => {
    if (!['pubkey', 'serveraddress', 'serverport'].some((name) => written.has(name))) return {};
    const triple = ctx.model.features.peerUniqueTriple;
    const clash = [...ctx.model.config.clients.entries()].some(([uuid, other]) => uuid !== ctx.uuid && other.pubkey === ctx.record.pubkey
      && (!triple || ((other.serveraddress ?? '') === (ctx.record.serveraddress ?? '') && (other.serverport ?? '') === (ctx.record.serverport ?? ''))));
    return clash ? { pubkey: 'Public keys should be unique.' } : {};
  },
};

export const generalDef: ModelDef = {
  key: 'general',
  records: (model) => new Map([['general', model.config.general]]),
  fields: generalFields,
};

/** Rewrites every instance's `peers` so that exactly `servers` hold the client (ClientController). */
export function setMembership(ctx: FieldContext['model'], clientUuid: string, servers: readonly string[]): void {
  for (const [uuid, server] of ctx.config.servers) {
    const peers = splitList(server.peers ?? '').filter((peer) => peer !== clientUuid);
    if (servers.includes(uuid)) peers.push(clientUuid);
    ctx.config.servers.set(uuid, { ...server, peers: peers.join(',') });
  }
}
