// Traffic history in Chromium: a peer on the RouterOS simulator, whose WireGuard counters grow
// while the monitor reads them; its page first says nothing is recorded yet, then charts the
// received/sent rates and the handshake age (uPlot canvases, legend, latest values) for each
// range; the WAN's peer table shows a sparkline and "last seen" per peer; and it all fits a
// 390 px phone. The server's traffic clock is moved a minute at a time (the monitor reads the
// router every 300 ms), so minutes close in seconds instead of minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterOsSimulator, type RouterOsSimulator } from '../../../server/test/sim/routeros/index.js';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const MINUTE = 60_000;

describe.skipIf(!chromiumAvailable('traffic history e2e'))('traffic history', () => {
  let dashboard: Dashboard;
  let sim: RouterOsSimulator;
  let offset = 0;
  let officePath = '';
  let officeId = '';
  let laptopKey = '';
  const shot = (name: string) => dashboard.browser.shot(`traffic-${name}`);

  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18' });
    dashboard = await startDashboard({ monitorIntervalMs: 300, handshakeProbeMs: 0, trafficClock: () => new Date(Date.now() + offset) });
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
    await sim?.stop();
  });

  /** Waits until the monitor has polled at least twice more (each read of the router counts). */
  const polls = async (n = 2) => {
    const start = dashboard.app.services.monitor.polls;
    await expect.poll(() => dashboard.app.services.monitor.polls - start, { timeout: 10_000, interval: 100 }).toBeGreaterThanOrEqual(n);
  };

  it('a peer on the simulated router: nothing recorded yet, said in words', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    const { createDevice } = await gql<{ createDevice: { id: string } }>(page, base, `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'office-router', kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret: sim.password, tls: false, timeoutMs: 3000 },
    });
    expect(createDevice.id).toBeTruthy();
    await createWan(page, 'branches');
    await page.reload();
    await heading(page, 'branches');
    officePath = await addPeer(page, 'office', 'SITE', '198.51.100.2', 'office-router — MikroTik (API)');
    await addPeer(page, 'laptop', 'CLIENT');
    await addPeer(page, 'spare', 'CLIENT');
    officeId = officePath.split('/').at(-1)!;
    const { peer } = await gql<{ peer: { wan: { peers: { edges: Array<{ node: { name: string; publicKey: string } }> } } } }>(page, base,
      `query ($id: ID!) { peer(id: $id) { wan { peers(first: 10) { edges { node { name publicKey } } } } } }`, { id: officeId });
    laptopKey = peer.wan.peers.edges.find((edge) => edge.node.name === 'laptop')!.node.publicKey;

    // Deployed through the API: this journey is about what comes after.
    const { planDeploy } = await gql<{ planDeploy: { planHash: string } }>(page, base, `mutation ($id: ID!) { planDeploy(peerId: $id) { planHash } }`, { id: officeId });
    const { deployPeer } = await gql<{ deployPeer: { id: string } }>(page, base, `mutation ($id: ID!, $hash: String) { deployPeer(peerId: $id, approve: true, planHash: $hash) { id } }`, { id: officeId, hash: planDeploy.planHash });
    await expect.poll(async () => (await gql<{ job: { status: string } }>(page, base, `query ($id: ID!) { job(id: $id) { status } }`, { id: deployPeer.id })).job.status, { timeout: 30_000 }).toBe('SUCCEEDED');

    await page.goto(`${base}${officePath}`);
    await heading(page, 'office');
    const traffic = page.getByRole('region', { name: 'Traffic' });
    await traffic.locator('[data-traffic="empty"]').getByText('No traffic recorded yet').waitFor();
    await traffic.scrollIntoViewIfNeeded();
    await shot('01-peer-page-nothing-yet');
  }, 90_000);

  it('the router reports traffic: the peer page charts rates and handshake age with a legend and the latest values', async () => {
    const { page } = dashboard;
    // Three minutes of traffic with the laptop: the router receives 1.5 kB/s and sends 3 kB/s.
    let rx = 10_000;
    let tx = 20_000;
    sim.setHandshake(laptopKey, 3, { rx, tx });
    await polls();
    for (let minute = 0; minute < 3; minute++) {
      rx += 60 * 1_500;
      tx += 60 * 3_000;
      offset += MINUTE;
      sim.setHandshake(laptopKey, 3, { rx, tx });
      await polls();
    }

    // The page reads its series again every minute; a reload shows it now.
    await page.reload();
    await heading(page, 'office');
    const traffic = page.getByRole('region', { name: 'Traffic' });
    await traffic.locator('[data-chart="rate"] canvas').waitFor();
    await traffic.locator('[data-chart="handshake-age"] canvas').waitFor();
    const legend = traffic.locator('[data-chart="rate"] .u-legend');
    await expect(legend.textContent()).resolves.toMatch(/Received.*Sent/s);
    const latest = traffic.locator('[data-traffic="latest"]');
    await expect(latest.textContent()).resolves.toMatch(/received [\d.]+ (B|kB)\/s, sent [\d.]+ (B|kB)\/s,\s+handshake age \d/);
    expect(await traffic.locator('[data-traffic="empty"]').count()).toBe(0);
    await traffic.scrollIntoViewIfNeeded();
    await shot('02-peer-page-24h');

    // The hourly ranges show the current hour, summed from its minutes.
    await traffic.getByRole('button', { name: '7 d' }).click();
    await expect.poll(() => traffic.getByRole('button', { name: '7 d' }).getAttribute('aria-pressed')).toBe('true');
    await traffic.locator('[data-chart="rate"] canvas').waitFor();
    await expect(latest.textContent()).resolves.toMatch(/received \d+(\.\d+)? (B|kB)\/s/);
    await shot('03-peer-page-7d');
    await traffic.getByRole('button', { name: '1 h' }).click();
    await expect.poll(() => traffic.getByRole('button', { name: '1 h' }).getAttribute('aria-pressed')).toBe('true');
    await traffic.locator('[data-chart="rate"] canvas').waitFor();
  }, 90_000);

  it('the peer table: a sparkline and "last seen" per peer', async () => {
    const { page } = dashboard;
    await page.getByRole('link', { name: 'branches' }).first().click();
    await heading(page, 'branches');
    const row = (name: string) => page.locator(`tr[data-peer="${name}"]`);
    for (const name of ['office', 'laptop']) {
      const sparkline = row(name).locator('svg.sparkline');
      await sparkline.waitFor();
      expect(Number(await sparkline.getAttribute('data-known'))).toBeGreaterThanOrEqual(1);
      expect(await sparkline.locator('rect').count()).toBeGreaterThanOrEqual(1);
      await expect.poll(() => row(name).locator('[data-last-seen]').textContent()).toMatch(/^last seen \d+ s ago$/);
    }
    // Reported by the router without a handshake ever.
    await expect.poll(() => row('spare').locator('[data-last-seen]').textContent()).toBe('never seen');
    // Every column, the actions too, is in view at 1280 px: neither the page nor the table's card scrolls sideways.
    await expect(sidewaysOverflow(page)).resolves.toBeLessThanOrEqual(0);
    await expect(page.locator('.table-card', { has: page.getByRole('table', { name: 'Peers' }) }).evaluate((card) => card.scrollWidth - card.clientWidth)).resolves.toBeLessThanOrEqual(0);
    await shot('04-peer-table-sparklines');
  }, 60_000);

  it('fits a 390 px phone: the table and the charts scroll only downwards', async () => {
    const { page, base } = dashboard;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await heading(page, 'branches');
    await page.locator('tr[data-peer="office"] svg.sparkline').waitFor();
    await expect(sidewaysOverflow(page)).resolves.toBeLessThanOrEqual(0);
    await shot('05-peer-table-390px');
    await page.goto(`${base}${officePath}`);
    await heading(page, 'office');
    const traffic = page.getByRole('region', { name: 'Traffic' });
    await traffic.locator('[data-chart="rate"] canvas').waitFor();
    await expect(sidewaysOverflow(page)).resolves.toBeLessThanOrEqual(0);
    await traffic.scrollIntoViewIfNeeded();
    await shot('06-peer-page-390px');
  }, 60_000);
});
