// The whole dashboard in Debian's Chromium against the real server and the RouterOS and pfSense
// simulators: register, add a MikroTik and a pfSense 2.8 (no statistics) device (both tested),
// create a WAN with three peers (one on the MikroTik), open a peer's reachability, resolve a LAN
// overlap with auto-NAT, download a config and read it, plan and approve a deploy and watch the
// job finish (with its warnings), see a peer turn online when the router reports a handshake;
// publish a service, download the .rsc, deploy again, revert to the first deployment and clear
// the router; a preflight error (an unmanaged tunnel on the office's port) replaces the approve
// button by an override that needs a reason, an overridden deploy the router refuses is undone
// and listed as failed, and the override deploys once the router accepts; follow on the jobs
// page a deploy to the pfSense in a WAN created after the page opened; then the audit log,
// users and API tokens, hub redundancy turned on in a WAN's settings (primary, backup and
// hub-to-hub tunnels drawn; a site's Linux bundle downloaded), narrow screens, and a revoked
// session sent to sign-in. Screenshots:
// web/test-results/e2e/.
import fs from 'node:fs';
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../server/src/app.js';
import { createLogger } from '../../../server/src/infra/logger.js';
import { startPfSenseSimulator, type PfSenseSimulator } from '../../../server/test/sim/pfsense/index.js';
import { FIREWALL_FILTER, FIREWALL_NAT, IP_ADDRESS, IP_ROUTE, startRouterOsSimulator, WIREGUARD, WIREGUARD_PEERS, type RouterOsSimulator } from '../../../server/test/sim/routeros/index.js';
import { chromiumAvailable, openBrowser, sidewaysOverflow, type BrowserSession } from './browser.js';
import { addPeer as addPeerWithForm, createWan as createWanWithForm, firstAdmin, heading as waitForHeading, registerFirstUser } from './journey.js';

const haveChromium = chromiumAvailable('the dashboard browser test');
const admin = firstAdmin;
const LAN = '192.168.10.0/24';
const SLOW = 180_000; // tests that run several device jobs, on a busy machine

describe.skipIf(!haveChromium)('the dashboard against the RouterOS simulator in Chromium', () => {
  let browser: BrowserSession;
  let app: App;
  let sim: RouterOsSimulator;
  let pf: PfSenseSimulator;
  let base: string;
  let page: Page;
  const peerUrls = new Map<string, string>();
  let inviteLink = '';
  let wanUrl = '';
  /** The tagged resources on the router after the first deploy, which a revert brings back. */
  let firstDeployment: string[] = [];
  const shot = (name: string) => browser.shot(name);
  const heading = (name: string, on = page) => waitForHeading(on, name);
  const openPeer = async (name: string) => {
    await page.goto(`${base}${peerUrls.get(name)}`);
    await heading(name);
    await page.waitForLoadState('networkidle');
  };
  /** Adds a peer on the WAN page open in `on`; remembers its page. */
  const addPeer = async (on: Page, name: string, role: string, endpoint?: string, device?: string) =>
    peerUrls.set(name, await addPeerWithForm(on, name, role, endpoint, device));
  const createWan = (on: Page, name: string) => createWanWithForm(on, name);
  /** Plans a deploy on the open peer page, approves it and waits for the job to succeed. */
  const planAndDeploy = async (on: Page, shotName?: string) => {
    await on.getByRole('button', { name: 'Plan deploy' }).click();
    const plan = on.getByLabel('Deploy plan');
    await plan.waitFor({ timeout: 30_000 });
    expect(await plan.locator('.add').count()).toBeGreaterThan(0);
    expect(await plan.textContent()).toContain('+ create');
    if (shotName) await shot(shotName);
    await on.getByRole('button', { name: 'Approve and deploy' }).click();
    await on.getByLabel('Job', { exact: true }).locator('[data-job-status="SUCCEEDED"]', { hasText: 'deploy' }).waitFor({ timeout: 45_000 });
  };
  /** Every resource on the router tagged with Meshplane's comment ("meshplane:<wan>:…"). */
  const managedOnRouter = () =>
    [WIREGUARD, WIREGUARD_PEERS, IP_ADDRESS, IP_ROUTE, FIREWALL_FILTER, FIREWALL_NAT]
      .flatMap((menu) => sim.model.rows(menu).map((row) => `${menu} ${String(row.comment ?? '')}`))
      .filter((entry) => / meshplane:/.test(entry))
      .sort();
  const expectFitsNarrow = async (name: string) => {
    await expect(sidewaysOverflow(page), `${page.url()} scrolls sideways`).resolves.toBeLessThanOrEqual(0);
    await shot(name);
  };

  beforeAll(async () => {
    browser = await openBrowser();
    page = browser.page;
    sim = await startRouterOsSimulator({ version: '7.18' });
    // A pfSense whose REST API package predates the WireGuard status endpoints; it takes API keys.
    pf = await startPfSenseSimulator({ version: '2.8.1', authMethods: ['BasicAuth', 'KeyAuth'] });
    app = await buildApp({
      dataDir: browser.tempDir('meshplane-e2e-dash-'), port: 0, host: '127.0.0.1', logger: createLogger('warn'),
      monitorIntervalMs: 300, handshakeProbeMs: 1000, // the deploy waits 1 s for handshakes that never come: warnings
    });
    ({ url: base } = await app.start());
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await sim?.stop();
    await pf?.stop();
  });

  it('registers the first user, adds the simulated MikroTik and tests the connection', async () => {
    await registerFirstUser(page, base, admin);

    await page.getByRole('link', { name: 'Devices' }).click();
    await heading('Devices');
    await page.getByLabel('Device name').fill('office-router');
    await page.getByLabel('Host', { exact: true }).fill(sim.host);
    await page.getByLabel('Port', { exact: true }).fill(String(sim.apiPort));
    // A port other than 8728/8729 says nothing about TLS: the simulator's API port is plain.
    await page.getByLabel('TLS (api-ssl)').uncheck();
    await page.getByLabel('Password').fill(sim.password);
    // The API names the field at fault: its message sits under Username, which is marked invalid.
    await page.getByLabel('Username').fill('not a user!');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.locator('[aria-invalid="true"][name="username"]').waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Username must be 1-64 characters');
    await page.getByLabel('Username').fill(sim.username);
    await page.getByRole('button', { name: 'Add device' }).click();
    const card = page.locator('article[data-device="office-router"]');
    await card.waitFor();
    await card.getByRole('button', { name: 'Test connection' }).click();
    const report = card.locator('[data-connection]');
    await report.waitFor();
    expect(await report.getAttribute('data-connection')).toBe('ok');
    expect(await report.textContent()).toContain('7.18');
  });

  it('adds the pfSense with an API key and its CA, and the connection test says it has no statistics', async () => {
    const form = page.locator('form', { has: page.locator('#device-form-heading') });
    await form.getByLabel('Device name').fill('edge-firewall');
    await form.getByLabel('Kind').selectOption('PFSENSE');
    await form.getByLabel('Host', { exact: true }).fill(pf.host);
    await form.getByLabel('Port', { exact: true }).fill(String(pf.port));
    // An API key signs in alone: the form asks for no username in that mode.
    await form.getByLabel('Sign in with').selectOption('API_KEY');
    expect(await form.getByLabel('Username').count()).toBe(0);
    await form.getByLabel('API key').fill(pf.apiKey);
    await form.getByText('More: management address, limits, CA certificate').click();
    await form.getByLabel('CA certificate (PEM) for a self-signed router').fill(pf.caPem);
    await form.getByRole('button', { name: 'Add device' }).click();
    const card = page.locator('article[data-device="edge-firewall"]');
    await card.waitFor();
    await expect(card.textContent()).resolves.toContain('pfSense');
    await card.getByRole('button', { name: 'Test connection' }).click();
    const report = card.locator('[data-connection]');
    await report.waitFor();
    expect(await report.getAttribute('data-connection')).toBe('ok');
    await expect(report.textContent()).resolves.toMatch(/REST API v2\.8\.1; no WireGuard statistics/);
    expect(pf.requests.some((request) => request.path.includes('/status/wireguard'))).toBe(true);
  });

  it('creates a WAN and adds a hub, a site on the router and a roaming client', async () => {
    await page.getByRole('link', { name: 'WANs' }).click();
    await heading('WANs');
    await createWan(page, 'Lab');
    wanUrl = new URL(page.url()).pathname;

    const add = (name: string, role: string, endpoint?: string, device?: string) => addPeer(page, name, role, endpoint, device);
    await add('hub', 'HUB', 'hub.example.test');
    await add('office', 'SITE', '198.51.100.2', 'office-router — MikroTik (API)');
    // Reachability is fetched when a peer's entry is opened, and again when the WAN changes.
    const officeReach = page.locator('details[data-reach="office"]');
    await expect(officeReach.locator('summary').textContent()).resolves.toMatch(/office\s*Site · 10\.\d+\.\d+\.\d+/);
    await officeReach.locator('summary').click();
    const officeRows = officeReach.getByRole('table', { name: 'What office reaches' }).locator('tbody tr');
    await officeRows.filter({ hasText: 'hub' }).waitFor();
    await expect(officeRows.count()).resolves.toBe(1);
    await add('laptop', 'CLIENT');
    await officeRows.filter({ hasText: 'laptop' }).waitFor();
    await expect(officeReach.locator('summary').textContent()).resolves.toMatch(/reaches 2 targets/);
    await expect(page.locator('tr[data-peer]').count()).resolves.toBe(3);
    await expect(page.locator('[data-node]').count()).resolves.toBe(3);
    await expect(page.locator('tr[data-peer="laptop"]').textContent()).resolves.toMatch(/CGNAT.*manual/);
  });

  it('flags two sites hosting the same LAN and resolves it with auto-NAT', async () => {
    for (const name of ['hub', 'office']) {
      await openPeer(name);
      await page.getByLabel('Network (CIDR)').fill(LAN);
      await page.getByRole('button', { name: 'Add network' }).click();
      await page.locator(`tr[data-subnet="${LAN}"]`).waitFor();
    }
    // The office page names the overlap and offers to translate its own LAN.
    const overlap = page.locator('li[data-conflict="SUBNET_OVERLAP"]');
    await overlap.waitFor();
    // Both directions are named as broken, and the list explains that auto-NAT takes the whole group.
    await expect(page.locator('li[data-conflict="LAN_UNREACHABLE"]').count()).resolves.toBe(2);
    await expect(page.locator('section[aria-labelledby="conflicts-heading"] [data-explain="auto-nat"]').textContent()).resolves.toMatch(/translates every LAN that overlaps it/);
    await page.getByRole('button', { name: `Translate ${LAN} with auto-NAT` }).first().click();
    await overlap.waitFor({ state: 'detached' });
    const row = page.locator(`tr[data-subnet="${LAN}"]`);
    await expect(row.textContent()).resolves.toMatch(/172\.(1[6-9]|2\d|3[01])\.\d+\.0\/24\s*auto-NAT/);

    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Lab' }).click();
    await heading('Lab');
    await expect(page.locator('[data-conflict="SUBNET_OVERLAP"]').count()).resolves.toBe(0);
    // The laptop reaches the office's LAN as translated.
    const laptopReach = page.locator('details[data-reach="laptop"]');
    await laptopReach.locator('summary').click();
    await laptopReach.locator('tbody tr', { hasText: /172\.(1[6-9]|2\d|3[01])\.\d+\.0\/24/ }).filter({ hasText: 'office' }).waitFor();
    await shot('22-wan-page-reachability');
  });

  it('downloads the client’s .conf with its key and both tunnels', async () => {
    await openPeer('laptop');
    await page.locator('[data-guidance="CLIENT"]').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .conf' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.conf$/);
    const conf = fs.readFileSync((await download.path()) ?? '', 'utf8');
    expect(conf).toContain('[Interface]');
    expect(conf).toMatch(/PrivateKey = [A-Za-z0-9+/]{43}=/);
    expect(conf).toMatch(/Address = 10\.0\.0\.\d+\/\d+/);
    expect(conf.match(/\[Peer\]/g)).toHaveLength(2);
    expect(conf).toContain('Endpoint = hub.example.test:51820');
    // Auto-NAT translated the whole overlap group: the hub's LAN and the office's, each its own range.
    expect(conf).not.toContain(LAN);
    const translated = [...conf.matchAll(/AllowedIPs = .*?(172\.\d+\.\d+\.0\/24)/g)].map((m) => m[1]);
    expect(new Set(translated).size).toBe(2);
    // Downloading counts as delivered: the status turns current.
    await page.locator('h1 ~ [data-status="CURRENT"]').waitFor();
    await expect(page.locator('[data-banner="stale"]').count()).resolves.toBe(0);

    // The hub starts hosting another LAN: the laptop's config changes, and its page says so.
    await openPeer('hub');
    await page.getByLabel('Network (CIDR)').fill('192.168.20.0/24');
    await page.getByRole('button', { name: 'Add network' }).click();
    await page.locator('tr[data-subnet="192.168.20.0/24"]').waitFor();
    await openPeer('laptop');
    await page.locator('[data-banner="stale"]').getByText('Get the updated config.').waitFor();
    await shot('13-peer-page-stale');
    const [again] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .conf' }).click()]);
    expect(fs.readFileSync((await again.path()) ?? '', 'utf8')).toContain('192.168.20.0/24');
    await page.locator('[data-banner="stale"]').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Show QR code' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await shot('10-peer-page-client');
    // The QR code holds the laptop's private key, in a modal dialog that closes on any
    // navigation: a link to another peer's page (the same page, re-used by the client-side
    // router; clicked by script, as the modal keeps the page behind it inert) must not show it.
    await page.locator('section[aria-labelledby="reach-heading"]').getByRole('link', { name: 'hub', exact: true }).first().evaluate((link: HTMLAnchorElement) => link.click());
    await heading('hub');
    await expect(page.getByRole('img', { name: /QR code/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Show QR code' }).isVisible()).resolves.toBe(true);
  });

  it('plans the office deploy as a diff, approves it and follows the job to the end', async () => {
    await openPeer('office');
    await page.locator('[data-guidance="SITE"]').waitFor();
    await planAndDeploy(page, '11-peer-page-deploy-plan');
    // Nothing handshook with the office yet: the job succeeded and names each silent peer.
    const warnings = page.getByRole('list', { name: 'Warnings of the deploy job' });
    await warnings.getByText('no handshake with peer hub within 1 s of the deploy').waitFor();
    await expect(warnings.locator('.badge.warn').count()).resolves.toBe(2);
    await page.locator('[aria-label="Deployments"] .badge.ok').waitFor();
    await page.locator('h1 ~ [data-status="CURRENT"]').waitFor();
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('In sync: the device has exactly what Meshplane wants.').waitFor({ timeout: 30_000 });
    expect(sim.model.rows('/interface/wireguard/peers').length).toBeGreaterThanOrEqual(2);
    firstDeployment = managedOnRouter();
    expect(firstDeployment.filter((entry) => entry.startsWith(`${WIREGUARD_PEERS} `))).toHaveLength(2);
    await shot('12-peer-page-deployed');
  }, SLOW);

  it('turns the hub online when the router reports a fresh handshake', async () => {
    await openPeer('hub');
    const hubKey = (await page.locator('.key code').textContent()) ?? '';
    expect(hubKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    await page.getByRole('link', { name: 'Lab' }).click();
    await heading('Lab');
    const hubLive = page.locator('tr[data-peer="hub"] [data-live]');
    await hubLive.waitFor();
    expect(await hubLive.getAttribute('data-live')).not.toBe('online');

    sim.setHandshake(hubKey, 5, { rx: 123_456, tx: 654_321 });
    await page.locator('tr[data-peer="hub"] [data-live="online"]').waitFor({ timeout: 20_000 });
    await expect(page.locator('tr[data-peer="hub"]').textContent()).resolves.toMatch(/handshake \d+ s ago/);
    // Each line is the pair's own handshake as a device reports it: office's router has a fresh
    // one with the hub (up) and none with the laptop (down); nobody reports hub–laptop (unknown).
    await page.locator('line.up[data-edge="hub—office"]').waitFor({ state: 'attached' });
    await page.locator('line.down[data-edge="office—laptop"]').waitFor({ state: 'attached' });
    await page.locator('line.unknown[data-edge="hub—laptop"]').waitFor({ state: 'attached' });
    await expect(page.locator('figcaption').textContent()).resolves.toMatch(/3 tunnels: 1 up, 1 down, 1 unknown/);
    const tunnel = page.locator('li[data-tunnel="hub—office"]');
    await expect(tunnel.getAttribute('data-state')).resolves.toBe('up');
    // "handshake N s ago" moves on by itself: no new handshake, no new event.
    const handshake = tunnel.locator('[data-handshake]');
    const shown = (await handshake.textContent()) ?? '';
    expect(shown).toMatch(/^handshake \d+ s ago \(reported by office\)$/);
    await expect.poll(() => handshake.textContent(), { timeout: 10_000 }).not.toBe(shown);
    await shot('20-wan-page-live');
    await page.goto(`${base}/`);
    await heading('WANs');
    await shot('21-wan-list');
  });

  it('publishes a service on the office, downloads its .rsc, deploys again and reverts to the first deployment', async () => {
    await openPeer('office');
    const publish = page.getByRole('form', { name: 'Publish a service' });
    await publish.getByLabel('Service name').fill('nas');
    await publish.getByLabel('Local IP').fill('192.168.10.5');
    await publish.getByLabel('Local port').fill('5000');
    await publish.getByRole('button', { name: 'Publish' }).click();
    const service = page.getByRole('table', { name: 'Published services' }).locator('tbody tr', { hasText: 'nas' });
    await service.waitFor();
    await expect(service.textContent()).resolves.toMatch(/10\.0\.5\.\d+:5000.*192\.168\.10\.5:5000/);
    const serviceIp = /(10\.0\.5\.\d+):5000/.exec((await service.textContent()) ?? '')?.[1] ?? '';
    // What is deployed no longer matches: the banner points at a new deploy.
    await page.locator('[data-banner="stale"]').getByRole('link', { name: 'Plan a deploy' }).waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .rsc (RouterOS)' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.rsc$/);
    const rsc = fs.readFileSync((await download.path()) ?? '', 'utf8');
    expect(rsc).toContain('# Meshplane: peer office on WAN Lab (RouterOS v7).');
    expect(rsc).toMatch(/\/interface\/wireguard\/add name="wg0" [^\n]*comment="meshplane:[^:"]+:interface"/);
    expect(rsc).toContain(`dst-address="${serviceIp}"`); // the published service's dst-nat
    expect(rsc).toContain('to-addresses="192.168.10.5"');
    expect(rsc).toMatch(/private-key="[A-Za-z0-9+/]{43}="/);
    expect(rsc).not.toContain('[Interface]'); // RouterOS script, not wg-quick
    // A download is an inspection: the router still has the old configuration, and the page says both.
    await page.locator('h1 ~ [data-download="CURRENT"]').waitFor();
    await expect(page.locator('.heading .row').textContent()).resolves.toMatch(/on device:\s*Stale\s*· last download: current/);
    await page.locator('[data-banner="stale"]').waitFor();

    await planAndDeploy(page);
    const deployments = page.getByRole('table', { name: 'Deployments' }).locator('tbody tr');
    await expect.poll(() => deployments.filter({ hasText: 'succeeded' }).count()).toBe(2);
    const second = managedOnRouter();
    expect(second.filter((entry) => entry.startsWith(`${FIREWALL_NAT} `) && entry.includes('service'))).toHaveLength(1);
    expect(second).not.toEqual(firstDeployment);

    // Revert re-applies the previous successful deployment: the router holds the first one's resources again.
    const history = page.getByRole('region', { name: 'Deployment history' });
    await history.getByRole('button', { name: 'Revert' }).click();
    await history.getByRole('group', { name: 'Re-apply the previous successful deployment?' }).getByRole('button', { name: 'Revert' }).click();
    await page.getByLabel('Job', { exact: true }).locator('[data-job-status="SUCCEEDED"]', { hasText: 'revert' }).waitFor({ timeout: 45_000 });
    await expect.poll(() => deployments.count()).toBe(3);
    expect(managedOnRouter()).toEqual(firstDeployment);
    // The service is still published, so what is deployed is behind what Meshplane would render.
    await page.locator('h1 ~ [data-status="STALE"]').waitFor();
    await shot('14-peer-page-reverted');
  }, SLOW);

  it('clears the office from its router and leaves nothing Meshplane made there', async () => {
    const deploy = page.getByRole('region', { name: 'Deploy to office-router' });
    await deploy.getByRole('button', { name: 'Clear device' }).click();
    await deploy.getByRole('group', { name: /Remove every Meshplane resource of this peer/ }).getByRole('button', { name: 'Clear', exact: true }).click();
    await page.getByLabel('Job', { exact: true }).locator('[data-job-status="SUCCEEDED"]', { hasText: 'clear' }).waitFor({ timeout: 45_000 });
    expect(managedOnRouter()).toEqual([]);
    // What Meshplane did not make is still there.
    expect(sim.model.rows(WIREGUARD).length).toBeGreaterThan(0);
    await shot('15-peer-page-cleared');
  }, SLOW);

  it('shows a preflight error instead of the approve button, lists a failed attempt it undid, and deploys with an audited override', async () => {
    // An unmanaged WireGuard tunnel on the router already listens on the office's port.
    sim.model.execute({ command: `${WIREGUARD}/add`, attributes: { name: 'wg-home', 'listen-port': '51820', comment: 'home tunnel' } });
    try {
      await openPeer('office');
      const deploy = page.getByRole('region', { name: 'Deploy to office-router' });
      const override = deploy.getByRole('form', { name: 'Override preflight' });
      const reason = override.getByLabel('Reason for overriding preflight');
      const go = override.getByRole('button', { name: 'Override preflight and deploy' });
      const planWithError = async () => {
        await deploy.getByRole('button', { name: 'Plan deploy' }).click();
        const issues = deploy.getByRole('list', { name: 'Preflight of the plan' });
        await issues.locator('li[data-severity="ERROR"]', { hasText: 'listen port 51820 is already used by WireGuard interface wg-home' }).waitFor({ timeout: 30_000 });
        await expect(deploy.getByRole('button', { name: 'Approve and deploy' }).count()).resolves.toBe(0);
        await expect(go.isDisabled()).resolves.toBe(true);
      };
      await planWithError();
      await reason.fill('ok');
      await override.getByText('Say why in at least 3 characters.').waitFor();
      await expect(go.isDisabled()).resolves.toBe(true);
      await shot('17-peer-page-preflight-error');

      // Overridden, but the router refuses the firewall rules: the job undoes what it created.
      sim.faults.trap(`${FIREWALL_FILTER}/add`, 'failure: simulated refusal of filter');
      await reason.fill('home tunnel is retired tonight');
      await go.click();
      const job = page.getByLabel('Job', { exact: true });
      await job.locator('[data-job-status="FAILED"]', { hasText: 'deploy' }).waitFor({ timeout: 45_000 });
      sim.faults.reset();
      const undone = job.getByRole('list', { name: 'Undone by the deploy job' }).locator('li');
      const undoneCount = await undone.count();
      expect(undoneCount).toBeGreaterThan(1);
      // The summary counts the lines listed, in the plural.
      await expect(job.getByRole('alert').textContent()).resolves.toMatch(new RegExp(`simulated refusal of filter.*\\(${undoneCount} changes undone; the device is as before\\)`));
      await expect(undone.last().textContent()).resolves.toMatch(/^- remove WireGuard interface wg0$/); // created first, undone last, named as in plans
      await expect(job.getByRole('list', { name: 'Left on the device by the deploy job' }).count()).resolves.toBe(0);
      expect(managedOnRouter()).toEqual([]);
      const failed = page.getByRole('table', { name: 'Deployments' }).locator('tr[data-deployment-status="FAILED"]');
      await failed.waitFor();
      await expect(failed.textContent()).resolves.toMatch(/failed, undone.*simulated refusal of filter/);
      await shot('18-peer-page-failed-attempt');

      // The router accepting, the same override deploys.
      await planWithError();
      await reason.fill('home tunnel is retired tonight');
      await go.click();
      await job.locator('[data-job-status="SUCCEEDED"]', { hasText: 'deploy' }).waitFor({ timeout: 45_000 });
      await expect(job.textContent()).resolves.toContain('1 error overridden: home tunnel is retired tonight');
      expect(managedOnRouter().filter((entry) => entry.startsWith(`${WIREGUARD} `))).toHaveLength(1);
      await expect.poll(() => page.getByRole('table', { name: 'Deployments' }).locator('tbody tr').first().getAttribute('data-deployment-status')).toBe('SUCCEEDED');
    } finally {
      sim.faults.reset();
      const home = sim.model.rows(WIREGUARD).find((row) => row.name === 'wg-home');
      if (home) sim.model.execute({ command: `${WIREGUARD}/remove`, attributes: { '.id': home['.id']! } });
    }
  }, SLOW);

  it('follows, on the jobs page, a deploy to the pfSense in a WAN created after the page opened', async () => {
    await page.getByRole('link', { name: 'Jobs' }).click();
    await heading('Jobs');
    const following = page.getByRole('status').filter({ hasText: /live for \d+ WANs?/ });
    await following.filter({ hasText: 'live for 1 WAN' }).waitFor();

    // Someone else (another tab) creates a WAN with a site on the pfSense and deploys it.
    const other = await browser.context.newPage();
    try {
      await other.goto(`${base}/`);
      await heading('WANs', other);
      await createWan(other, 'Edge');
      await following.filter({ hasText: 'live for 2 WANs' }).waitFor();
      await addPeer(other, 'firewall', 'SITE', '203.0.113.7', 'edge-firewall — pfSense');
      // Its device cannot report handshakes: the table says so instead of "no report".
      await other.locator('tr[data-peer="firewall"] [data-live="no-stats"]', { hasText: 'device has no statistics' }).waitFor();
      await browser.shot('23-wan-page-pfsense', other);
      await other.goto(`${base}${peerUrls.get('firewall')}`);
      await heading('firewall', other);
      await other.getByLabel('Tunnel status').getByText('device has no statistics').waitFor();
      await planAndDeploy(other);
      await other.getByRole('button', { name: 'Statistics' }).click();
      await other.getByText('This device does not report WireGuard statistics.').waitFor();
      expect(JSON.stringify(pf.model.list('tunnels'))).toContain('meshplane:');
      await browser.shot('16-peer-page-pfsense', other);
    } finally {
      await other.close();
    }

    // The jobs page picked the new WAN up and shows its deploy, finished, without a reload.
    const edgeJob = page.locator('article[data-job]', { has: page.getByRole('link', { name: 'Edge' }) });
    await edgeJob.locator('[data-job-status="SUCCEEDED"]', { hasText: 'deploy' }).waitFor();
    await expect(edgeJob.textContent()).resolves.toContain('on edge-firewall');
  }, SLOW);

  it('shows the finished job, the audit log, users and API tokens', async () => {
    await page.getByRole('link', { name: 'Jobs' }).click();
    await heading('Jobs');
    await page.locator('[data-job-status="SUCCEEDED"]').first().waitFor();
    await shot('30-jobs');

    await page.getByRole('link', { name: 'Devices' }).click();
    await heading('Devices');
    const card = page.locator('article[data-device="office-router"]');
    await card.locator('.badge.ok', { hasText: 'reachable' }).waitFor(); // the handshake monitor polls it
    await card.getByRole('button', { name: 'Preflight office' }).click();
    await card.locator('.issues').waitFor({ timeout: 30_000 });
    // Editing without typing a password keeps the stored one: the connection still logs in.
    await card.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit office-router' }).waitFor();
    await page.getByText('Stored encrypted. Leave empty to keep it.').waitFor();
    // Pointing it somewhere else makes the password required again; back as it was, it is not.
    const host = page.getByLabel('Host', { exact: true });
    await host.fill('192.0.2.99');
    await page.getByText('You changed where or how the password is sent: enter it again.').waitFor();
    await expect(page.getByLabel('Password').getAttribute('required')).resolves.not.toBeNull();
    await host.fill(sim.host);
    await page.getByText('Stored encrypted. Leave empty to keep it.').waitFor();
    await page.getByRole('button', { name: 'Save device' }).click();
    await page.getByRole('heading', { name: 'Add a device' }).waitFor();
    await card.getByRole('button', { name: 'Test connection' }).click();
    await card.locator('[data-connection="ok"]').waitFor();
    // The handshake monitor learnt that the pfSense cannot report statistics.
    await page.locator('article[data-device="edge-firewall"] .badge', { hasText: 'no statistics' }).waitFor();
    await shot('31-devices');

    await page.getByRole('link', { name: 'Audit' }).click();
    await heading('Audit log');
    await page.locator('li.entry[data-action]').first().waitFor();
    await page.getByLabel('Action').fill('peer.');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=peer\./);
    const actions = await page.locator('li.entry[data-action]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action') ?? ''));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((action) => action.startsWith('peer.'))).toBe(true);
    await shot('32-audit');

    await page.getByRole('link', { name: 'Users' }).click();
    await heading('Users');
    await page.getByLabel('Full name').fill('Otto Operator');
    await page.getByLabel('Email address').fill('otto@example.test');
    await page.getByLabel('First password').fill('another long password');
    await page.getByLabel('Account role').selectOption('OPERATOR');
    await page.getByRole('button', { name: 'Create account' }).click();
    const otto = page.locator('tr[data-user="otto@example.test"]');
    await otto.waitFor();
    await otto.getByRole('combobox').selectOption('VIEWER');
    await otto.getByRole('button', { name: 'Disable' }).click();
    await otto.getByRole('button', { name: 'Disable', exact: true }).click();
    await otto.getByText('disabled').waitFor();
    await page.locator('form', { has: page.locator('#invite-heading') }).getByLabel('Email').fill('new@example.test');
    await page.getByRole('button', { name: 'Create invitation' }).click();
    inviteLink = (await page.locator('code', { hasText: '/login?invite=' }).textContent()) ?? '';
    await shot('33-users');

    await page.getByRole('link', { name: 'API tokens' }).click();
    await heading('API tokens');
    await page.getByLabel('Token name').fill('ci');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = page.locator('[data-secret="token"] code');
    await secret.waitFor();
    expect((await secret.textContent())?.length).toBeGreaterThan(20);
    const row = page.locator('tr[data-token="ci"]');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Revoke', exact: true }).click();
    await row.getByText('revoked').waitFor();
    await shot('34-tokens');
  });

  it('turns on hub redundancy in the WAN settings, draws primary and backup tunnels, and downloads a site\'s Linux bundle', async () => {
    await page.getByRole('link', { name: 'WANs' }).click();
    await heading('WANs');
    await createWan(page, 'Redundant');
    await addPeer(page, 'hub-a', 'HUB', 'a.example.test');
    await addPeer(page, 'hub-b', 'HUB', 'b.example.test');
    await addPeer(page, 'branch', 'SITE', '198.51.100.20');
    await expect(page.locator('svg [data-role]').count()).resolves.toBe(0);

    const settings = async () => {
      const open = page.locator('details', { has: page.getByRole('heading', { name: 'Settings', exact: true }) });
      if ((await open.getAttribute('open')) === null) await open.locator('summary').click();
      return open;
    };
    // The WAN is a mesh: the opt-in is refused, and the reason is shown at the toggle.
    let form = await settings();
    await form.getByLabel('Hub redundancy').check();
    await form.getByRole('button', { name: 'Save settings' }).click();
    await expect(form.locator('#hub-redundancy-note[role="alert"]').textContent()).resolves.toMatch(/HUB_SPOKE/);

    await form.getByLabel('Topology').selectOption('HUB_SPOKE');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await form.getByRole('button', { name: 'Switch to hub and spoke' }).click();
    // The picture: the branch's primary hub solid, its backup dashed, the hubs' own tunnel thick.
    // (attached, not visible: a vertical line has an empty bounding box)
    await page.locator('line[data-role="primary"][data-edge*="branch"]').waitFor({ state: 'attached' });
    await expect(page.locator('path[data-role="backup"]').count()).resolves.toBe(1);
    await expect(page.locator('line[data-role="hub_link"]').count()).resolves.toBe(1);
    await expect(page.locator('path[data-role="backup"]').evaluate((line) => getComputedStyle(line).strokeDasharray)).resolves.not.toBe('none');
    await expect(page.locator('line[data-role="primary"]').evaluate((line) => getComputedStyle(line).strokeDasharray)).resolves.toBe('none');
    await expect(page.locator('[data-legend="redundancy"]').textContent()).resolves.toMatch(/solid: a spoke's primary hub[\s\S]*dashed: a backup hub[\s\S]*thick: hub to hub/);
    await expect(page.locator('.heading').textContent()).resolves.toContain('redundant hubs');
    // No device reports these tunnels: every hub and the branch's hub are unknown, never "up".
    await page.locator('tr[data-hub="hub-a"]').waitFor();
    await expect(page.locator('tr[data-hub="hub-a"] .state').textContent()).resolves.toBe('unknown');
    await expect(page.locator('tr[data-hub="hub-b"] .state').textContent()).resolves.toBe('unknown');
    await expect(page.locator('tr[data-spoke="branch"] .state').textContent()).resolves.toBe('unknown');
    await expect(page.locator('[data-banner="hub-lost"]').count()).resolves.toBe(0);
    form = await settings();
    await expect(form.getByLabel('Hub redundancy').isChecked()).resolves.toBe(true);
    await shot('24-wan-page-redundant-hubs');

    await openPeer('branch');
    await page.locator('[data-hint="bundle"]').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Linux bundle (.sh)' }).click()]);
    expect(download.suggestedFilename()).toBe('meshplane-branch.sh');
    const bundle = fs.readFileSync((await download.path()) ?? '', 'utf8');
    expect(bundle.startsWith('#!/bin/sh')).toBe(true);
    expect(bundle).toContain('cat > "$DIR/wireguard/wg0h2.conf"');
    expect(bundle).toContain('cat > "$DIR/bird.conf"');
    expect(bundle.match(/^PrivateKey = [A-Za-z0-9+/]{43}=$/gm)).toHaveLength(2);
    await page.locator('h1 ~ [data-status="CURRENT"]').waitFor();
    await page.getByText('Preview (without keys)').click();
    await page.getByRole('radio', { name: 'Linux bundle' }).check();
    const preview = await page.getByLabel('Configuration preview').textContent();
    expect(preview).toContain('protocol bgp');
    expect(preview).not.toMatch(/^PrivateKey = [A-Za-z0-9+/]{43}=$/m);
    expect(browser.pageErrors).toEqual([]);
  });

  it('creates a dual-stack WAN with the IPv6 toggle and shows both families for peers, an IPv6 LAN and the downloaded .conf', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'WANs' }).click();
    await heading('WANs');
    await page.getByLabel('Name', { exact: true }).fill('Dual');
    await page.getByLabel('IPv6 (dual-stack)').check();
    await page.getByRole('button', { name: 'Create WAN' }).click();
    const listed = page.getByRole('row', { name: /Dual/ });
    // The list shows the random unique local /64 under the IPv4 range.
    await expect(listed.textContent()).resolves.toMatch(/10\.0\.0\.0\/24\s*fd[0-9a-f]{2}:[0-9a-f:]+\/64/);
    await listed.getByRole('link', { name: 'Dual' }).click();
    await heading('Dual');
    const ipv6 = (await page.locator('[data-testid="wan-ipv6"]').textContent()) ?? '';
    const tunnel6 = /tunnel (fd[0-9a-f:]+)::\/64/.exec(ipv6)?.[1];
    expect(tunnel6, ipv6).toBeTruthy();
    expect(ipv6).toMatch(/NAT pool fd[0-9a-f:]+:8000::\/49/);

    // An IPv6 endpoint in any form is shown as RFC 5952 prints it.
    await addPeer(page, 'hub6', 'HUB', '2001:DB8:0:0::7');
    await addPeer(page, 'site6', 'SITE');
    await expect(page.locator('tr[data-peer="hub6"]').textContent()).resolves.toContain(`${tunnel6}::1`);
    await expect(page.locator('tr[data-peer="hub6"]').textContent()).resolves.toContain('2001:db8::7');
    await expect(page.locator('tr[data-peer="site6"]').textContent()).resolves.toMatch(new RegExp(`10\\.0\\.0\\.2\\s*${tunnel6}::2`));
    await expect(page.locator('svg [aria-label^="hub6, hub"]').getAttribute('aria-label')).resolves.toContain(`10.0.0.1, ${tunnel6}::1`);
    await shot('25-wan-page-dual-stack');

    await openPeer('site6');
    await expect(page.locator('.heading').textContent()).resolves.toContain(`${tunnel6}::2`);
    await page.getByLabel('Network (CIDR)').fill('2001:DB8:10:0::/64');
    await page.getByRole('button', { name: 'Add network' }).click();
    await page.locator('tr[data-subnet="2001:db8:10::/64"]').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .conf' }).click()]);
    const conf = fs.readFileSync((await download.path()) ?? '', 'utf8');
    expect(conf).toMatch(new RegExp(`^Address = 10\\.0\\.0\\.2/24, ${tunnel6}::2/64$`, 'm'));
    // A mesh: the hub is reached at its two tunnel addresses.
    expect(conf).toMatch(new RegExp(`^AllowedIPs = 10\\.0\\.0\\.1/32, ${tunnel6}::1/128$`, 'm'));
    expect(conf).toContain('Endpoint = [2001:db8::7]:51820');

    // Turning IPv6 off in the settings is refused while the IPv6 LAN exists; the reason names it at the toggle.
    await page.getByRole('link', { name: 'Dual' }).click();
    await heading('Dual');
    const settings = page.locator('details', { has: page.getByRole('heading', { name: 'Settings', exact: true }) });
    if ((await settings.getAttribute('open')) === null) await settings.locator('summary').click();
    await expect(settings.getByLabel('IPv6 tunnel range').inputValue()).resolves.toBe(`${tunnel6}::/64`);
    await settings.getByLabel('IPv6 (dual-stack)').uncheck();
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect(settings.locator('#ipv6-note[role="alert"]').textContent()).resolves.toContain('LAN 2001:db8:10::/64 of "site6"');
    expect(browser.pageErrors).toEqual([]);
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const pages = [
      ['40-narrow-peer', peerUrls.get('office')], ['41-narrow-wan-page', wanUrl], ['42-narrow-devices', '/devices'], ['43-narrow-users', '/users'],
      ['44-narrow-audit', '/audit'], ['45-narrow-jobs', '/jobs'], ['46-narrow-tokens', '/tokens'], ['47-narrow-peer-pfsense', peerUrls.get('firewall')],
    ];
    for (const [name, url] of pages) {
      await page.goto(`${base}${url}`);
      await page.waitForLoadState('networkidle');
      await expectFitsNarrow(name ?? '');
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(browser.pageErrors).toEqual([]);
  });

  it('sends a page whose session is revoked to sign-in, saying why, and back after signing in', async () => {
    await page.goto(`${base}${wanUrl}`);
    await heading('Lab');
    await page.locator('tr[data-peer="hub"] [data-live]').waitFor(); // live: the page has its socket open
    // The session is revoked elsewhere (here through the API, with this browser's cookie).
    const api = async (query: string, variables = {}) => {
      const response = await page.request.post(`${base}/graphql`, { headers: { 'x-graphql-csrf': '1' }, data: { query, variables } });
      return ((await response.json()) as { data: Record<string, unknown> }).data;
    };
    const sessions = (await api('{ mySessions(first: 20) { edges { node { id current } } } }')) as { mySessions: { edges: Array<{ node: { id: string; current: boolean } }> } };
    const current = sessions.mySessions.edges.find((edge) => edge.node.current)?.node.id;
    expect(current).toBeTruthy();
    await api('mutation ($id: ID!) { revokeSession(id: $id) { id } }', { id: current });

    await page.waitForURL(/\/login\?/);
    await page.locator('[data-notice="session-ended"]').getByText('Your session was revoked. Sign in again to continue.').waitFor();
    await heading('Sign in');
    await page.setViewportSize({ width: 390, height: 844 });
    await expectFitsNarrow('48-narrow-login-session-revoked');
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}${wanUrl}`);
    await heading('Lab');
  });

  it('lets the invited person register with the link, as an operator without the admin pages', async () => {
    expect(inviteLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?invite=/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/login`);
    await page.goto(inviteLink);
    await heading('Accept the invitation');
    await page.getByLabel('Name').fill('Nina New');
    // The invitation's own address, filled in and fixed.
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe('new@example.test');
    await expect(page.getByLabel('Email').getAttribute('readonly')).resolves.not.toBeNull();
    await page.getByLabel('Password').fill('a fresh long password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${base}/`);
    await expect(page.locator('header').textContent()).resolves.toMatch(/Nina New\s*operator/);
    await expect(page.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
    await page.getByRole('row', { name: /Lab/ }).waitFor();
    expect(browser.pageErrors).toEqual([]);
  });
});
