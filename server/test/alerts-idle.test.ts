// What an alert evaluation reads is what something watches: with no enabled rule and no
// webhook for tunnel.down / tunnel.up it reads no WAN and no device (it runs every 10 s on
// the polling replica whether or not anyone uses alerts); a WAN-scoped rule reads its WAN
// alone; device rules read devices, not WANs. The number of rules is bounded. And what a
// notification claims is what a device reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ALERT_RULES } from '../src/domain/alerts.js';
import { notificationText, type IncidentDetails } from '../src/services/integrations/alerts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';
import { seedOverlay, type OverlayFixture } from './support/overlay-fixture.js';

describe('alert evaluation reads only what is watched', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let one: OverlayFixture;
  let two: OverlayFixture;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    one = await seedOverlay(admin, 'one');
    two = await seedOverlay(admin, 'two');
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** What one evaluation reads: WANs and devices. */
  async function reads(): Promise<{ wans: number; devices: number }> {
    const alerts = t.app.services.alerts;
    const before = { ...alerts.observed };
    await alerts.evaluate();
    return { wans: alerts.observed.wans - before.wans, devices: alerts.observed.devices - before.devices };
  }
  const createRule = async (input: Record<string, unknown>) =>
    (await admin.ok<{ createAlertRule: { id: string } }>(`mutation ($input: CreateAlertRuleInput!) { createAlertRule(input: $input) { id } }`, { input })).createAlertRule.id;
  const deleteRule = (id: string) => admin.ok(`mutation ($id: ID!) { deleteAlertRule(id: $id) }`, { id });
  const createWebhook = async (events: string[]) =>
    (await admin.ok<{ createWebhook: { webhook: { id: string } } }>(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`, {
      input: { name: `hook ${events.join(' ')}`, url: 'http://127.0.0.1:9/hook', events, allowPrivateTargets: true },
    })).createWebhook.webhook.id;
  const deleteWebhook = (id: string) => admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id });

  it('no rule and no tunnel webhook: nothing read; tunnel memory trimmed to the outages that still owe a tunnel.up', async () => {
    const prisma = t.app.database.prisma;
    await prisma.tunnelWatch.createMany({
      data: [
        { key: `${one.wanId}:a:b`, wanId: one.wanId, state: 'DOWN', downSince: new Date(Date.now() - 60_000) },
        { key: `${one.wanId}:a:c`, wanId: one.wanId, state: 'UP' },
        { key: `${one.wanId}:b:c`, wanId: one.wanId, state: 'DOWN', downSince: new Date(Date.now() - 600_000), downSentAt: new Date(Date.now() - 480_000) },
      ],
    });
    expect(await reads()).toEqual({ wans: 0, devices: 0 });
    expect(await reads()).toEqual({ wans: 0, devices: 0 });
    // A DOWN not yet announced would resume with a start nobody saw continue: forgotten; an
    // announced one keeps its tunnel.up owed.
    expect((await prisma.tunnelWatch.findMany({ select: { key: true } })).map((row) => row.key)).toEqual([`${one.wanId}:b:c`]);
    await prisma.tunnelWatch.deleteMany({});

    // A webhook for other events and a disabled rule watch nothing either.
    const peers = await createWebhook(['peer.created', 'alert.firing']);
    const disabled = await createRule({ name: 'off', kind: 'TUNNEL_DOWN', minutes: 5, enabled: false });
    expect(await reads()).toEqual({ wans: 0, devices: 0 });
    await deleteRule(disabled);
    await deleteWebhook(peers);
  });

  it('a webhook for tunnel events reads every WAN; a WAN rule its WAN; a device rule the devices', async () => {
    const tunnels = await createWebhook(['tunnel.up']);
    expect(await reads()).toEqual({ wans: 2, devices: 0 });
    await deleteWebhook(tunnels);

    const scoped = await createRule({ name: 'one only', kind: 'TUNNEL_DOWN', minutes: 5, wanId: one.wanId });
    expect(await reads()).toEqual({ wans: 1, devices: 0 });
    const everywhere = await createRule({ name: 'stale anywhere', kind: 'HANDSHAKE_STALE', minutes: 5 });
    expect(await reads()).toEqual({ wans: 2, devices: 0 });
    await deleteRule(everywhere);
    await deleteRule(scoped);

    const device = await createRule({ name: 'router', kind: 'DEVICE_UNREACHABLE', minutes: 5, deviceId: two.deviceId });
    expect(await reads()).toEqual({ wans: 0, devices: 2 });
    await deleteRule(device);
    expect(await reads()).toEqual({ wans: 0, devices: 0 });
  });

  it('deleting a WAN or a device takes its scoped rules along, resolving their firing incidents first (alert.resolved and a notification, once); a resolution links only to what still exists', async () => {
    const prisma = t.app.database.prisma;
    const hook = await createWebhook(['alert.firing', 'alert.resolved']);
    const three = await seedOverlay(admin, 'three');
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'spare', kind: 'ROUTEROS_API', host: '127.0.0.1', port: 9, username: 'u', secret: 'p', tls: false },
    });
    const wanRule = await createRule({ name: 'three down', kind: 'TUNNEL_DOWN', minutes: 5, wanId: three.wanId });
    const deviceRule = await createRule({ name: 'spare gone', kind: 'DEVICE_UNREACHABLE', minutes: 5, deviceId: createDevice.id });
    // Firing incidents as an evaluation leaves them (no device here to take a tunnel down).
    const firing = (ruleId: string, subjectKey: string, subjectName: string, wan: { id: string; name: string } | null, target: Record<string, unknown>, link: string) => prisma.alertIncident.create({
      data: { ruleId, subjectKey, subjectName, wanId: wan?.id ?? null, openKey: `${ruleId}|${subjectKey}`, conditionSince: new Date(Date.now() - 600_000), firingSince: new Date(Date.now() - 300_000), details: JSON.stringify({ wan, target, link, reason: null, lastHandshake: null }) },
    });
    const tunnel = (a: { id: string; name: string }, b: { id: string; name: string }) => ({ kind: 'tunnel', peers: [a, b] });
    const wanIncident = await firing(wanRule, `tunnel:${three.wanId}:${three.hubId}:${three.siteId}`, 'hub ↔ site in WAN three', { id: three.wanId, name: 'three' }, tunnel({ id: three.hubId, name: 'hub' }, { id: three.siteId, name: 'site' }), `/peers/${three.hubId}`);
    const deviceIncident = await firing(deviceRule, `device:${createDevice.id}`, 'device spare', null, { kind: 'device', id: createDevice.id, name: 'spare' }, `/devices#device-${createDevice.id}`);
    // A rule for every WAN, firing about a tunnel of a peer that is then deleted (its WAN stays).
    const anyRule = await createRule({ name: 'any down', kind: 'TUNNEL_DOWN', minutes: 5 });
    const peerIncident = await firing(anyRule, `tunnel:${one.wanId}:${one.siteId}:zz`, 'site ↔ gone in WAN one', { id: one.wanId, name: 'one' }, tunnel({ id: one.siteId, name: 'site' }, { id: 'zz', name: 'gone' }), `/peers/${one.siteId}`);

    await admin.ok(`mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: createDevice.id });
    await admin.ok(`mutation ($id: ID!) { deleteWan(id: $id) }`, { id: three.wanId });
    await admin.ok(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: one.siteId });
    await t.app.services.alerts.evaluate();
    await t.app.services.alerts.evaluate();

    const resolved = (await prisma.webhookDelivery.findMany({ where: { webhookId: hook, eventType: 'alert.resolved' }, select: { payload: true } }))
      .map((row) => JSON.parse(row.payload) as { subject: { id: string }; data: { resolution: string } });
    expect(resolved.map((event) => [event.subject.id, event.data.resolution]).sort()).toEqual([[deviceIncident.id, 'its device was deleted'], [wanIncident.id, 'its WAN was deleted'], [peerIncident.id, 'its tunnel or device no longer exists']].sort());
    const resolvedNotifications = await prisma.notification.findMany({ where: { incidentId: { in: [wanIncident.id, deviceIncident.id, peerIncident.id] } }, select: { title: true, link: true }, orderBy: { title: 'asc' } });
    // Linked to what still exists: the WAN of a deleted peer, nothing for a deleted WAN or device.
    expect(resolvedNotifications).toEqual([
      { title: 'Resolved: device spare', link: null },
      { title: 'Resolved: tunnel hub ↔ site in WAN three', link: null },
      { title: 'Resolved: tunnel site ↔ gone in WAN one', link: `/wans/${one.wanId}` },
    ]);
    expect(await prisma.alertIncident.findUnique({ where: { id: peerIncident.id }, select: { resolution: true } })).toEqual({ resolution: 'its tunnel or device no longer exists' });
    expect(await prisma.alertRule.count({ where: { id: { in: [wanRule, deviceRule] } } })).toBe(0);
    await deleteRule(anyRule);
    await deleteWebhook(hook);
  });

  it(`at most ${MAX_ALERT_RULES} rules: the next is refused with LIMIT_REACHED and nothing is written`, async () => {
    const prisma = t.app.database.prisma;
    await prisma.alertRule.createMany({ data: Array.from({ length: MAX_ALERT_RULES - 1 }, (_, i) => ({ name: `rule ${i}`, kind: 'TUNNEL_DOWN' as const, minutes: 5, enabled: false })) });
    const last = await createRule({ name: 'the last one', kind: 'TUNNEL_DOWN', minutes: 5 });
    const refused = await admin.request(`mutation { createAlertRule(input: { name: "one too many", kind: TUNNEL_DOWN, minutes: 5 }) { id } }`);
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'LIMIT_REACHED' } });
    expect(refused.errors?.[0]?.message).toMatch(new RegExp(`${MAX_ALERT_RULES} of ${MAX_ALERT_RULES} alert rules`));
    expect(await prisma.alertRule.count()).toBe(MAX_ALERT_RULES);
    await deleteRule(last);
    await createRule({ name: 'room again', kind: 'TUNNEL_DOWN', minutes: 5 });
  });
});

describe('resolved incidents are bounded', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('past the retention or beyond the newest rows they are pruned; open and pending ones never', async () => {
    const prisma = t.app.database.prisma;
    const admin = await registerAdmin(t.graphqlUrl);
    const { createAlertRule: rule } = await admin.ok<{ createAlertRule: { id: string } }>(`mutation { createAlertRule(input: { name: "flaps", kind: TUNNEL_DOWN, minutes: 1 }) { id } }`);
    const DAY = 86_400_000;
    const now = Date.now();
    const incident = (key: string, resolvedDaysAgo: number | null, firing = true) => ({
      ruleId: rule.id, subjectKey: key, subjectName: key, openKey: resolvedDaysAgo === null ? `${rule.id}|${key}` : null,
      conditionSince: new Date(now - 100 * DAY), firingSince: firing ? new Date(now - 100 * DAY) : null,
      resolvedAt: resolvedDaysAgo === null ? null : new Date(now - resolvedDaysAgo * DAY), resolution: resolvedDaysAgo === null ? null : 'cleared',
    });
    await prisma.alertIncident.createMany({
      data: [
        incident('open', null), incident('pending', null, false), incident('91 days', 91),
        ...Array.from({ length: 30 }, (_, i) => incident(`recent ${i}`, 30 - i)),
      ],
    });
    expect(await t.app.services.alerts.pruneIncidents({ retentionDays: 90, maxRows: 20 })).toBe(11);
    const left = (await prisma.alertIncident.findMany({ select: { subjectKey: true } })).map((row) => row.subjectKey);
    expect(left).toHaveLength(22);
    expect(left).toEqual(expect.arrayContaining(['open', 'pending', 'recent 29', 'recent 10']));
    expect(left).not.toContain('91 days');
    expect(left).not.toContain('recent 9');
    expect(await t.app.services.alerts.pruneIncidents({ retentionDays: 90, maxRows: 20 })).toBe(0);
  });
});

describe('notification words', () => {
  const rule = { id: 'r', name: 'Stale', kind: 'HANDSHAKE_STALE', minutes: 10 } as Parameters<typeof notificationText>[0];
  const details = (lastHandshake: string | null): IncidentDetails => ({
    wan: { id: 'w', name: 'hq-mesh' }, link: null, lastHandshake,
    target: { kind: 'tunnel', peers: [{ id: 'a', name: 'branch' }, { id: 'b', name: 'hq' }] },
    reason: lastHandshake ? 'branch\'s device last reports a handshake with hq 660 s ago' : 'branch\'s device reports no handshake with hq',
  });

  it('HANDSHAKE_STALE for a tunnel that never had a handshake says none was reported, not that one is old', () => {
    const never = notificationText(rule, 'branch ↔ hq in WAN hq-mesh', details(null), null);
    expect(never.body).toBe('No handshake between branch and hq in WAN hq-mesh has been reported for 10 minutes: the device reports none. Branch\'s device reports no handshake with hq. Rule “Stale”: handshake older than 10 minutes.');
    expect(never.body).not.toMatch(/older than 10 minutes\. Last handshake/);
    const old = notificationText(rule, 'branch ↔ hq in WAN hq-mesh', details('2026-12-01T10:00:00.000Z'), null);
    expect(old.body).toBe('The latest handshake between branch and hq in WAN hq-mesh is older than 10 minutes. Last handshake: 2026-12-01 10:00:00 UTC. Rule “Stale”: handshake older than 10 minutes.');
  });
});
