import { builder } from '../builder.js';
import { DeviceKindEnum } from './enums.js';
import { notFound } from '../errors.js';
import { hostText, nameText, port, text, wholeNumber } from './input-rules.js';
import type { DeviceHealth } from '../../domain/device-health.js';
import { authModeOf } from '../../services/deploy/devices.js';

const AUTH_MODE = 'How the device signs in. pfSense: API_KEY (the secret is an API key, sent as X-API-Key; no username) or BASIC (username and password). RouterOS: BASIC. LINUX: none (null).';

export const DeviceAuthModeEnum = builder.enumType('DeviceAuthMode', {
  values: {
    API_KEY: { description: 'The secret is a pfSense REST API key; the device has no username.' },
    BASIC: { description: 'A username and a password (HTTP Basic, or the RouterOS API login).' },
  } as const,
});

const DeviceErrorRef = builder.objectRef<NonNullable<DeviceHealth['lastError']>>('DeviceCheckError').implement({
  fields: (t) => ({
    code: t.exposeString('code', { description: 'DEVICE_UNREACHABLE, DEVICE_TIMEOUT, DEVICE_TLS_FAILED, DEVICE_AUTH_FAILED, DEVICE_REFUSED or DEVICE_ERROR' }),
    message: t.exposeString('message'),
  }),
});

const DeviceHealthRef = builder.objectRef<DeviceHealth>('DeviceHealth').implement({
  description: 'One model of a device\'s health, fed by the handshake monitor and by connection tests.',
  fields: (t) => ({
    reachable: t.exposeBoolean('reachable', { nullable: true, description: 'The device answered on its last check.' }),
    authenticated: t.exposeBoolean('authenticated', { nullable: true, description: 'It accepted the credentials (null: not known, e.g. unreachable).' }),
    statsAvailable: t.exposeBoolean('statsAvailable', { nullable: true }),
    lastError: t.field({ type: DeviceErrorRef, nullable: true, description: 'Why the last check failed (null: it worked).', resolve: (health) => health.lastError }),
    since: t.field({ type: 'DateTime', description: 'When the current state (working, or failing with this error) began.', resolve: (health) => new Date(health.since) }),
    checkedAt: t.field({ type: 'DateTime', resolve: (health) => new Date(health.checkedAt) }),
    nextCheckAt: t.field({ type: 'DateTime', description: 'When the monitor checks it next: after a refused login or a connection failure the wait doubles up to 10 minutes; a connection test or an edit starts over.', resolve: (health) => new Date(health.nextCheckAt) }),
    consecutiveFailures: t.exposeInt('failures', { description: 'Failures in a row that back off (refused login, unreachable, timeout, TLS); 0 when working.' }),
  }),
});

export const Device = builder.prismaObject('Device', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.expose('kind', { type: DeviceKindEnum }),
    host: t.exposeString('host'),
    port: t.exposeInt('port', { nullable: true }),
    username: t.exposeString('username', { nullable: true }),
    authMode: t.field({ type: DeviceAuthModeEnum, nullable: true, description: AUTH_MODE, select: { kind: true, username: true }, resolve: (device) => authModeOf(device) }),
    hasSecret: t.boolean({ description: 'A password or API key is stored (never returned).', select: { secretEnc: true }, resolve: (device) => device.secretEnc !== null }),
    tls: t.exposeBoolean('tls'),
    tlsVerify: t.exposeBoolean('tlsVerify'),
    hasCustomCa: t.boolean({ select: { caPem: true }, resolve: (device) => Boolean(device.caPem) }),
    timeoutMs: t.exposeInt('timeoutMs'),
    concurrency: t.exposeInt('concurrency'),
    managementAddress: t.exposeString('managementAddress', { nullable: true }),
    health: t.field({
      type: DeviceHealthRef,
      nullable: true,
      description: 'What the last check (a monitor poll or a connection test) found; null until the device was checked.',
      resolve: (device, _args, ctx) => ctx.services.monitor.deviceHealth(device.id),
    }),
    reachable: t.boolean({
      nullable: true,
      description: 'health.reachable: whether the device answered on its last check (null: not checked yet).',
      resolve: (device, _args, ctx) => ctx.services.monitor.deviceHealth(device.id)?.reachable ?? null,
    }),
    statsAvailable: t.boolean({
      nullable: true,
      description: 'health.statsAvailable: false when the device cannot report handshakes and traffic (pfSense REST API packages before 2.9.0): show "no statistics", not zeros. null until known.',
      resolve: (device, _args, ctx) => ctx.services.monitor.deviceHealth(device.id)?.statsAvailable ?? null,
    }),
    source: t.exposeString('source', { description: '"db" (created here) or "config" (declared in the YAML file).' }),
    peers: t.relation('peers'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const deviceFields = {
  host: { validate: { schema: hostText } },
  port: { validate: { schema: port } },
  // 256: an OPNsense API key (the Basic user name) is 80 characters.
  username: { description: '"" clears it (pfSense: the secret is then an API key; OPNsense: the API key, the secret its API secret).', validate: { schema: text(256) } },
  secret: { description: 'Password or API key; stored encrypted and never returned.', validate: { schema: text(1024) } },
  caPem: { validate: { schema: text(16_384) } },
  timeoutMs: { validate: { schema: wholeNumber(100, 600_000) } },
  concurrency: { validate: { schema: wholeNumber(1, 64) } },
  managementAddress: { validate: { schema: hostText } },
} as const;

const CreateDeviceInput = builder.inputType('CreateDeviceInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: nameText() } }),
    kind: t.field({ type: DeviceKindEnum, required: true }),
    host: t.string({ required: true, ...deviceFields.host }),
    port: t.int(deviceFields.port),
    username: t.string(deviceFields.username),
    authMode: t.field({ type: DeviceAuthModeEnum, description: `${AUTH_MODE} Given: API_KEY refuses a username and needs the secret; BASIC needs both. Left out: as the username says.` }),
    secret: t.string(deviceFields.secret),
    tls: t.boolean({ description: 'Left out: from the port (ROUTEROS_API 8728 plain, 8729 TLS; ROUTEROS_REST, PFSENSE, OPNSENSE and OPENWRT 80 plain, 443 TLS; no port: TLS). Another port must say.' }),
    tlsVerify: t.boolean(),
    caPem: t.string(deviceFields.caPem),
    timeoutMs: t.int(deviceFields.timeoutMs),
    concurrency: t.int(deviceFields.concurrency),
    managementAddress: t.string(deviceFields.managementAddress),
    autoRepair: t.boolean({ description: 'When the drift watch finds this device\'s Meshplane items changed, deploy them back without asking (default false).' }),
  }),
});

const UpdateDeviceInput = builder.inputType('UpdateDeviceInput', {
  fields: (t) => ({
    name: t.string({ validate: { schema: nameText() } }),
    host: t.string(deviceFields.host),
    port: t.int(deviceFields.port),
    username: t.string(deviceFields.username),
    authMode: t.field({ type: DeviceAuthModeEnum, description: `${AUTH_MODE} API_KEY clears the username; BASIC needs one (given, or the stored one). A change of mode changes who signs in, so the secret must be given again.` }),
    secret: t.string({
      ...deviceFields.secret,
      description: 'Password or API key; stored encrypted and never returned. Left out: the stored one is kept, unless host, port, tls, tlsVerify, caPem or username change (then it must be given again, or "" to remove it).',
    }),
    tls: t.boolean({ description: 'Left out while port changes to the kind\'s plain or TLS port (8728/8729, 80/443): follows that port; to another port: kept.' }),
    tlsVerify: t.boolean(),
    caPem: t.string(deviceFields.caPem),
    timeoutMs: t.int(deviceFields.timeoutMs),
    concurrency: t.int(deviceFields.concurrency),
    managementAddress: t.string(deviceFields.managementAddress),
    autoRepair: t.boolean({ description: 'When the drift watch finds this device\'s Meshplane items changed, deploy them back without asking (default false).' }),
  }),
});

const Backend = builder.objectRef<{ defaultDeviceName: string | null }>('Backend').implement({
  description: 'Where new WAN memberships go (backend.default of the configuration file).',
  fields: (t) => ({
    defaultDevice: t.prismaField({
      type: 'Device',
      nullable: true,
      description: 'New peers are bound to this device unless they say otherwise; null: new peers are manual.',
      resolve: (query, backend, _args, ctx) => (backend.defaultDeviceName ? ctx.prisma.device.findUnique({ ...query, where: { name: backend.defaultDeviceName } }) : null),
    }),
  }),
});

builder.queryFields((t) => ({
  backend: t.field({
    type: Backend,
    authScopes: { role: 'VIEWER' },
    resolve: (_root, _args, ctx) => ({ defaultDeviceName: ctx.services.defaultDeviceName }),
  }),
  devices: t.prismaConnection({
    type: 'Device',
    cursor: 'id',
    authScopes: { role: 'VIEWER' },
    resolve: (query, _root, _args, ctx) => ctx.prisma.device.findMany({ ...query, orderBy: { name: 'asc' } }),
  }),
  device: t.prismaField({
    type: 'Device',
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => (await ctx.prisma.device.findUnique({ ...query, where: { id: String(id) } })) ?? Promise.reject(notFound('Device')),
  }),
}));

builder.mutationFields((t) => ({
  createDevice: t.prismaField({
    type: 'Device',
    authScopes: { role: 'OPERATOR' },
    args: { input: t.arg({ type: CreateDeviceInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const device = await ctx.services.devices.create(ctx.identity!, input);
      return ctx.prisma.device.findUniqueOrThrow({ ...query, where: { id: device.id } });
    },
  }),
  updateDevice: t.prismaField({
    type: 'Device',
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateDeviceInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      await ctx.services.devices.update(ctx.identity!, String(id), input);
      return ctx.prisma.device.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
  deleteDevice: t.id({
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.devices.delete(ctx.identity!, String(id))).id,
  }),
}));
