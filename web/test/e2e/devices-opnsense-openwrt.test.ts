// OPNsense and OpenWrt in Debian's Chromium against the real server and both simulators: add
// each through the device form (OPNsense's API key and secret, OpenWrt's rpcd login, each with
// its CA) and test the connection; a WAN with a hub and a site on each; deploy each site from its
// peer page and find the tunnel in the simulator's own state (OPNsense's instance and peer
// records, OpenWrt's committed UCI text); a handshake the device reports turns the tunnel up on
// the WAN page. The device form for OPNsense fits a 390 px phone. Screenshots: web/test-results/e2e/.
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenWrtSimulator, type OpenWrtSimulator } from '../../../server/test/sim/openwrt/index.js';
import { startOpnSenseSimulator, type OpnSenseSimulator } from '../../../server/test/sim/opnsense/index.js';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const haveChromium = chromiumAvailable('the OPNsense and OpenWrt browser test');
const SLOW = 180_000; // device jobs on a busy machine

describe.skipIf(!haveChromium)('OPNsense and OpenWrt devices in Chromium', () => {
  let dash: Dashboard;
  let page: Page;
  let opn: OpnSenseSimulator;
  let owrt: OpenWrtSimulator;
  const peerUrls = new Map<string, string>();
  const deviceForm = () => page.locator('form', { has: page.locator('#device-form-heading') });
  const openPeer = async (name: string) => {
    await page.goto(`${dash.base}${peerUrls.get(name)}`);
    await heading(page, name);
    await page.waitForLoadState('networkidle');
  };
  /** Adds a device with the form on the devices page, tests its connection and returns the report. */
  const addDevice = async (fill: (form: ReturnType<typeof deviceForm>) => Promise<void>, name: string, caPem: string) => {
    const form = deviceForm();
    await form.getByLabel('Device name').fill(name);
    await fill(form);
    const more = form.locator('details');
    if ((await more.getAttribute('open')) === null) await more.locator('summary').click();
    await form.getByLabel('CA certificate (PEM) for a self-signed router').fill(caPem);
    await form.getByRole('button', { name: 'Add device' }).click();
    await form.getByRole('status').filter({ hasText: `Added ${name}` }).waitFor();
    const card = page.locator(`article[data-device="${name}"]`);
    await card.getByRole('button', { name: 'Test connection' }).click();
    const report = card.locator('[data-connection]');
    await report.waitFor({ timeout: 30_000 });
    return { card, report };
  };
  const planAndDeploy = async () => {
    await page.getByRole('button', { name: 'Plan deploy' }).click();
    const plan = page.getByLabel('Deploy plan');
    await plan.waitFor({ timeout: 30_000 });
    expect(await plan.locator('.add').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Approve and deploy' }).click();
    await page.getByLabel('Job', { exact: true }).locator('[data-job-status="SUCCEEDED"]', { hasText: 'deploy' }).waitFor({ timeout: 60_000 });
    await page.locator('h1 ~ [data-status="CURRENT"]').waitFor();
  };
  const hubKey = async () => {
    await openPeer('hub');
    const key = (await page.locator('.key code').textContent()) ?? '';
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    return key;
  };

  beforeAll(async () => {
    opn = await startOpnSenseSimulator({ version: '26.7.2' });
    owrt = await startOpenWrtSimulator({ timeScale: 20 });
    // A fast handshake monitor; the deploy waits 1 s for handshakes that come only later.
    dash = await startDashboard({ monitorIntervalMs: 300, handshakeProbeMs: 1000 });
    page = dash.page;
  });

  afterAll(async () => {
    await dash?.stop();
    await opn?.stop();
    await owrt?.stop();
  });

  it('adds an OPNsense with its API key and secret and an OpenWrt with its rpcd login, both reachable', async () => {
    await registerFirstUser(page, dash.base);
    await page.getByRole('link', { name: 'Devices' }).click();
    await heading(page, 'Devices');
    await page.getByText(/pfSense \(REST API v2\), OPNsense \(REST API\), OpenWrt \(rpcd\/ubus\)/).waitFor();

    const opnsense = await addDevice(async (form) => {
      await form.getByLabel('Kind').selectOption('OPNSENSE');
      await form.getByLabel('Host', { exact: true }).fill(opn.host);
      await form.getByLabel('Port', { exact: true }).fill(String(opn.port));
      // OPNsense's key pair: the key is the Basic user name, so there is no "Username" field.
      expect(await form.getByLabel('Username').count()).toBe(0);
      await form.getByLabel('API key').fill(opn.key);
      await form.getByLabel('API secret').fill(opn.secret);
      await expect(form.getByLabel('HTTPS').isChecked()).resolves.toBe(true);
    }, 'opn-edge', opn.caPem);
    await expect(opnsense.report.getAttribute('data-connection')).resolves.toBe('ok');
    await expect(opnsense.report.textContent()).resolves.toContain('26.7.2');

    const openwrt = await addDevice(async (form) => {
      await form.getByLabel('Kind').selectOption('OPENWRT');
      await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
      await form.getByLabel('Port', { exact: true }).fill(String(owrt.port));
      expect(await form.getByLabel('API key').count()).toBe(0);
      await form.getByLabel('Username').fill(owrt.username);
      await form.getByLabel('Password').fill(owrt.password);
    }, 'owrt-branch', owrt.caPem);
    await expect(openwrt.report.getAttribute('data-connection')).resolves.toBe('ok');
    await expect(openwrt.report.textContent()).resolves.toContain('OpenWrt 24.10.2');

    // The list names each kind.
    await expect(opnsense.card.locator('.badge.neutral').textContent()).resolves.toBe('OPNsense');
    await expect(openwrt.card.locator('.badge.neutral').textContent()).resolves.toBe('OpenWrt');
    // OPNsense's user name is its API key, and the card calls it that.
    await expect(opnsense.card.locator('[data-auth]').textContent()).resolves.toBe(`· API key ${opn.key}`);
    await expect(openwrt.card.locator('[data-auth]').textContent()).resolves.toBe(`· user ${owrt.username}`);
    await dash.browser.shot('60-devices-opnsense-openwrt');
    expect(dash.browser.pageErrors).toEqual([]);
  });

  it('creates a WAN with a hub and a site on each device', async () => {
    await page.getByRole('link', { name: 'WANs' }).click();
    await heading(page, 'WANs');
    await createWan(page, 'Branches');
    peerUrls.set('wan', new URL(page.url()).pathname);
    peerUrls.set('hub', await addPeer(page, 'hub', 'HUB', '203.0.113.1'));
    peerUrls.set('opn-site', await addPeer(page, 'opn-site', 'SITE', '198.51.100.2', 'opn-edge — OPNsense'));
    peerUrls.set('owrt-site', await addPeer(page, 'owrt-site', 'SITE', '198.51.100.3', 'owrt-branch — OpenWrt'));
    await expect(page.locator('tr[data-peer="opn-site"]').textContent()).resolves.toContain('opn-edge');
    await expect(page.locator('tr[data-peer="owrt-site"]').textContent()).resolves.toContain('owrt-branch');
  });

  it('deploys the OPNsense site from its peer page: the firewall holds the instance and its peers', async () => {
    const hub = await hubKey();
    await openPeer('opn-site');
    await planAndDeploy();
    await dash.browser.shot('61-peer-page-opnsense-deployed');
    // Meshplane's instance (named after its tag) with the hub among its peers, in the saved config and running.
    const instances = [...opn.model.config.servers.values()].filter((instance) => String(instance.name).startsWith('meshplane.'));
    expect(instances).toHaveLength(1);
    const instanceUuid = [...opn.model.config.servers].find(([, instance]) => instance === instances[0])?.[0] ?? '';
    const [hubUuid, hubPeer] = [...opn.model.config.clients].find(([, client]) => client.pubkey === hub) ?? [];
    expect(hubPeer, 'the hub as an OPNsense peer').toBeDefined();
    expect(hubPeer?.serveraddress).toBe('203.0.113.1');
    // OPNsense keeps the membership on the instance (its `peers` list).
    expect(String(instances[0]?.peers).split(',')).toContain(hubUuid);
    const running = [...opn.model.running.wg.values()].find((instance) => instance.uuid === instanceUuid);
    expect(running?.peers.map((peer) => peer.pubkey)).toContain(hub);
    // The seeded hand-made road-warrior instance is still there.
    expect(opn.model.config.servers.size).toBeGreaterThan(1);
  }, SLOW);

  it('deploys the OpenWrt site from its peer page: the committed UCI holds the tunnel', async () => {
    const hub = await hubKey();
    await openPeer('owrt-site');
    await planAndDeploy();
    await dash.browser.shot('62-peer-page-openwrt-deployed');
    const network = owrt.model.uci.packageText('network') ?? '';
    expect(network).toMatch(/option proto 'wireguard'/);
    expect(network).toMatch(/option mp_tag 'meshplane/);
    expect(network).toContain(`option public_key '${hub}'`);
    expect(network).toContain(`option endpoint_host '203.0.113.1'`);
    // Committed, not only applied: nothing is pending and no rollback is armed.
    expect(owrt.model.apply.applySid).toBeNull();
    expect([...owrt.model.runtime.wg.values()].some((device) => device.peers.some((peer) => peer.publicKey === hub))).toBe(true);
  }, SLOW);

  it('turns each tunnel to the hub up when its device reports a handshake', async () => {
    const hub = await hubKey();
    await page.goto(`${dash.base}${peerUrls.get('wan')}`);
    await heading(page, 'Branches');
    const tunnel = (site: string) => page.locator(`li[data-tunnel="hub—${site}"]`);
    await tunnel('opn-site').waitFor({ state: 'attached' });
    await expect(tunnel('opn-site').getAttribute('data-state')).resolves.not.toBe('up');
    await expect(tunnel('owrt-site').getAttribute('data-state')).resolves.not.toBe('up');

    // Real Unix time, as a router with NTP reports it.
    const now = () => Math.floor(Date.now() / 1000);
    opn.setPeerStats(hub, { latestHandshake: now() - 3, rx: 4_000n, tx: 5_000n });
    await expect.poll(() => tunnel('opn-site').getAttribute('data-state'), { timeout: 20_000 }).toBe('up');
    await expect(tunnel('owrt-site').getAttribute('data-state')).resolves.not.toBe('up');

    expect(owrt.setPeerStats(hub, { latestHandshake: now() - 3, rx: 6_000, tx: 7_000 })).toBe(true);
    await expect.poll(() => tunnel('owrt-site').getAttribute('data-state'), { timeout: 20_000 }).toBe('up');
    await expect.poll(() => page.locator('tr[data-peer="hub"] [data-live]').getAttribute('data-live')).toBe('online');
    await dash.browser.shot('63-wan-page-opnsense-openwrt-live');
    expect(dash.browser.pageErrors).toEqual([]);
  });

  it('fits the OPNsense device form on a 390 px phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${dash.base}/devices`);
      await heading(page, 'Devices');
      const form = deviceForm();
      await form.getByLabel('Kind').selectOption('OPNSENSE');
      await form.getByLabel('API secret').waitFor();
      await form.locator('details summary').click();
      await form.getByLabel('CA certificate (PEM) for a self-signed router').waitFor();
      await expect(sidewaysOverflow(page), 'the devices page with the OPNsense form scrolls sideways').resolves.toBeLessThanOrEqual(0);
      const box = await form.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
      await dash.browser.shot('64-narrow-device-form-opnsense');

      // Editing it: moving the firewall asks for the API secret again, named as the form names it.
      await page.locator('article[data-device="opn-edge"]').getByRole('button', { name: 'Edit' }).click();
      await page.getByRole('heading', { name: 'Edit opn-edge' }).waitFor();
      await expect(form.getByLabel('API key').inputValue()).resolves.toBe(opn.key);
      await form.getByLabel('Host', { exact: true }).fill('192.0.2.99');
      await form.getByText('You changed where or how the API secret is sent: enter it again.').waitFor();
      await expect(sidewaysOverflow(page), 'the OPNsense edit form scrolls sideways').resolves.toBeLessThanOrEqual(0);
      await dash.browser.shot('65-narrow-device-edit-opnsense');
      await form.getByRole('button', { name: 'Cancel' }).click();
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    expect(dash.browser.pageErrors).toEqual([]);
  });
});
