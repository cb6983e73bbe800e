// The WireGuard models of pfSense-pkg-RESTAPI v2.10.0 (pfsense-wireguard-models.json).
import { ApiError } from './envelope.js';
import { invalid, type FieldContext, type ModelSpec } from './fields.js';
import type { Obj } from './store.js';
import { WG_KEY, clampedKeyPair, requireIp, requirePort } from './validators.js';
import type { Environment } from './fields.js';

/** next_wg_if(): the lowest N for which tun_wgN is not configured. */
function nextTunnelName(ctx: FieldContext): string {
  const taken = new Set(ctx.siblings.map(([, tunnel]) => tunnel.name));
  for (let n = 0; n < 32768; n++) if (!taken.has(`tun_wg${n}`)) return `tun_wg${n}`;
  throw invalid('WIREGUARD_TUNNEL_MAXIMUM_REACHED', 'No free tunnel name is left.');
}

function addressSpec(name: string, minMask: number, conflictCheck: boolean): ModelSpec {
  return {
    name,
    fields: {
      address: { type: 'string', required: true, check: (value) => requireIp('address', value) },
      mask: { type: 'integer', required: true, min: minMask, max: 128 },
      descr: { type: 'string', default: '' },
    },
    uniqueTogether: ['address', 'mask'],
    check: conflictCheck
      ? (obj, ctx) => {
        const owner = typeof ctx.owner?.name === 'string' ? ctx.owner.name : null;
        if (ctx.env.state.addressInUse(String(obj.address), Number(obj.mask), { tunnel: owner })) {
          throw new ApiError(409, 'WIREGUARD_TUNNEL_ADDRESS_AND_MASK_ALREADY_IN_USE', 'This tunnel`s `address` and `mask` is already in use on this system.');
        }
      }
      : undefined,
  };
}

export const tunnelAddressSpec = addressSpec('WireGuardTunnelAddress', 1, true);
export const allowedIpSpec = addressSpec('WireGuardPeerAllowedIP', 0, false);

export const tunnelSpec: ModelSpec = {
  name: 'WireGuardTunnel',
  subsystem: 'wireguard',
  fields: {
    name: { type: 'string', readOnly: true, editable: false, defaultFrom: nextTunnelName },
    enabled: {
      type: 'boolean',
      default: true,
      check: (value, ctx) => {
        const name = ctx.existing?.name;
        if (value === false && typeof name === 'string' && ctx.env.state.interfaceUsing(name) !== null) {
          throw new ApiError(409, 'WIREGUARD_TUNNEL_CANNOT_BE_DISABLED_WHILE_IN_USE_BY_INTERFACE', 'This tunnel cannot be disabled while it is assigned to an interface.');
        }
      },
    },
    descr: { type: 'string', default: '', maxLength: 1024 },
    listenport: { type: 'string', default: '51820', unique: true, check: (value) => requirePort('listenport', value) },
    publickey: { type: 'string', readOnly: true },
    privatekey: {
      type: 'string',
      required: true,
      hidden: true,
      check: (value) => {
        if (!WG_KEY.test(String(value))) throw invalid('WIREGUARD_TUNNEL_INVALID_PRIVATE_KEY', 'Field `privatekey` must be a valid WireGuard private key.');
      },
    },
    mtu: { type: 'integer', default: 1420, min: 0 },
    addresses: { type: 'nested', default: [], item: tunnelAddressSpec },
  },
  finish: (obj) => {
    const pair = clampedKeyPair(String(obj.privatekey));
    obj.privatekey = pair.privateKey;
    obj.publickey = pair.publicKey;
  },
};

/** v2.8.1+ (#902): a PATCH of an assigned tunnel has its addresses scrubbed to []. */
export function scrubAssignedTunnelAddresses(input: Obj, existing: Obj, env: Environment): void {
  if ('addresses' in input && env.state.interfaceUsing(String(existing.name)) !== null && env.state.versionAtLeast('2.8.1')) input.addresses = [];
}

export const peerSpec: ModelSpec = {
  name: 'WireGuardPeer',
  subsystem: 'wireguard',
  fields: {
    enabled: { type: 'boolean', default: false },
    tun: {
      type: 'string',
      default: 'unassigned',
      check: (value, ctx) => {
        if (value !== 'unassigned' && !ctx.env.state.tunnelNames().includes(String(value))) {
          throw invalid('FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND', `Field 'tun' could not locate 'WireGuard Tunnel' object with 'name' set to '${String(value)}'`, 404);
        }
      },
    },
    endpoint: { type: 'string', nullable: true, default: null, check: (value) => requireIp('endpoint', value, true) },
    port: { type: 'string', nullable: true, default: '51820', when: (obj) => obj.endpoint !== null && obj.endpoint !== undefined, check: (value) => requirePort('port', value) },
    descr: { type: 'string', default: '', maxLength: 1024 },
    persistentkeepalive: { type: 'integer', nullable: true, default: null, min: 0, max: 65535 },
    publickey: { type: 'string', required: true, unique: true },
    presharedkey: {
      type: 'string',
      nullable: true,
      default: '',
      hidden: true,
      check: (value) => {
        if (value !== '' && !WG_KEY.test(String(value))) throw invalid('WIREGUARD_PEER_PRESHAREDKEY_INVALID', 'Field `presharedkey` must be a valid WireGuard pre-shared key.');
      },
    },
    allowedips: { type: 'nested', default: [], item: allowedIpSpec },
  },
};

export const settingsSpec: ModelSpec = {
  name: 'WireGuardSettings',
  subsystem: 'wireguard',
  fields: {
    enable: {
      type: 'boolean',
      default: false,
      check: (value, ctx) => {
        if (value === false && ctx.env.state.tunnelNames().some((name) => ctx.env.state.interfaceUsing(name) !== null)) {
          throw new ApiError(409, 'WIREGUARD_SETTINGS_CANNOT_DISABLE_WITH_ACTIVE_TUNNELS', 'WireGuard cannot be disabled while tunnels are assigned to interfaces.');
        }
      },
    },
    keep_conf: { type: 'boolean', default: true },
    resolve_interval_track: { type: 'boolean', default: false },
    resolve_interval: { type: 'integer', nullable: true, default: 300, when: (obj) => obj.resolve_interval_track === false },
    interface_group: { type: 'string', default: 'all', choices: ['all', 'unassigned', 'none'] },
    hide_secrets: { type: 'boolean', default: false },
    hide_peers: { type: 'boolean', default: false },
  },
};

