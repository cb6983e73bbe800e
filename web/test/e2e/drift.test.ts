// The drift watch in Chromium against a simulated MikroTik: after a deploy, someone changes the
// WireGuard interface on the router behind Meshplane's back; the devices page, the peer page and
// the WAN page say so, naming the item as plans name it. Turning auto-repair on in the device
// form puts the router back by itself, and the badges go. The watch runs on its own (short)
// interval here; the pages are read again until they show it (bounded polls).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterOsSimulator, WIREGUARD, type RouterOsSimulator } from '../../../server/test/sim/routeros/index.js';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const SLOW = 120_000;
const POLL = { timeout: 45_000, intervals: [500] };

describe.skipIf(!chromiumAvailable('drift watch e2e'))('drift watch', () => {
  let dashboard: Dashboard;
  let router: RouterOsSimulator;
  let officePath = '';
  let wanPath = '';
  const managedInterface = () => router.model.rows(WIREGUARD).find((row) => String(row.comment ?? '').startsWith('meshplane'));
  const text = async (path: string, selector: string) => {
    const { page, base } = dashboard;
    await page.goto(`${base}${path}`);
    await page.waitForLoadState('networkidle');
    const found = page.locator(selector);
    return (await found.count()) > 0 ? ((await found.first().textContent()) ?? '').replace(/\s+/g, ' ').trim() : null;
  };

  beforeAll(async () => {
    router = await startRouterOsSimulator({ version: '7.18' });
    dashboard = await startDashboard({ monitorIntervalMs: 300, driftIntervalMs: 700, handshakeProbeMs: 0 });
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
    await router?.stop();
  });

  it('deploys the office to the simulated router', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    await gql(page, base, `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'office-router', kind: 'ROUTEROS_API', host: router.host, port: router.apiPort, username: router.username, secret: router.password, tls: false, timeoutMs: 3000 },
    });
    await createWan(page, 'branches');
    wanPath = new URL(page.url()).pathname;
    await page.reload();
    await heading(page, 'branches');
    await addPeer(page, 'hub', 'HUB', 'hub.example.net');
    officePath = await addPeer(page, 'office', 'SITE', '198.51.100.2', 'office-router — MikroTik (API)');
    const peerId = officePath.split('/').at(-1)!;
    const { planDeploy } = await gql<{ planDeploy: { planHash: string } }>(page, base, `mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { planHash } }`, { peerId });
    const { deployPeer } = await gql<{ deployPeer: { id: string } }>(page, base, `mutation ($peerId: ID!, $planHash: String) { deployPeer(peerId: $peerId, approve: true, planHash: $planHash) { id } }`, { peerId, planHash: planDeploy.planHash });
    await expect.poll(async () => (await gql<{ job: { status: string } }>(page, base, `query ($id: ID!) { job(id: $id) { status } }`, { id: deployPeer.id })).job.status, POLL).toBe('SUCCEEDED');
    expect(managedInterface()?.mtu).toBe('1420');
    // Compared by the watch and found as deployed.
    await expect.poll(() => text(officePath, '[data-drift]'), POLL).toBe('device as deployed');
  }, SLOW);

  it('a change made on the router shows on the devices, peer and WAN pages, naming the item', async () => {
    const { page } = dashboard;
    router.model.execute({ command: `${WIREGUARD}/set`, attributes: { '.id': managedInterface()!['.id']!, mtu: '1280' } });
    await expect.poll(() => text('/devices', '[data-device-drift]'), POLL).toBe('changed on the device (1 peer)');
    const onCard = (await page.locator('[data-peer-drift="office"]').textContent())!.replace(/\s+/g, ' ');
    expect(onCard).toContain('changed on the device: 1 item');
    expect(onCard).toContain('WireGuard interface wg0');
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(sidewaysOverflow(page), 'the devices page scrolls sideways at 390 px').resolves.toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });

    const banner = await text(officePath, '[data-banner="drift"]');
    expect(banner).toContain('changed on the device: 1 item');
    expect(banner).toContain('WireGuard interface wg0');
    expect(banner).toContain('changed: mtu: 1280 ≠ 1420');
    expect(await text(wanPath, '[data-banner="drift"]')).toMatch(/^1 peer’s device was changed behind Meshplane’s back/);
  }, SLOW);

  it('auto-repair, turned on in the device form, puts the router back and the badges go', async () => {
    const { page, base } = dashboard;
    await page.goto(`${base}/devices`);
    await page.locator('[data-device="office-router"]').getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel(/Put Meshplane’s items back/).check();
    await page.getByRole('button', { name: 'Save device' }).click();
    await page.locator('[data-device="office-router"]').getByText('auto-repair', { exact: true }).waitFor({ timeout: 15_000 });
    await expect.poll(() => managedInterface()?.mtu, POLL).toBe('1420');
    await expect.poll(() => text('/devices', '[data-device-drift]'), POLL).toBeNull();
    await expect.poll(() => text(officePath, '[data-drift]'), POLL).toBe('device as deployed');
    const { jobs } = await gql<{ jobs: { edges: Array<{ node: { kind: string; log: string } }> } }>(page, base, `{ jobs(first: 20) { edges { node { kind log } } } }`);
    expect(jobs.edges.filter(({ node }) => node.kind === 'DEPLOY' && node.log.includes('started by the drift watch (auto-repair)'))).toHaveLength(1);
  }, SLOW);
});
