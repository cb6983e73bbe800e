// Alerts in Chromium: an operator writes "tell me when a tunnel in WAN hq-mesh is down for 5
// minutes" in the form (the sentence previewed as it is filled in), the simulated router stops
// reporting fresh handshakes with hq, and once the rule's minutes have passed on the server's
// alert clock (moved, not waited for) the header's bell shows 1 without a reload; the
// notification names the WAN and both peers and links to the reporting peer's page. The
// alerts and notifications pages fit a 390 px phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterOsSimulator, type RouterOsSimulator } from '../../../server/test/sim/routeros/index.js';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

describe.skipIf(!chromiumAvailable('alerts e2e'))('alert rules and notifications', () => {
  let dashboard: Dashboard;
  let sim: RouterOsSimulator;
  let offset = 0;
  let branchPath = '';
  let hqKey = '';
  const shot = (name: string) => dashboard.browser.shot(`alerts-${name}`);

  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18' });
    dashboard = await startDashboard({ monitorIntervalMs: 300, handshakeProbeMs: 0, alertClock: () => new Date(Date.now() + offset) });
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
    await sim?.stop();
  });

  const tunnelState = async () => {
    const { page, base } = dashboard;
    const id = branchPath.split('/').at(-1)!;
    const { peer } = await gql<{ peer: { wan: { topologyGraph: { edges: Array<{ state: string }> } } } }>(page, base, `query ($id: ID!) { peer(id: $id) { wan { topologyGraph { edges { state } } } } }`, { id });
    return peer.wan.topologyGraph.edges[0]?.state;
  };
  const evaluations = async (n: number) => {
    const start = dashboard.app.services.alerts.evaluations;
    await expect.poll(() => dashboard.app.services.alerts.evaluations - start, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(n);
  };

  it('a tunnel between a peer on the simulated router and hq, up', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    await gql(page, base, `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'branch-router', kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret: sim.password, tls: false, timeoutMs: 3000 },
    });
    await createWan(page, 'hq-mesh');
    await page.reload();
    await heading(page, 'hq-mesh');
    branchPath = await addPeer(page, 'branch', 'SITE', '198.51.100.2', 'branch-router — MikroTik (API)');
    await addPeer(page, 'hq', 'SITE', '203.0.113.7');
    const branchId = branchPath.split('/').at(-1)!;
    const { peer } = await gql<{ peer: { wan: { peers: { edges: Array<{ node: { name: string; publicKey: string } }> } } } }>(page, base,
      `query ($id: ID!) { peer(id: $id) { wan { peers(first: 10) { edges { node { name publicKey } } } } } }`, { id: branchId });
    hqKey = peer.wan.peers.edges.find((edge) => edge.node.name === 'hq')!.node.publicKey;
    const { planDeploy } = await gql<{ planDeploy: { planHash: string } }>(page, base, `mutation ($id: ID!) { planDeploy(peerId: $id) { planHash } }`, { id: branchId });
    const { deployPeer } = await gql<{ deployPeer: { id: string } }>(page, base, `mutation ($id: ID!, $hash: String) { deployPeer(peerId: $id, approve: true, planHash: $hash) { id } }`, { id: branchId, hash: planDeploy.planHash });
    await expect.poll(async () => (await gql<{ job: { status: string } }>(page, base, `query ($id: ID!) { job(id: $id) { status } }`, { id: deployPeer.id })).job.status, { timeout: 30_000 }).toBe('SUCCEEDED');
    sim.setHandshake(hqKey, 3);
    await expect.poll(tunnelState, { timeout: 15_000, interval: 200 }).toBe('UP');
  }, 90_000);

  it('creates a rule in the form, with the rule previewed in plain words', async () => {
    const { page, base } = dashboard;
    await page.goto(`${base}/alerts`);
    await heading(page, 'Alerts');
    const form = page.locator('form[data-rule-form="new"]');
    await form.getByLabel('Name').fill('HQ link');
    await form.getByLabel('When').selectOption('TUNNEL_DOWN');
    await form.getByLabel('For (minutes)').fill('5');
    await form.getByLabel('WAN').selectOption({ label: 'hq-mesh' });
    await expect.poll(() => form.locator('[data-preview]').textContent()).toBe('Tell me when a tunnel in WAN hq-mesh is down for 5 minutes.');
    await shot('01-new-rule');
    await form.getByRole('button', { name: 'Create rule' }).click();
    const rule = page.locator('li[data-rule="HQ link"]');
    await rule.getByText('Tell me when a tunnel in WAN hq-mesh is down for 5 minutes.').waitFor();

    // A refused value is said at its field.
    await form.getByLabel('Name').fill('Too long');
    await form.getByLabel('For (minutes)').fill('20000');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await form.getByText(/at most 10080/).waitFor();
    await shot('02-refused-minutes');
    expect(await page.locator('a.bell').getAttribute('data-unread')).toBe('0');
  });

  it('the tunnel goes down: after the rule\'s minutes the bell shows 1, live, and the notification links to the peer', async () => {
    const { page, base } = dashboard;
    await evaluations(2);
    sim.setHandshake(hqKey, 600);
    await expect.poll(tunnelState, { timeout: 15_000, interval: 200 }).toBe('DOWN');
    await evaluations(2);
    offset += 6 * 60_000;
    const bell = page.locator('a.bell');
    await expect.poll(() => bell.getAttribute('data-unread'), { timeout: 15_000, interval: 100 }).toBe('1');
    await expect.poll(() => bell.locator('.count').textContent()).toBe('1');
    await page.locator('li[data-incident]').first().waitFor();
    await page.reload();
    await page.locator('li[data-incident]').getByRole('link', { name: 'branch ↔ hq in WAN hq-mesh' }).waitFor();
    await shot('03-bell-and-firing');

    await bell.click();
    await heading(page, 'Notifications');
    const item = page.locator('li[data-notification]').first();
    await item.getByText('Tunnel down: branch ↔ hq in WAN hq-mesh').waitFor();
    expect(await item.getAttribute('data-read')).toBe('false');
    expect(await item.locator('.body').textContent()).toMatch(/^The tunnel between (branch and hq|hq and branch) in WAN hq-mesh has been down for 5 minutes\./);
    await shot('04-notifications');
    await item.getByRole('link', { name: 'Tunnel down: branch ↔ hq in WAN hq-mesh' }).click();
    await page.waitForURL(`${base}${branchPath}`);
    await heading(page, 'branch');

    await page.goto(`${base}/notifications`);
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await expect.poll(() => page.locator('a.bell').getAttribute('data-unread')).toBe('0');
    // The count comes with the mutation's answer; the list follows once it has been read again.
    await expect.poll(() => page.locator('li[data-notification]').first().getAttribute('data-read')).toBe('true');
  });

  it('at 390 px: the alerts and notifications pages do not scroll sideways', async () => {
    const { page, base } = dashboard;
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/alerts', '/notifications']) {
      await page.goto(`${base}${path}`);
      await heading(page, path === '/alerts' ? 'Alerts' : 'Notifications');
      expect(await sidewaysOverflow(page), path).toBeLessThanOrEqual(0);
      await shot(`05-phone${path.replace('/', '-')}`);
    }
    expect(dashboard.browser.pageErrors).toEqual([]);
  });
});
