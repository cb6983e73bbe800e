// TLS follows the port when the operator does not say (8728 plain, 8729 TLS; 80 plain, 443
// TLS; no port: TLS; any other port must say), and TLS toward a port that does not speak it is
// reported as DEVICE_TLS_FAILED with a hint, within the device's timeout, not as a timeout.
// The RouterOS simulator is reached on the real port numbers through forwarders on a loopback
// address of its own (127.x.y.z, so 8728/8729 are free whatever else runs here); a raw
// listener that accepts and never answers plays a device whose TLS handshake stalls.
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterOsSimulator, type RouterOsSimulator } from './sim/routeros/index.js';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

/** Accepts TCP on host:port and either pipes it to `to` or, without it, stays silent. */
class Forwarder {
  private readonly sockets = new Set<net.Socket>();
  accepted = 0;
  private constructor(private readonly server: net.Server) {}

  static async start(host: string, port: number, to?: number): Promise<Forwarder> {
    const server = net.createServer();
    const forwarder = new Forwarder(server);
    server.on('connection', (socket) => {
      forwarder.accepted++;
      forwarder.track(socket);
      if (to === undefined) return;
      const upstream = forwarder.track(net.connect(to, '127.0.0.1'));
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return forwarder;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private track(socket: net.Socket): net.Socket {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const CREATE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id tls port } }`;
const TEST = `mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { reachable loggedIn message errorCode } }`;
const TIMEOUT_MS = 1500;

type Report = { reachable: boolean; loggedIn: boolean; message: string; errorCode: string | null };

describe('TLS defaults from the port, and a TLS handshake that stalls', () => {
  let app: TestApp;
  let admin: GraphQLTestClient;
  let sim: RouterOsSimulator;
  let host: string;
  const listeners: Forwarder[] = [];
  let silent: Forwarder;
  let wanId: string;
  let peers = 0;

  beforeAll(async () => {
    sim = await startRouterOsSimulator();
    // A loopback address of its own: the real port numbers are free there.
    for (let attempt = 0; ; attempt++) {
      host = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
      try {
        listeners.push(await Forwarder.start(host, 8728, sim.apiPort));
        listeners.push(await Forwarder.start(host, 8729, sim.apiTlsPort));
        listeners.push(await Forwarder.start(host, 80));
        break;
      } catch (error) {
        await Promise.all(listeners.splice(0).map((listener) => listener.stop()));
        if (attempt > 5) throw error;
      }
    }
    silent = await Forwarder.start('127.0.0.1', 0);
    listeners.push(silent);
    app = await startTestApp();
    admin = await registerAdmin(app.graphqlUrl);
    wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "tls" }) { wan { id } } }`)).createWan.wan.id;
  });
  afterAll(async () => {
    await app?.stop();
    await Promise.all(listeners.map((listener) => listener.stop()));
    await sim?.stop();
  });

  let devices = 0;
  async function create(input: Record<string, unknown>): Promise<{ id: string; tls: boolean; port: number | null }> {
    const { createDevice } = await admin.ok<{ createDevice: { id: string; tls: boolean; port: number | null } }>(CREATE, {
      input: { name: `dev-${++devices}`, username: sim.username, secret: sim.password, timeoutMs: TIMEOUT_MS, ...input },
    });
    return createDevice;
  }
  /** A peer on the device, so planDeploy has something to plan. */
  async function peerOn(deviceId: string): Promise<string> {
    const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string } } }>(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, {
      wanId, input: { name: `site-${++peers}`, deviceId, endpointHost: `site${peers}.example.test`, endpointPort: 51820 },
    });
    return addPeer.peer.id;
  }
  const test = async (id: string) => (await admin.ok<{ testDeviceConnection: Report }>(TEST, { id })).testDeviceConnection;

  it('stores a RouterOS API device on 8728 without tls as plain and logs in; 8729 or no port is TLS', async () => {
    const plain = await create({ kind: 'ROUTEROS_API', host, port: 8728 });
    expect(plain.tls).toBe(false);
    expect(await test(plain.id)).toMatchObject({ reachable: true, loggedIn: true, errorCode: null });

    const secure = await create({ kind: 'ROUTEROS_API', host, port: 8729, tlsVerify: false });
    expect(secure.tls).toBe(true);
    expect(await test(secure.id)).toMatchObject({ reachable: true, loggedIn: true });

    expect(await create({ kind: 'ROUTEROS_API', host })).toMatchObject({ tls: true, port: null });
    expect(await create({ kind: 'ROUTEROS_REST', host, port: 80 })).toMatchObject({ tls: false });
    expect(await create({ kind: 'ROUTEROS_REST', host, port: 443 })).toMatchObject({ tls: true });
    expect(await create({ kind: 'PFSENSE', host, port: 80 })).toMatchObject({ tls: false });
    expect(await create({ kind: 'PFSENSE', host, port: 443 })).toMatchObject({ tls: true });
    // Said explicitly, it is kept whatever the port.
    expect(await create({ kind: 'ROUTEROS_API', host, port: 8728, tls: true })).toMatchObject({ tls: true });
  });

  it('refuses another port without tls, on the tls field, for every kind', async () => {
    for (const [kind, port] of [['ROUTEROS_API', 18728], ['ROUTEROS_REST', 8443], ['PFSENSE', 8443]] as const) {
      const result = await admin.request(CREATE, { input: { name: `odd-${kind}`, kind, host, port } });
      expect(result.errors?.[0]?.extensions, kind).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'tls' } });
      expect(result.errors?.[0]?.message).toMatch(new RegExp(`say whether port ${port} speaks TLS`));
    }
    expect(await create({ kind: 'ROUTEROS_REST', host, port: 8443, tls: true })).toMatchObject({ tls: true });
  });

  it('follows a new well-known port on update when tls is not given, and keeps it on another port', async () => {
    const device = await create({ kind: 'ROUTEROS_API', host });
    const UPDATE = `mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { tls port } }`;
    expect((await admin.ok<{ updateDevice: unknown }>(UPDATE, { id: device.id, input: { port: 8728, secret: sim.password } })).updateDevice).toEqual({ tls: false, port: 8728 });
    expect(await test(device.id)).toMatchObject({ loggedIn: true });
    expect((await admin.ok<{ updateDevice: unknown }>(UPDATE, { id: device.id, input: { port: 18728, secret: sim.password } })).updateDevice).toEqual({ tls: false, port: 18728 });
  });

  it('reports TLS toward the plain API port as DEVICE_TLS_FAILED with a hint, from the test and from planDeploy', async () => {
    const device = await create({ kind: 'ROUTEROS_API', host, port: 8728, tls: true, tlsVerify: false });
    const report = await test(device.id);
    expect(report).toMatchObject({ reachable: false, loggedIn: false, errorCode: 'DEVICE_TLS_FAILED' });
    expect(report.message).toContain(`connected to ${host}:8728 but`);
    expect(report.message).toContain('is this the plain api port? (8728 is plain, 8729 TLS)');

    const peerId = await peerOn(device.id);
    const plan = await admin.request(`mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { planHash } }`, { peerId });
    expect(plan.errors?.[0]?.extensions?.code).toBe('DEVICE_TLS_FAILED');
    expect(plan.errors?.[0]?.message).toContain('is this the plain api port?');
  });

  it('tells a stalled TLS handshake from a silent plain connection on every kind', async () => {
    const stalls: Array<[string, Report]> = [];
    for (const kind of ['ROUTEROS_API', 'ROUTEROS_REST', 'PFSENSE'] as const) {
      const device = await create({ kind, host: '127.0.0.1', port: silent.port, tls: true, tlsVerify: false });
      stalls.push([kind, await test(device.id)]);
    }
    for (const [kind, report] of stalls) {
      expect(report, kind).toMatchObject({ loggedIn: false, errorCode: 'DEVICE_TLS_FAILED' });
      expect(report.message, kind).toContain(`connected to 127.0.0.1:${silent.port} but no TLS handshake within ${TIMEOUT_MS} ms: is TLS enabled on this port?`);
    }
    // The control: plain TCP to the same silent listener connects and then waits for a reply.
    const plain = await create({ kind: 'ROUTEROS_API', host: '127.0.0.1', port: silent.port, tls: false });
    const report = await test(plain.id);
    expect(report).toMatchObject({ loggedIn: false, errorCode: 'DEVICE_TIMEOUT' });
    expect(report.message).not.toContain('TLS');
    // And nothing listening at all is unreachable, not TLS.
    const nowhere = await create({ kind: 'ROUTEROS_REST', host: '127.0.0.1', port: 1, tls: true });
    expect(await test(nowhere.id)).toMatchObject({ reachable: false, errorCode: 'DEVICE_UNREACHABLE' });
  });

  it('reports HTTPS toward a plain HTTP port of a REST device as DEVICE_TLS_FAILED', async () => {
    // The listener on port 80 accepts and stays silent, as a plain www service waiting for a request would.
    const device = await create({ kind: 'ROUTEROS_REST', host, port: 80, tls: true });
    const report = await test(device.id);
    expect(report).toMatchObject({ errorCode: 'DEVICE_TLS_FAILED' });
    expect(report.message).toContain('is this the plain www port? (80 is plain, 443 TLS)');
  });
});
