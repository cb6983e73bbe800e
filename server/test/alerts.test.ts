// Alert rules and tunnel events end to end: a real app polling a RouterOS simulator, rules made
// through GraphQL, handshakes set on the simulator, a second simulator stopped and started again
// for a device that cannot be reached, and a loopback webhook receiver. The alert clock is moved
// instead of waiting minutes; the tunnels' freshness still runs on real time.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startRouterOsSimulator, type RouterOsSimulator } from './sim/routeros/index.js';
import { deploy, Feed, liveFixture } from './live-ops/harness.js';

interface Received {
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

describe('alert rules and tunnel events', () => {
  let offset = 0;
  const fx = liveFixture({ app: { monitorIntervalMs: 100, alertClock: () => new Date(Date.now() + offset), tunnelEventGraceMs: 120_000 } });
  const received: Received[] = [];
  let receiver: http.Server;
  let ws: Client;

  beforeAll(async () => {
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    await fx.overlay.admin.ok(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`, {
      input: { name: 'ops', url: `http://127.0.0.1:${port}/hook`, events: ['tunnel.down', 'tunnel.up', 'alert.firing', 'alert.resolved'], allowPrivateTargets: true },
    });
    ws = fx.overlay.ws();
  });
  afterAll(async () => {
    await ws?.dispose();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const app = () => fx.live.app;
  const ofType = (type: string) => received.filter((event) => event.type === type);
  /** Waits until the evaluator ran `count` more times (each after a monitor poll or on its timer). */
  async function evaluations(count: number): Promise<void> {
    const start = app().services.alerts.evaluations;
    await eventually(`${count} evaluations`, () => (app().services.alerts.evaluations - start >= count ? true : undefined));
    await app().services.alerts.settled();
  }
  async function tunnelState(a: string, b: string): Promise<string | undefined> {
    const { wan } = await fx.overlay.admin.ok<{ wan: { topologyGraph: { edges: Array<{ from: string; to: string; state: string }> } } }>(
      `query ($id: ID!) { wan(id: $id) { topologyGraph { edges { from to state } } } }`, { id: fx.overlay.wanId });
    return wan.topologyGraph.edges.find((edge) => [edge.from, edge.to].sort().join() === [a, b].sort().join())?.state;
  }
  const incidents = async () => (await fx.overlay.admin.ok<{ openAlertIncidents: Incident[] }>(INCIDENTS)).openAlertIncidents;
  const notifications = async () => {
    const data = await fx.overlay.admin.ok<{ unreadNotificationCount: number; notifications: { edges: Array<{ node: NotificationView }> } }>(NOTIFICATIONS);
    return { unread: data.unreadNotificationCount, list: data.notifications.edges.map((edge) => edge.node) };
  };

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
