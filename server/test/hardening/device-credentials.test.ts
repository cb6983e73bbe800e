// A stored device credential goes only where it was entered for. Raw TCP (and TLS) listeners on
// loopback play the attacker: an OPERATOR or ADMIN edits a device's host, port, TLS, certificate
// checks, CA or username without typing the secret again, then tests the connection and lets
// the handshake monitor poll. Every such edit must be refused, and no listener may ever
// receive a byte carrying the secret (as text, base64 or hex). The real destination, also a
// listener, does receive it: the proof that the search would find it if it leaked.
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import type { GraphQLTestClient } from '../support/graphql.js';
import { leaks } from '../support/leaks.js';
import { generateSelfSignedCertificate } from '../sim/routeros/tls-certificate.js';
import { startRouterOsSimulator } from '../sim/routeros/index.js';
import { parseConfig } from '../../src/devices/config-file.js';
import { callersOf, type Callers } from './roles.js';

/** Records every byte (decrypted, for TLS) that clients send, and drops them soon after they speak. */
class Listener {
  private readonly chunks: Buffer[] = [];
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(host: string, port = 0, credentials?: { key: string; cert: string }): Promise<Listener> {
    const server = credentials ? tls.createServer(credentials) : net.createServer();
    const listener = await new Promise<Listener>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(new Listener(server, host, (server.address() as net.AddressInfo).port)));
    });
    server.on(credentials ? 'secureConnection' : 'connection', (socket: net.Socket) => listener.record(socket));
    server.on('tlsClientError', () => undefined);
    return listener;
  }

  private record(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    // Long enough for a client to send its whole login, short enough that it fails quickly.
    socket.once('data', () => setTimeout(() => socket.destroy(), 100).unref());
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const KINDS = ['ROUTEROS_API', 'ROUTEROS_REST', 'PFSENSE'] as const;
type Kind = (typeof KINDS)[number];

interface Places {
  /** Where the devices really are (plain TCP on 127.0.0.2). */
  real: Listener;
  /** 127.0.0.2 on another port: a port edit. */
  otherPort: Listener;
  /** 127.0.0.1 on the real port: a host edit. */
  otherHost: Listener;
  /** TLS with a certificate nobody trusts: certificate checks turned off, or its CA pasted. */
  untrustedTls: Listener;
  untrustedCa: string;
}

interface Edit {
  name: string;
  /** Where the device is before the edit (its credential entered for there). */
  before: (p: Places) => Record<string, unknown>;
  edit: (p: Places) => Record<string, unknown>;
}

const plainAt = (listener: Listener) => ({ host: listener.host, port: listener.port, tls: false });

const EDITS: Edit[] = [
  { name: 'host', before: (p) => plainAt(p.real), edit: (p) => ({ host: p.otherHost.host }) },
  { name: 'port', before: (p) => plainAt(p.real), edit: (p) => ({ port: p.otherPort.port }) },
  { name: 'port cleared to the default', before: (p) => plainAt(p.real), edit: () => ({ port: null }) },
  { name: 'host, port and tls together', before: (p) => ({ ...plainAt(p.real), tls: true, tlsVerify: true }), edit: (p) => plainAt(p.otherHost) },
  { name: 'tls off (cleartext)', before: (p) => ({ ...plainAt(p.otherHost), tls: true, tlsVerify: true }), edit: () => ({ tls: false }) },
  { name: 'certificate checks off', before: (p) => ({ ...plainAt(p.untrustedTls), tls: true, tlsVerify: true }), edit: () => ({ tlsVerify: false }) },
  { name: 'another CA', before: (p) => ({ ...plainAt(p.untrustedTls), tls: true, tlsVerify: true }), edit: (p) => ({ caPem: p.untrustedCa }) },
  { name: 'username', before: (p) => plainAt(p.real), edit: () => ({ username: 'someone-else' }) },
  { name: 'username cleared', before: (p) => plainAt(p.real), edit: () => ({ username: null }) },
];

const CREATE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { id host port tls tlsVerify username hasSecret hasCustomCa } }`;
const TEST = `mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { loggedIn message } }`;
const DEVICE = `query ($id: ID!) { device(id: $id) { host port tls tlsVerify username hasSecret hasCustomCa } }`;

const secretFor = (label: string) => `pw-${label.replace(/[^a-z0-9]+/gi, '-')}-${randomBytes(9).toString('hex')}`;

describe('a stored device credential is sent only where it was entered for', () => {
  let t: TestApp;
  let callers: Callers;
  let places: Places;
  let wanId: string;
  let devices = 0;

  beforeAll(async () => {
    t = await startTestApp();
    callers = await callersOf(t);
    const real = await Listener.start('127.0.0.2');
    const { key, cert } = await generateSelfSignedCertificate();
    places = {
      real,
      otherPort: await Listener.start('127.0.0.2'),
      otherHost: await Listener.start('127.0.0.1', real.port),
      untrustedTls: await Listener.start('127.0.0.1', 0, { key, cert }),
      untrustedCa: cert,
    };
    wanId = (await callers.admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "creds" }) { wan { id } } }`)).createWan.wan.id;
  });
  afterAll(async () => {
    await t?.stop();
    if (places) await Promise.all([places.real, places.otherPort, places.otherHost, places.untrustedTls].map((listener) => listener.stop()));
  });

  /** A device created by the admin with its secret; a peer bound to it makes the monitor read it every poll. */
  async function device(kind: Kind, at: Record<string, unknown>, secret: string | null): Promise<string> {
    const n = ++devices;
    const { createDevice } = await callers.admin.ok<{ createDevice: { id: string } }>(CREATE, {
      input: { name: `dev-${n}`, kind, username: 'meshplane', timeoutMs: 1000, ...(secret === null ? {} : { secret }), ...at },
    });
    await callers.admin.ok(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, {
      wanId, input: { name: `site-${n}`, deviceId: createDevice.id },
    });
    return createDevice.id;
  }

  /** A connection test by `client` and two monitor polls: everything that could send the credential. */
  async function exercise(client: GraphQLTestClient, id: string): Promise<void> {
    await client.ok(TEST, { id });
    await t.app.services.monitor.pollOnce();
    await t.app.services.monitor.pollOnce();
  }

  const captured = () => Buffer.concat([places.otherPort.received, places.otherHost.received, places.untrustedTls.received]);

  it('refuses every edit of where or how the secret is sent without it, for ADMIN and OPERATOR, and nothing reaches a listener', async () => {
    const secrets = new Map<string, string>();
    const refusals: string[] = [];
    // One device per kind × edit × role; the kinds run side by side.
    await Promise.all(KINDS.map(async (kind) => {
      for (const edit of EDITS) {
        for (const role of ['ADMIN', 'OPERATOR'] as const) {
          const label = `${kind} ${edit.name} by ${role}`;
          const secret = secretFor(label);
          secrets.set(label, secret);
          const id = await device(kind, edit.before(places), secret);
          const before = await callers.admin.ok(DEVICE, { id });
          const client = callers.byRole[role];
          const result = await client.request(UPDATE, { id, input: edit.edit(places) });
          const error = result.errors?.[0];
          refusals.push(`${label}: ${error?.extensions?.code} ${(error?.extensions?.details as { field?: string } | undefined)?.field}`);
          expect(error?.message, label).toMatch(/requires entering it again/);
          expect(await callers.admin.ok(DEVICE, { id }), `${label}: nothing changed`).toEqual(before);
          await client.ok(TEST, { id });
        }
      }
    }));
    // The handshake monitor reads every one of these devices (a peer is bound to each).
    await t.app.services.monitor.pollOnce();
    await t.app.services.monitor.pollOnce();
    expect(refusals).toEqual(refusals.map((line) => `${line.split(':')[0]}: BAD_USER_INPUT secret`));
    expect(leaks(captured(), secrets)).toEqual([]);
    // The control: the real destination got the secrets of the devices pointed at it, in the
    // form each protocol sends (RouterOS API text, HTTP Basic base64).
    const atReal = EDITS.filter((edit) => edit.before(places).host === places.real.host && edit.before(places).tls === false).map((edit) => edit.name);
    const expected = KINDS.flatMap((kind) => atReal.flatMap((name) => ['ADMIN', 'OPERATOR'].map((role) => `${kind} ${name} by ${role}`)));
    const found = [...secrets].filter(([label, secret]) => leaks(places.real.received, new Map([[label, secret]])).length > 0).map(([label]) => label);
    expect(found.sort()).toEqual(expected.sort());
  }, 120_000);

  it('moves a device whose edit carries the secret again, and sends only that new secret there', async () => {
    for (const kind of KINDS) {
      const old = secretFor(`${kind} old`);
      const id = await device(kind, plainAt(places.real), old);
      const fresh = secretFor(`${kind} fresh`);
      const moved = await callers.byRole.OPERATOR.ok<{ updateDevice: Record<string, unknown> }>(UPDATE, { id, input: { host: places.otherHost.host, secret: fresh } });
      expect(moved.updateDevice).toMatchObject({ host: places.otherHost.host, hasSecret: true });
      await exercise(callers.byRole.OPERATOR, id);
      expect(leaks(captured(), new Map([['old', old]]))).toEqual([]);
      expect(leaks(places.otherHost.received, new Map([['fresh', fresh]])).length, `${kind}: the moved device logs in at its new place`).toBeGreaterThan(0);
    }
  });

  it('makes the handshake monitor follow a moved device: its next poll logs in at the new place with the new secret', async () => {
    const sim = await startRouterOsSimulator({ password: secretFor('simulated router') });
    try {
      const id = await device('ROUTEROS_API', { host: sim.host, port: sim.apiPort, tls: false, username: sim.username }, sim.password);
      await t.app.services.monitor.pollOnce();
      // Reachable: the monitor now holds a logged-in driver for the router.
      expect((await callers.admin.ok<{ device: { reachable: boolean } }>(`query ($id: ID!) { device(id: $id) { reachable } }`, { id })).device.reachable).toBe(true);
      const fresh = secretFor('after the move');
      await callers.byRole.OPERATOR.ok(UPDATE, { id, input: { host: places.otherPort.host, port: places.otherPort.port, secret: fresh } });
      await t.app.services.monitor.pollOnce();
      expect(leaks(places.otherPort.received, new Map([['fresh', fresh]])).length).toBeGreaterThan(0);
      expect(leaks(captured(), new Map([['router password', sim.password]]))).toEqual([]);
    } finally {
      await sim.stop();
    }
  });

  it('never lets a device of the configuration file keep its secret when the file moves it (what each start loads)', async () => {
    const secret = secretFor('from the environment');
    const load = (yaml: string, env: NodeJS.ProcessEnv) => t.app.services.devices.syncFromConfig(parseConfig(yaml, os.tmpdir(), env));
    const declared = (at: Listener, credential: string) =>
      `devices:\n  - name: declared\n    kind: ROUTEROS_API\n    host: ${at.host}\n    port: ${at.port}\n    tls: false\n    username: meshplane\n${credential}    timeoutMs: 1000\n`;
    await load(declared(places.real, '    password: ${EDGE_PASSWORD}\n'), { EDGE_PASSWORD: secret });
    const id = (await t.app.database.prisma.device.findUniqueOrThrow({ where: { name: 'declared' } })).id;
    await callers.byRole.OPERATOR.ok(TEST, { id });
    expect(leaks(places.real.received, new Map([['declared', secret]])).length).toBeGreaterThan(0);
    // The next start reads a file that moved the device and names no password.
    await load(declared(places.otherHost, ''), {});
    expect((await callers.admin.ok<{ device: { hasSecret: boolean; host: string } }>(DEVICE, { id })).device).toMatchObject({ host: places.otherHost.host, hasSecret: false });
    await exercise(callers.byRole.OPERATOR, id);
    expect(leaks(captured(), new Map([['declared', secret]]))).toEqual([]);
  });

  it('moves a device whose edit removes the secret ("") and then sends none', async () => {
    const old = secretFor('removed');
    const id = await device('ROUTEROS_API', plainAt(places.real), old);
    const moved = await callers.byRole.OPERATOR.ok<{ updateDevice: Record<string, unknown> }>(UPDATE, { id, input: { port: places.otherPort.port, secret: '' } });
    expect(moved.updateDevice).toMatchObject({ port: places.otherPort.port, hasSecret: false });
    await exercise(callers.byRole.OPERATOR, id);
    expect(leaks(captured(), new Map([['old', old]]))).toEqual([]);
  });

  it('lets a device without a stored secret move freely', async () => {
    const id = await device('ROUTEROS_REST', plainAt(places.real), null);
    const moved = await callers.byRole.OPERATOR.ok<{ updateDevice: Record<string, unknown> }>(UPDATE, { id, input: { host: places.otherHost.host, tls: false } });
    expect(moved.updateDevice).toMatchObject({ host: places.otherHost.host, hasSecret: false });
  });

  it('does not ask for the secret for edits that send it nowhere new, or that repeat the current destination', async () => {
    for (const kind of KINDS) {
      const secret = secretFor(`${kind} kept`);
      const id = await device(kind, plainAt(places.real), secret);
      const edits = [
        { name: `kept-${kind}`, timeoutMs: 1500, concurrency: 2, managementAddress: '192.0.2.77' },
        // What the web form sends on "Save": every field, as it is.
        { ...plainAt(places.real), username: 'meshplane', tlsVerify: true },
      ];
      for (const input of edits) {
        const { updateDevice } = await callers.byRole.OPERATOR.ok<{ updateDevice: Record<string, unknown> }>(UPDATE, { id, input });
        expect(updateDevice).toMatchObject({ host: places.real.host, port: places.real.port, hasSecret: true });
      }
      await callers.byRole.OPERATOR.ok(TEST, { id });
      expect(leaks(places.real.received, new Map([['kept', secret]])).length, `${kind}: the real device still gets its secret`).toBeGreaterThan(0);
    }
  });
});
