// One health model for the monitor and connection tests, and a monitor that backs off: with a
// wrong password, testDeviceConnection and Device.health agree (reachable, not authenticated,
// DEVICE_AUTH_FAILED); the RouterOS simulator counts the login attempts the running monitor
// makes, which grow with the logarithm of the time (the wait doubles), not with the polls;
// a connection test starts the backoff over; the log says each change of state once.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/logger.js';
import { startRouterOsSimulator, type RouterOsSimulator } from './sim/routeros/index.js';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

const INTERVAL_MS = 40;

const HEALTH = `query ($id: ID!) { device(id: $id) { reachable statsAvailable health { reachable authenticated statsAvailable lastError { code message } since checkedAt nextCheckAt consecutiveFailures } } }`;
interface Health {
  reachable: boolean | null;
  authenticated: boolean | null;
  statsAvailable: boolean | null;
  lastError: { code: string; message: string } | null;
  since: string;
  checkedAt: string;
  nextCheckAt: string;
  consecutiveFailures: number;
}
type DeviceView = { device: { reachable: boolean | null; statsAvailable: boolean | null; health: Health | null } };

describe('device health: one model, backoff, one log line per change', () => {
  let app: TestApp;
  let admin: GraphQLTestClient;
  let sim: RouterOsSimulator;
  let deviceId: string;
  const logins: boolean[] = [];
  const log: Array<{ level: number; msg: string; deviceId?: string }> = [];

  beforeAll(async () => {
    sim = await startRouterOsSimulator();
    const authenticate = sim.model.authenticate.bind(sim.model);
    sim.model.authenticate = (name, password, address, via) => {
      const ok = authenticate(name, password, address, via);
      logins.push(ok);
      return ok;
    };
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) log.push(JSON.parse(line));
        done();
      },
    });
    app = await startTestApp({ logger: createLogger('info', sink), env: { MESHPLANE_MONITOR_INTERVAL_MS: String(INTERVAL_MS) } });
    admin = await registerAdmin(app.graphqlUrl);
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "health" }) { wan { id } } }`);
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'router', kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, tls: false, username: sim.username, secret: 'not-the-password', timeoutMs: 2000 },
    });
    deviceId = createDevice.id;
    await admin.ok(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, {
      wanId: createWan.wan.id, input: { name: 'site', deviceId, endpointHost: 'site.example.test', endpointPort: 51820 },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  const health = async () => (await admin.ok<DeviceView>(HEALTH, { id: deviceId })).device;
  const warnings = () => log.filter((line) => line.level === 40 && line.deviceId === deviceId);
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const scheduled = (h: Health) => Date.parse(h.nextCheckAt) - Date.parse(h.checkedAt);

  it('says the same about a wrong password through testDeviceConnection and Device.health', async () => {
    expect((await health()).health).toBeNull();
    const { testDeviceConnection } = await admin.ok<{ testDeviceConnection: { reachable: boolean; loggedIn: boolean; errorCode: string } }>(
      `mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { reachable loggedIn errorCode } }`, { id: deviceId },
    );
    expect(testDeviceConnection).toEqual({ reachable: true, loggedIn: false, errorCode: 'DEVICE_AUTH_FAILED' });
    const afterTest = await health();
    expect(afterTest).toMatchObject({ reachable: true, health: { reachable: true, authenticated: false, lastError: { code: 'DEVICE_AUTH_FAILED' }, consecutiveFailures: 1 } });
    expect(afterTest.health!.lastError!.message).not.toContain('not-the-password');

    // The monitor's poll reads the same device and comes to the same conclusion.
    await app.app.services.monitor.pollOnce();
    expect((await health()).health).toMatchObject({ reachable: true, authenticated: false, lastError: { code: 'DEVICE_AUTH_FAILED' }, since: afterTest.health!.since });
  });

  it('backs off: login attempts grow with the logarithm of the time, each wait twice the last', async () => {
    // A connection test starts the schedule over: from here on, attempt n waits INTERVAL_MS * 2^(n-1).
    await admin.ok(`mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { loggedIn } }`, { id: deviceId });
    const before = logins.length;
    const warningsBefore = warnings().length;
    const started = Date.now();
    const pollsBefore = app.app.services.monitor.polls;
    app.app.services.monitor.start();
    for (let i = 0; i < 400 && app.app.services.monitor.polls - pollsBefore < 60; i++) await wait(INTERVAL_MS);
    const elapsed = Date.now() - started;
    const polls = app.app.services.monitor.polls - pollsBefore;
    const attempts = logins.length - before;
    // Attempt n comes at least INTERVAL_MS * 2^(n-2) after the one before it (the wait, less the
    // monitor's half-interval of slack), so n attempts need INTERVAL_MS * (2^(n-1) - 1) / 2.
    const bound = 1 + Math.floor(Math.log2((2 * elapsed) / INTERVAL_MS + 1));
    expect(polls).toBeGreaterThanOrEqual(30);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(bound);
    expect(logins.slice(before).every((ok) => !ok)).toBe(true);

    const { health: now } = await health();
    expect(now!.consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect(scheduled(now!)).toBe(INTERVAL_MS * 2 ** (now!.consecutiveFailures - 1));
    // Still the same state: not one more warning for all those polls.
    expect(warnings().length).toBe(warningsBefore);
  });

  it('starts over on a connection test, and logs the recovery once after the password is fixed', async () => {
    // Paused, so no poll lands between the test and the read of its result.
    await app.app.services.monitor.stop();
    const { health: backedOff } = await health();
    expect(backedOff!.consecutiveFailures).toBeGreaterThanOrEqual(3);
    await admin.ok(`mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { loggedIn } }`, { id: deviceId });
    const { health: reset } = await health();
    expect(reset).toMatchObject({ consecutiveFailures: 1, authenticated: false });
    expect(scheduled(reset!)).toBe(INTERVAL_MS);

    app.app.services.monitor.start();
    await admin.ok(`mutation ($id: ID!, $secret: String!) { updateDevice(id: $id, input: { secret: $secret }) { id } }`, { id: deviceId, secret: sim.password });
    let recovered: Health | null = null;
    for (let i = 0; i < 200 && !recovered; i++) {
      const { health: current } = await health();
      if (current?.authenticated) recovered = current;
      else await wait(INTERVAL_MS);
    }
    expect(recovered).toMatchObject({ reachable: true, authenticated: true, statsAvailable: true, lastError: null, consecutiveFailures: 0 });
    expect(scheduled(recovered!)).toBe(INTERVAL_MS);
    // Polls go on at the interval while it works; the log has the one failure and the one recovery.
    await wait(INTERVAL_MS * 10);
    const lines = log.filter((line) => line.deviceId === deviceId).map((line) => `${line.level} ${line.msg.split(' (')[0]}`);
    expect(lines).toEqual(['40 device check failed', '30 device answers again']);
  });
});
