// Alert rules and tunnel events end to end: a real app polling a RouterOS simulator, rules made
// through GraphQL, handshakes set on the simulator, a second simulator stopped and started again
// for a device that cannot be reached, and a loopback webhook receiver. The alert clock is moved
// instead of waiting minutes; the tunnels' freshness still runs on real time.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import type { App } from '../src/app.js';
import { startRouterOsSimulator, type RouterOsSimulator } from './sim/routeros/index.js';
import { buildOverlay, deploy, Feed, liveFixture, startCountedSimulator, startLiveApp, type CountedSimulator, type LiveApp, type Overlay } from './live-ops/harness.js';
import { GraphQLTestClient } from './support/graphql.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';
import { startReplicas, type Replica, type ReplicaSet } from './support/replicas.js';
import { redisOrSkip, startRedis, type RedisServer } from './support/redis.js';

interface Received {
  id: string;
  type: string;
  subject: { kind: string; id: string; name: string };
  wan: { id: string; name: string } | null;
  data: Record<string, unknown>;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, polls = 400, pollMs = 25): Promise<T> {
  let last: unknown;
  for (let poll = 0; poll < polls; poll++) {
    last = await check();
    if (last !== undefined) return last as T;
    await wait(pollMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const INCIDENTS = `{ openAlertIncidents { id subjectName firingSince link rule { id name } } }`;
const NOTIFICATIONS = `{ unreadNotificationCount notifications(first: 50) { edges { node { id title body severity link read ruleId incidentId } } } }`;
type Incident = { id: string; subjectName: string; firingSince: string; link: string | null; rule: { id: string; name: string } };
type NotificationView = { id: string; title: string; body: string; severity: string; link: string | null; read: boolean; ruleId: string | null; incidentId: string | null };

/** A loopback webhook receiver keeping every event it is sent. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const ALERT_EVENTS = ['tunnel.down', 'tunnel.up', 'alert.firing', 'alert.resolved'];

async function subscribeWebhook(admin: GraphQLTestClient, url: string): Promise<void> {
  await admin.ok(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`, {
    input: { name: 'ops', url, events: ALERT_EVENTS, allowPrivateTargets: true },
  });
}

/** Distinct events of a type (receivers de-duplicate on the event id: a retry is the same event). */
const eventsOf = (received: readonly Received[], type: string) => [...new Map(received.filter((event) => event.type === type).map((event) => [event.id, event])).values()];

async function tunnelStateOf(admin: GraphQLTestClient, wanId: string, a: string, b: string): Promise<string | undefined> {
  const { wan } = await admin.ok<{ wan: { topologyGraph: { edges: Array<{ from: string; to: string; state: string }> } } }>(
    `query ($id: ID!) { wan(id: $id) { topologyGraph { edges { from to state } } } }`, { id: wanId });
  return wan.topologyGraph.edges.find((edge) => [edge.from, edge.to].sort().join() === [a, b].sort().join())?.state;
}

async function evaluationsOf(app: App, count: number): Promise<void> {
  const start = app.services.alerts.evaluations;
  await eventually(`${count} evaluations`, () => (app.services.alerts.evaluations - start >= count ? true : undefined));
  await app.services.alerts.settled();
}

const incidentsOf = async (admin: GraphQLTestClient) => (await admin.ok<{ openAlertIncidents: Incident[] }>(INCIDENTS)).openAlertIncidents;
const notificationsOf = async (admin: GraphQLTestClient) => {
  const data = await admin.ok<{ unreadNotificationCount: number; notifications: { edges: Array<{ node: NotificationView }> } }>(NOTIFICATIONS);
  return { unread: data.unreadNotificationCount, list: data.notifications.edges.map((edge) => edge.node) };
};

describe('alert rules and tunnel events', () => {
  let offset = 0;
  const fx = liveFixture({ app: { monitorIntervalMs: 100, alertClock: () => new Date(Date.now() + offset), tunnelEventGraceMs: 120_000 } });
  let received: Received[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let ws: Client;

  beforeAll(async () => {
    receiver = await startReceiver();
    received = receiver.received;
    await subscribeWebhook(fx.overlay.admin, receiver.url);
    ws = fx.overlay.ws();
  });
  afterAll(async () => {
    await ws?.dispose();
    await receiver?.close();
  });

  const app = () => fx.live.app;
  const ofType = (type: string) => eventsOf(received, type);
  const evaluations = (count: number) => evaluationsOf(app(), count);
  const tunnelState = (a: string, b: string) => tunnelStateOf(fx.overlay.admin, fx.overlay.wanId, a, b);
  const incidents = () => incidentsOf(fx.overlay.admin);
  const notifications = () => notificationsOf(fx.overlay.admin);

  it('a tunnel down for N minutes: tunnel.down after the grace, one incident, one notification and one alert.firing; up again: resolved once, tunnel.up once', async () => {
    const { admin, wanId, branchId, hqId, hqPublicKey, laptopPublicKey } = fx.overlay;
    const { createAlertRule: rule } = await admin.ok<{ createAlertRule: { id: string; description: string } }>(
      `mutation ($input: CreateAlertRuleInput!) { createAlertRule(input: $input) { id description } }`,
      { input: { name: 'Branch links', kind: 'TUNNEL_DOWN', minutes: 5, wanId } },
    );
    expect(rule.description).toBe('Tell me when a tunnel in WAN live is down for 5 minutes');
    const feed = new Feed<{ notificationAdded: NotificationView }>(ws, `subscription { notificationAdded { id title link read } }`, {});

    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    fx.counted.sim.setHandshake(hqPublicKey, 3);
    fx.counted.sim.setHandshake(laptopPublicKey, 3);
    await eventually('branch–hq up', async () => ((await tunnelState(branchId, hqId)) === 'UP' ? true : undefined));
    await evaluations(3);

    // The far end stops answering: the router keeps reporting the last handshake, 10 minutes old.
    fx.counted.sim.setHandshake(hqPublicKey, 600);
    await eventually('branch–hq down', async () => ((await tunnelState(branchId, hqId)) === 'DOWN' ? true : undefined));
    await evaluations(3);
    offset += 60_000;
    await evaluations(3);
    expect(ofType('tunnel.down')).toHaveLength(0); // within the grace
    expect(await incidents()).toHaveLength(0);

    offset += 90_000; // 2.5 minutes down: past the 2-minute grace, short of the rule's 5
    await eventually('tunnel.down delivered', () => (ofType('tunnel.down').length > 0 ? true : undefined));
    expect(await incidents()).toHaveLength(0);

    offset += 180_000; // 5.5 minutes down
    await eventually('the incident', async () => ((await incidents()).length > 0 ? true : undefined));
    await eventually('alert.firing delivered', () => (ofType('alert.firing').length > 0 ? true : undefined));
    await evaluations(5);
    offset += 600_000; // still down, much later: nothing fires again
    await evaluations(5);

    // One: hq ↔ laptop is UNKNOWN (neither end on a device) and in the rule's WAN, and never fires.
    const open = await incidents();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ subjectName: 'branch ↔ hq in WAN live', rule: { id: rule.id }, link: `/peers/${branchId}` });
    const { unread, list } = await notifications();
    expect(unread).toBe(1);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ severity: 'CRITICAL', read: false, ruleId: rule.id, incidentId: open[0]!.id, title: 'Tunnel down: branch ↔ hq in WAN live' });
    expect(list[0]!.body).toMatch(/^The tunnel between (branch and hq|hq and branch) in WAN live has been down for 5 minutes\. Branch's device last reports a handshake with hq \d+ s ago/);
    const [down] = ofType('tunnel.down');
    expect(ofType('tunnel.down')).toHaveLength(1);
    expect(down).toMatchObject({ wan: { id: wanId, name: 'live' }, subject: { kind: 'tunnel' }, data: { graceSeconds: 120 } });
    expect((down!.data.peers as Array<{ name: string }>).map((peer) => peer.name).sort()).toEqual(['branch', 'hq']);
    expect(Date.now() - Date.parse(down!.data.lastHandshake as string)).toBeGreaterThan(590_000);
    expect(ofType('alert.firing')).toHaveLength(1);
    expect(ofType('alert.firing')[0]).toMatchObject({ subject: { kind: 'alert', id: open[0]!.id, name: 'Branch links' }, data: { rule: { id: rule.id, kind: 'TUNNEL_DOWN', minutes: 5 }, target: { kind: 'tunnel' } } });
    await feed.waitFor((messages) => messages.length >= 1, 'notificationAdded');
    expect(feed.messages[0]!.notificationAdded).toMatchObject({ id: list[0]!.id, read: false });

    // Up again: resolved once, tunnel.up once.
    fx.counted.sim.setHandshake(hqPublicKey, 2);
    await eventually('resolved', async () => ((await incidents()).length === 0 ? true : undefined));
    await eventually('alert.resolved and tunnel.up delivered', () => (ofType('alert.resolved').length > 0 && ofType('tunnel.up').length > 0 ? true : undefined));
    await evaluations(5);
    expect(ofType('alert.resolved')).toHaveLength(1);
    expect(ofType('tunnel.up')).toHaveLength(1);
    expect(ofType('alert.firing')).toHaveLength(1);
    const after = await notifications();
    expect(after.unread).toBe(2);
    expect(after.list[0]).toMatchObject({ severity: 'INFO', title: 'Resolved: tunnel branch ↔ hq in WAN live is up again' });
    await feed.waitFor((messages) => messages.length >= 2, 'the resolution');
    feed.close();

    // Read state is per user: all read for the admin.
    const { markNotificationsRead } = await admin.ok<{ markNotificationsRead: { marked: number; unreadCount: number } }>(`mutation { markNotificationsRead(all: true) { marked unreadCount } }`);
    expect(markNotificationsRead).toEqual({ marked: 2, unreadCount: 0 });
    await admin.ok(`mutation ($id: ID!) { deleteAlertRule(id: $id) }`, { id: rule.id });
  });

  it('a flap shorter than the grace sends no tunnel.down and no tunnel.up', async () => {
    const { branchId, hqId, hqPublicKey } = fx.overlay;
    const before = received.length;
    fx.counted.sim.setHandshake(hqPublicKey, 600);
    await eventually('branch–hq down', async () => ((await tunnelState(branchId, hqId)) === 'DOWN' ? true : undefined));
    await evaluations(3);
    offset += 60_000;
    await evaluations(3);
    fx.counted.sim.setHandshake(hqPublicKey, 2);
    await eventually('branch–hq up', async () => ((await tunnelState(branchId, hqId)) === 'UP' ? true : undefined));
    await evaluations(3);
    offset += 600_000;
    await evaluations(3);
    expect(received.slice(before)).toEqual([]);
  });

  it('HANDSHAKE_STALE fires as soon as the reported handshake is older than N, and resolves with a new one', async () => {
    const { admin, branchId, laptopPublicKey } = fx.overlay;
    const { createAlertRule: rule } = await admin.ok<{ createAlertRule: { id: string } }>(
      `mutation { createAlertRule(input: { name: "Stale", kind: HANDSHAKE_STALE, minutes: 10 }) { id } }`);
    fx.counted.sim.setHandshake(laptopPublicKey, 11 * 60);
    const open = await eventually('stale incident', async () => {
      const found = (await incidents()).filter((incident) => incident.rule.id === rule.id);
      return found.length > 0 ? found : undefined;
    });
    expect(open).toHaveLength(1);
    expect(open[0]!.subjectName).toMatch(/^(branch ↔ laptop|laptop ↔ branch) in WAN live$/);
    expect(open[0]!.link).toBe(`/peers/${branchId}`);
    fx.counted.sim.setHandshake(laptopPublicKey, 1);
    await eventually('stale resolved', async () => ((await incidents()).some((incident) => incident.rule.id === rule.id) ? undefined : true));
    await admin.ok(`mutation ($id: ID!) { deleteAlertRule(id: $id) }`, { id: rule.id });
  });

  it('rules: refused fields named, viewers read but do not change them, a change to what a rule watches resolves its incidents, deleting resolves them, every change audited', async () => {
    const { admin, laptopPublicKey } = fx.overlay;
    const refused = await admin.request(`mutation { createAlertRule(input: { name: "x", kind: TUNNEL_DOWN, minutes: 0 }) { id } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(refused.errors)).toMatch(/minutes/i);
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'spare', kind: 'ROUTEROS_API', host: '127.0.0.1', port: 9, username: 'u', secret: 'p', tls: false },
    });
    const scoped = await admin.request(`mutation ($d: ID!) { createAlertRule(input: { name: "x", kind: TUNNEL_DOWN, minutes: 5, deviceId: $d }) { id } }`, { d: createDevice.id });
    expect(scoped.errors?.[0]).toMatchObject({ message: 'Device: only a "device unreachable" rule watches one device', extensions: { code: 'BAD_USER_INPUT', details: { field: 'deviceId' } } });
    await admin.ok(`mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: createDevice.id });

    await admin.ok(`mutation { createUser(input: { email: "viewer@example.net", name: "Vera", password: "correct horse battery staple", role: VIEWER }) { id } }`);
    const viewer = new GraphQLTestClient(fx.live.graphqlUrl);
    await viewer.ok(`mutation { login(input: { email: "viewer@example.net", password: "correct horse battery staple" }) { user { id } } }`);
    expect(await viewer.errorCodes(`mutation { createAlertRule(input: { name: "mine", kind: TUNNEL_DOWN, minutes: 5 }) { id } }`)).toEqual(['FORBIDDEN']);

    const { createAlertRule: rule } = await admin.ok<{ createAlertRule: { id: string } }>(`mutation { createAlertRule(input: { name: "Stale links", kind: HANDSHAKE_STALE, minutes: 10 }) { id } }`);
    fx.counted.sim.setHandshake(laptopPublicKey, 11 * 60);
    const ofRule = async () => (await incidents()).filter((incident) => incident.rule.id === rule.id);
    const [first] = await eventually('firing', async () => ((await ofRule()).length > 0 ? ofRule() : undefined));
    expect((await viewer.ok<{ alertRules: Array<{ id: string }> }>(`{ alertRules { id } }`)).alertRules.map((r) => r.id)).toContain(rule.id);
    const viewerUnread = (await viewer.ok<{ unreadNotificationCount: number }>(`{ unreadNotificationCount }`)).unreadNotificationCount;
    expect(viewerUnread).toBeGreaterThan(0);

    // A new name keeps the incident; new minutes resolve it ("the rule was changed"), and 11 minutes is not older than 20.
    await admin.ok(`mutation ($id: ID!) { updateAlertRule(id: $id, input: { name: "Stale tunnels" }) { id } }`, { id: rule.id });
    await evaluations(2);
    expect((await ofRule()).map((incident) => incident.id)).toEqual([first!.id]);
    const resolvedBefore = ofType('alert.resolved').length;
    await admin.ok(`mutation ($id: ID!) { updateAlertRule(id: $id, input: { minutes: 20 }) { id } }`, { id: rule.id });
    expect(await ofRule()).toEqual([]);
    await eventually('alert.resolved for the change', () => (ofType('alert.resolved').length > resolvedBefore ? true : undefined));
    expect(ofType('alert.resolved').at(-1)).toMatchObject({ subject: { id: first!.id }, data: { resolution: 'the rule was changed' } });
    await evaluations(3);
    expect(await ofRule()).toEqual([]);

    // Firing again at 5 minutes; deleting the rule resolves it.
    await admin.ok(`mutation ($id: ID!) { updateAlertRule(id: $id, input: { minutes: 5 }) { id } }`, { id: rule.id });
    const [second] = await eventually('firing again', async () => ((await ofRule()).length > 0 ? ofRule() : undefined));
    await admin.ok(`mutation ($id: ID!) { deleteAlertRule(id: $id) }`, { id: rule.id });
    await eventually('alert.resolved for the deletion', () => (ofType('alert.resolved').some((event) => event.subject.id === second!.id) ? true : undefined));
    expect(ofType('alert.resolved').find((event) => event.subject.id === second!.id)).toMatchObject({ data: { resolution: 'the rule was deleted' } });
    expect((await notificationsOf(viewer)).list[0]).toMatchObject({ title: 'Resolved: tunnel branch ↔ laptop in WAN live', severity: 'INFO' });
    fx.counted.sim.setHandshake(laptopPublicKey, 3);

    const { auditLog } = await admin.ok<{ auditLog: { edges: Array<{ node: { action: string } }> } }>(`{ auditLog(first: 50) { edges { node { action } } } }`);
    const actions = auditLog.edges.map((edge) => edge.node.action).filter((action) => action.startsWith('alertRule.'));
    expect(actions.filter((action) => action === 'alertRule.update')).toHaveLength(3);
    expect(actions).toContain('alertRule.create');
    expect(actions).toContain('alertRule.delete');
  });

  it('a peer disabled is no tunnel: the incident about its tunnel resolves ("no longer exists"), once', async () => {
    const { admin, wanId, laptopId, laptopPublicKey } = fx.overlay;
    const { createAlertRule: rule } = await admin.ok<{ createAlertRule: { id: string } }>(`mutation ($wanId: ID!) { createAlertRule(input: { name: "Laptop", kind: TUNNEL_DOWN, minutes: 1, wanId: $wanId }) { id } }`, { wanId });
    fx.counted.sim.setHandshake(laptopPublicKey, 600);
    offset += 60_000;
    await evaluations(2);
    offset += 2 * 60_000;
    const ofRule = async () => (await incidents()).filter((incident) => incident.rule.id === rule.id);
    const [incident] = await eventually('firing', async () => ((await ofRule()).length > 0 ? ofRule() : undefined));
    expect(incident!.subjectName).toMatch(/laptop/);
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: false }) { peer { id } } }`, { id: laptopId });
    await eventually('resolved', async () => ((await ofRule()).length === 0 ? true : undefined));
    await eventually('alert.resolved delivered', () => (ofType('alert.resolved').some((event) => event.subject.id === incident!.id) ? true : undefined));
    await evaluations(3);
    expect(ofType('alert.resolved').filter((event) => event.subject.id === incident!.id)).toMatchObject([{ data: { resolution: 'its tunnel or device no longer exists' } }]);
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: true }) { peer { id } } }`, { id: laptopId });
    fx.counted.sim.setHandshake(laptopPublicKey, 3);
    await admin.ok(`mutation ($id: ID!) { deleteAlertRule(id: $id) }`, { id: rule.id });
  });

  describe('a device that cannot be reached', () => {
    let edge: RouterOsSimulator;
    beforeAll(async () => {
      edge = await startRouterOsSimulator({ version: '7.18.2' });
    });
    afterAll(async () => {
      await edge?.stop();
    });

    it('fires once after N minutes unreachable and resolves once when it answers again', async () => {
      const { admin } = fx.overlay;
      const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
        input: { name: 'edge-1', kind: 'ROUTEROS_API', host: edge.host, port: edge.apiPort, username: edge.username, secret: edge.password, tls: false, timeoutMs: 1000 },
      });
      const deviceId = createDevice.id;
      const { createAlertRule: rule } = await admin.ok<{ createAlertRule: { id: string; description: string } }>(
        `mutation ($input: CreateAlertRuleInput!) { createAlertRule(input: $input) { id description } }`,
        { input: { name: 'Edge router', kind: 'DEVICE_UNREACHABLE', minutes: 2, deviceId } },
      );
      expect(rule.description).toBe('Tell me when device edge-1 cannot be reached for 2 minutes');
      const reachable = async () => (await admin.ok<{ device: { health: { reachable: boolean | null } | null } }>(`query ($id: ID!) { device(id: $id) { health { reachable } } }`, { id: deviceId })).device.health?.reachable ?? null;
      await eventually('edge-1 checked', async () => ((await reachable()) === true ? true : undefined), 400, 50);

      const port = edge.apiPort;
      const { username, password } = edge;
      await edge.stop();
      await eventually('edge-1 unreachable', async () => ((await reachable()) === false ? true : undefined), 400, 50);
      await evaluations(2);
      expect((await incidents()).filter((incident) => incident.rule.id === rule.id)).toHaveLength(0);
      offset += 150_000;
      const open = await eventually('device incident', async () => {
        const found = (await incidents()).filter((incident) => incident.rule.id === rule.id);
        return found.length > 0 ? found : undefined;
      });
      expect(open).toMatchObject([{ subjectName: 'device edge-1', link: `/devices#device-${deviceId}` }]);
      const { list } = await notifications();
      expect(list[0]).toMatchObject({ title: 'Device unreachable: edge-1', severity: 'CRITICAL', link: `/devices#device-${deviceId}` });

      edge = await startRouterOsSimulator({ version: '7.18.2', apiPort: port, username, password });
      await eventually('edge-1 answers', async () => ((await reachable()) === true ? true : undefined), 600, 50);
      await eventually('device incident resolved', async () => ((await incidents()).some((incident) => incident.rule.id === rule.id) ? undefined : true));
      await evaluations(3);
      const resolvedTitles = (await notifications()).list.filter((notification) => notification.ruleId === rule.id).map((notification) => notification.title);
      expect(resolvedTitles).toEqual(['Resolved: device edge-1 answers again', 'Device unreachable: edge-1']);
      await admin.ok(`mutation ($id: ID!) { deleteAlertRule(id: $id) }`, { id: rule.id });
    });
  });
});

/** Tunnels branch–hq and branch–laptop UP, then branch–hq DOWN (the router keeps reporting a handshake 10 minutes old). */
async function takeTunnelDown(admin: GraphQLTestClient, overlay: Overlay, sim: RouterOsSimulator, app: App): Promise<void> {
  expect((await deploy(admin, overlay.branchId)).status).toBe('SUCCEEDED');
  sim.setHandshake(overlay.hqPublicKey, 3);
  sim.setHandshake(overlay.laptopPublicKey, 3);
  await eventually('branch–hq up', async () => ((await tunnelStateOf(admin, overlay.wanId, overlay.branchId, overlay.hqId)) === 'UP' ? true : undefined));
  await evaluationsOf(app, 3);
  sim.setHandshake(overlay.hqPublicKey, 600);
  await eventually('branch–hq down', async () => ((await tunnelStateOf(admin, overlay.wanId, overlay.branchId, overlay.hqId)) === 'DOWN' ? true : undefined));
  await evaluationsOf(app, 3);
}

describe('an incident open across a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-alerts-restart-'));
  let offset = 0;
  const options = { dataDir, monitorIntervalMs: 100, alertClock: () => new Date(Date.now() + offset) };
  let counted: CountedSimulator;
  let live: LiveApp;
  let overlay: Overlay;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    counted = await startCountedSimulator();
    live = await startLiveApp(options);
    overlay = await buildOverlay(live.graphqlUrl, counted.sim);
    receiver = await startReceiver();
    await subscribeWebhook(overlay.admin, receiver.url);
  });
  afterAll(async () => {
    await live?.stop();
    await counted?.sim.stop();
    await receiver?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is neither fired again nor forgotten: the restarted server resolves it once', async () => {
    const { admin } = overlay;
    await admin.ok(`mutation { createAlertRule(input: { name: "Any tunnel", kind: TUNNEL_DOWN, minutes: 1 }) { id } }`);
    await takeTunnelDown(admin, overlay, counted.sim, live.app);
    offset += 3 * 60_000;
    const [before] = await eventually('the incident', async () => {
      const found = await incidentsOf(admin);
      return found.length > 0 ? found : undefined;
    });
    await eventually('alert.firing and tunnel.down delivered', () => (eventsOf(receiver.received, 'alert.firing').length > 0 && eventsOf(receiver.received, 'tunnel.down').length > 0 ? true : undefined));

    await live.stop();
    live = await startLiveApp(options);
    const after = new GraphQLTestClient(live.graphqlUrl, overlay.token);
    await evaluationsOf(live.app, 5);
    offset += 30 * 60_000;
    await evaluationsOf(live.app, 5);
    expect(await incidentsOf(after)).toEqual([before]);
    expect((await notificationsOf(after)).list).toHaveLength(1);
    expect(eventsOf(receiver.received, 'alert.firing')).toHaveLength(1);
    expect(eventsOf(receiver.received, 'tunnel.down')).toHaveLength(1);

    counted.sim.setHandshake(overlay.hqPublicKey, 2);
    await eventually('resolved after the restart', async () => ((await incidentsOf(after)).length === 0 ? true : undefined));
    await eventually('alert.resolved and tunnel.up delivered', () => (eventsOf(receiver.received, 'alert.resolved').length > 0 && eventsOf(receiver.received, 'tunnel.up').length > 0 ? true : undefined));
    await evaluationsOf(live.app, 5);
    expect(eventsOf(receiver.received, 'alert.resolved')).toHaveLength(1);
    expect(eventsOf(receiver.received, 'tunnel.up')).toHaveLength(1);
    expect((await notificationsOf(after)).list.map((notification) => notification.title)).toEqual(['Resolved: tunnel branch ↔ hq in WAN live is up again', 'Tunnel down: branch ↔ hq in WAN live']);
  });
});

const pgBin = postgresOrSkip('alerts on two replicas (test/alerts.test.ts)');
const redisBin = redisOrSkip('alerts on two replicas (test/alerts.test.ts)');

describe.skipIf(!pgBin || !redisBin)('two replicas on PostgreSQL + Redis', () => {
  let cluster: PostgresCluster;
  let redis: RedisServer;
  let counted: CountedSimulator;
  let overlay: Overlay;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let offset = 0;
  let set: ReplicaSet;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [cluster, redis, counted, receiver] = await Promise.all([startPostgres({ binDir: pgBin!, database: 'meshplane' }), startRedis(redisBin!), startCountedSimulator(), startReceiver()]);
    set = await startReplicas('alerts', {
      databaseUrl: cluster.url, redisUrl: redis.url,
      options: { monitor: true, monitorIntervalMs: 200, handshakeProbeMs: 0, alertClock: () => new Date(Date.now() + offset) },
    });
    replicas = set.replicas;
    overlay = await buildOverlay(replicas[0]!.graphqlUrl, counted.sim);
    await subscribeWebhook(overlay.admin, receiver.url);
  });
  afterAll(async () => {
    await set?.stop();
    await Promise.all([redis?.stop(), cluster?.stop(), counted?.sim.stop(), receiver?.close()]);
  });

  it('the replica polling the devices evaluates; one incident, one notification, one alert.firing', async () => {
    const { admin } = overlay;
    await admin.ok(`mutation { createAlertRule(input: { name: "Any tunnel", kind: TUNNEL_DOWN, minutes: 1 }) { id } }`);
    const leader = await eventually('a polling replica', () => replicas.find((replica) => replica.app.services.monitor.leading));
    await takeTunnelDown(admin, overlay, counted.sim, leader.app);
    offset += 3 * 60_000;
    await eventually('alert.firing delivered', () => (eventsOf(receiver.received, 'alert.firing').length > 0 ? true : undefined));
    await evaluationsOf(leader.app, 5);
    offset += 30 * 60_000;
    await evaluationsOf(leader.app, 5);

    for (const replica of replicas) {
      const client = new GraphQLTestClient(replica.graphqlUrl, overlay.token);
      expect(await incidentsOf(client)).toHaveLength(1);
      expect((await notificationsOf(client)).list).toHaveLength(1);
    }
    expect(eventsOf(receiver.received, 'alert.firing')).toHaveLength(1);
    expect(eventsOf(receiver.received, 'tunnel.down')).toHaveLength(1);
    expect(replicas.filter((replica) => replica.app.services.alerts.evaluations > 0)).toEqual([leader]);
  });
});
