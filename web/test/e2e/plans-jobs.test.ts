// Readable plans, drift, job logs, the jobs page and deployment history in Chromium, against two
// simulated MikroTiks: the office's plan is grouped by kind with counts and names every item by
// the overlay (never an id, never ∅); a changed endpoint plans as one before → after row; a hand
// edit on the router shows as named drift; the peer's history says who deployed, reverted and
// cleared, shows a past configuration with its secrets masked and diffs it with the current one;
// the jobs page filters by WAN, kind, status and manual/automatic (kept in the URL over a reload)
// and loads older pages with the same filters. Screenshots at 1280 px and 390 px, which must not
// scroll sideways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Locator } from 'playwright-core';
import { startRouterOsSimulator, WIREGUARD_PEERS, type RouterOsSimulator } from '../../../server/test/sim/routeros/index.js';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, firstAdmin, gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const SLOW = 120_000;
/** A Meshplane id (cuid), which nothing shown to people may contain. */
const ID_SHAPED = /\bc[a-z0-9]{20,}\b/;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

describe.skipIf(!chromiumAvailable('plans, jobs and history e2e'))('plans, drift, jobs and history', () => {
  let dashboard: Dashboard;
  let office: RouterOsSimulator;
  let depot: RouterOsSimulator;
  let officePath = '';
  let officeId = '';
  let hubId = '';
  let kioskId = '';
  let depotWanId = '';
  const shot = (name: string) => dashboard.browser.shot(`plans-jobs-${name}`);

  /** Screenshots `name` at 1280 px, then at 390 px after checking nothing scrolls sideways there. */
  const bothWidths = async (name: string, scrollTo?: Locator) => {
    const { page } = dashboard;
    if (scrollTo) await scrollTo.scrollIntoViewIfNeeded();
    await shot(`${name}-1280`);
    await page.setViewportSize(PHONE);
    await expect(sidewaysOverflow(page), `${page.url()} scrolls sideways at 390 px`).resolves.toBeLessThanOrEqual(0);
    if (scrollTo) await scrollTo.scrollIntoViewIfNeeded();
    await shot(`${name}-390`);
    await page.setViewportSize(DESKTOP);
  };
  /** What people read in `region`: never an id, never ∅. */
  const readable = async (region: Locator) => {
    const text = (await region.textContent()) ?? '';
    expect(text).not.toMatch(ID_SHAPED);
    expect(text).not.toContain('∅');
    return text;
  };
  const deployRegion = () => dashboard.page.getByRole('region', { name: 'Deploy to office-router' });
  const openOffice = async () => {
    await dashboard.page.goto(`${dashboard.base}${officePath}`);
    await heading(dashboard.page, 'office');
    await dashboard.page.waitForLoadState('networkidle');
  };
  const finished = (kind: string, status = 'SUCCEEDED') =>
    deployRegion().getByLabel('Job', { exact: true }).locator(`[data-job-status="${status}"]`, { hasText: kind }).waitFor({ timeout: 45_000 });
  const jobOf = async (id: string) => (await gql<{ job: { status: string } }>(dashboard.page, dashboard.base, `query ($id: ID!) { job(id: $id) { status } }`, { id })).job.status;
  const setEndpoint = (id: string, endpointHost: string) =>
    gql(dashboard.page, dashboard.base, `mutation ($id: ID!, $host: String) { updatePeer(id: $id, input: { endpointHost: $host }) { peer { id } } }`, { id, host: endpointHost });

  beforeAll(async () => {
    office = await startRouterOsSimulator({ version: '7.18' });
    depot = await startRouterOsSimulator({ version: '7.18' });
    dashboard = await startDashboard({ monitorIntervalMs: 60_000, handshakeProbeMs: 0, autoRedeployDebounceMs: 300 });
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
    await office?.stop();
    await depot?.stop();
  });

  it('a WAN with a hub, the office on the simulated MikroTik and a laptop; a second WAN on another router', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    const device = async (name: string, sim: RouterOsSimulator) => (await gql<{ createDevice: { id: string } }>(page, base, `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name, kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret: sim.password, tls: false, timeoutMs: 3000 },
    })).createDevice.id;
    await device('office-router', office);
    const depotRouter = await device('depot-router', depot);
    await createWan(page, 'branches');
    await page.reload();
    await heading(page, 'branches');
    const hubPath = await addPeer(page, 'hub', 'HUB', 'hub.example.net');
    officePath = await addPeer(page, 'office', 'SITE', '198.51.100.2', 'office-router — MikroTik (API)');
    await addPeer(page, 'laptop', 'CLIENT');
    officeId = officePath.split('/').at(-1)!;
    hubId = hubPath.split('/').at(-1)!;

    // The depot is only here to be filtered out, so it is set up through the API.
    const { createWan: depotWan } = await gql<{ createWan: { wan: { id: string } } }>(page, base, `mutation { createWan(input: { name: "depot" }) { wan { id } } }`);
    depotWanId = depotWan.wan.id;
    const { addPeer: kiosk } = await gql<{ addPeer: { peer: { id: string } } }>(page, base,
      `mutation ($wanId: ID!, $deviceId: ID!) { addPeer(wanId: $wanId, input: { name: "kiosk", role: SITE, endpointHost: "198.51.100.40", deviceId: $deviceId }) { peer { id } } }`,
      { wanId: depotWanId, deviceId: depotRouter });
    kioskId = kiosk.peer.id;
  }, SLOW);

  it('plans the office deploy grouped by kind with counts, every item named, then deploys it', async () => {
    const { page } = dashboard;
    await openOffice();
    const deploy = deployRegion();
    await deploy.getByRole('button', { name: 'Plan deploy' }).click();
    const plan = deploy.getByLabel('Deploy plan', { exact: true });
    await plan.waitFor({ timeout: 30_000 });

    const groups = await plan.locator('section.group').evaluateAll((sections) => sections.map((section) => section.getAttribute('aria-label')));
    expect(groups).toEqual(expect.arrayContaining(['WireGuard interfaces', 'WireGuard peers', 'Addresses', 'Firewall rules']));
    const peers = plan.getByRole('region', { name: 'WireGuard peers' });
    await expect(peers.locator('h4').textContent()).resolves.toMatch(/^WireGuard peers\s+2 to create$/);
    const peerItems = (await peers.locator('li[data-action="create"]').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim()).sort();
    expect(peerItems).toEqual([expect.stringMatching(/^\+ create peer hub \(10\.\d+\.\d+\.\d+\)$/), expect.stringMatching(/^\+ create peer laptop \(10\.\d+\.\d+\.\d+\)$/)]);
    const firewall = await plan.getByRole('region', { name: 'Firewall rules' }).textContent();
    expect(firewall).toContain('accept WireGuard on UDP 51820');
    // The heading's total is the sum of the groups' counts.
    const creates = await plan.locator('li[data-action="create"]').count();
    await expect(deploy.getByRole('heading', { name: /^Plan: / }).textContent()).resolves.toBe(`Plan: ${creates} to create, 0 unchanged`);
    await readable(deploy);
    await bothWidths('01-plan', plan);

    await deploy.getByRole('button', { name: 'Approve and deploy' }).click();
    await finished('deploy');
    const job = deploy.getByLabel('Job', { exact: true });
    const log = await readable(job);
    expect(log).toMatch(/create peer hub \(10\.\d+\.\d+\.\d+\)/);
    expect(log).not.toMatch(/\/interface\/wireguard|\*[0-9A-F]+\b/); // menus and router ids are not what people read
    expect(office.model.rows(WIREGUARD_PEERS).filter((row) => String(row.comment ?? '').startsWith('meshplane:'))).toHaveLength(2);
  }, SLOW);

  it("a changed endpoint of the hub plans as one update row: the hub's endpoint before → after", async () => {
    const { page } = dashboard;
    await setEndpoint(hubId, 'hub2.example.net');
    await openOffice();
    const deploy = deployRegion();
    await page.locator('[data-banner="stale"]').waitFor();
    await deploy.getByRole('button', { name: 'Plan deploy' }).click();
    const plan = deploy.getByLabel('Deploy plan', { exact: true });
    await plan.waitFor({ timeout: 30_000 });
    await expect(deploy.getByRole('heading', { name: /^Plan: / }).textContent()).resolves.toMatch(/^Plan: 1 to update, \d+ unchanged$/);
    const item = plan.getByRole('region', { name: 'WireGuard peers' }).locator('li[data-action="update"]');
    await expect(item.locator('.what').textContent()).resolves.toMatch(/^update peer hub \(10\.\d+\.\d+\.\d+\)$/);
    const rows = await item.getByRole('table', { name: /^Changes to peer hub/ }).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent?.trim())));
    expect(rows).toEqual([['endpoint-address', 'hub.example.net', 'hub2.example.net']]);
    await expect(item.locator('thead').textContent()).resolves.toMatch(/Field\s*before\s*after/);
    await readable(deploy);
    await bothWidths('02-plan-update', plan);
    await deploy.getByRole('button', { name: 'Approve and deploy' }).click();
    await finished('deploy');
  }, SLOW);

  it('a hand edit on the router shows in verify as named drift, field by field', async () => {
    const hubOnRouter = office.model.rows(WIREGUARD_PEERS).find((row) => row['endpoint-address'] === 'hub2.example.net');
    expect(hubOnRouter).toBeDefined();
    office.model.execute({ command: `${WIREGUARD_PEERS}/set`, attributes: { '.id': hubOnRouter!['.id']!, 'endpoint-address': '192.0.2.50' } });
    const deploy = deployRegion();
    await deploy.getByRole('button', { name: 'Verify' }).click();
    const drift = deploy.getByLabel('Drift', { exact: true });
    await drift.waitFor({ timeout: 30_000 });
    await deploy.getByText('1 resource differs from what Meshplane wants.').waitFor();
    const item = drift.locator('li[data-action="different"]');
    await expect(item.locator('.what').textContent()).resolves.toMatch(/^differs peer hub \(10\.\d+\.\d+\.\d+\)$/);
    const rows = await item.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent?.trim())));
    expect(rows).toContainEqual(['endpoint-address', '192.0.2.50', 'hub2.example.net']);
    await expect(item.locator('thead').textContent()).resolves.toMatch(/Field\s*on the device\s*wanted/);
    await readable(deploy);
    await bothWidths('03-drift', drift);
  }, SLOW);

  it('history says who deployed, reverted and cleared; a past configuration is shown with secrets masked and diffed with the current one', async () => {
    const { page, base } = dashboard;
    const history = page.getByRole('region', { name: 'Deployment history' });
    await history.getByRole('button', { name: 'Revert' }).click();
    await history.getByRole('group', { name: 'Re-apply the previous successful deployment?' }).getByRole('button', { name: 'Revert' }).click();
    await finished('revert');
    // The first deployment again: the hub's endpoint as it was then.
    expect(office.model.rows(WIREGUARD_PEERS).map((row) => row['endpoint-address'])).toContain('hub.example.net');
    const deploy = deployRegion();
    await deploy.getByRole('button', { name: 'Clear device' }).click();
    await deploy.getByRole('group', { name: /Remove every Meshplane resource of this peer/ }).getByRole('button', { name: 'Clear', exact: true }).click();
    await finished('clear');
    expect(office.model.rows(WIREGUARD_PEERS).filter((row) => String(row.comment ?? '').startsWith('meshplane:'))).toHaveLength(0);

    const entries = history.getByRole('list', { name: 'Who did what' }).locator(':scope > li');
    await expect.poll(() => entries.count(), { timeout: 15_000 }).toBe(4);
    const said = await entries.locator('.who').allTextContents();
    expect(said[0]).toBe(`${firstAdmin.name} cleared the device`);
    expect(said[1]).toMatch(new RegExp(`^${firstAdmin.name} reverted to \\S.+`));
    expect(said.slice(2)).toEqual([`${firstAdmin.name} deployed`, `${firstAdmin.name} deployed`]);

    // The configuration as deployed the first time: the keys masked, the private key nowhere.
    const { downloadPeerConfig } = await gql<{ downloadPeerConfig: { content: string } }>(page, base, `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId, format: ROUTEROS) { content } }`, { peerId: officeId });
    const privateKey = /private-key="([A-Za-z0-9+/=]{44})"/.exec(downloadPeerConfig.content)?.[1] ?? '';
    expect(privateKey).toMatch(/=$/);
    const first = entries.last();
    await first.getByRole('button', { name: 'View configuration' }).click();
    const config = first.getByLabel('Configuration as deployed');
    await config.waitFor();
    const configText = (await config.textContent()) ?? '';
    expect(configText).toContain('‹secret›');
    expect(configText).toContain('hub.example.net');
    expect(configText).not.toContain(privateKey);
    await bothWidths('04-history-config', config);

    // Against what Meshplane would deploy now: the hub's endpoint moved on.
    await first.getByRole('button', { name: 'Diff with current' }).click();
    const diff = first.getByLabel('Configuration diff');
    await diff.waitFor();
    await expect(diff.locator('p').first().textContent()).resolves.toMatch(/This deployment \(−\) against what Meshplane would deploy now \(\+\): [1-9]\d* added, [1-9]\d* removed\./);
    expect(await diff.locator('span.removed', { hasText: 'hub.example.net' }).count()).toBeGreaterThan(0);
    expect(await diff.locator('span.added', { hasText: 'hub2.example.net' }).count()).toBeGreaterThan(0);
    expect(await diff.textContent()).not.toContain(privateKey);
    await bothWidths('05-history-diff', diff);
  }, SLOW);

  it('auto-redeploy deploys the office after a change, and history says so', async () => {
    const { page, base } = dashboard;
    await gql(page, base, `mutation ($id: ID!) { updatePeer(id: $id, input: { autoDeploy: true }) { peer { id } } }`, { id: officeId });
    await setEndpoint(hubId, 'hub3.example.net');
    const automatic = async () => (await gql<{ jobs: { edges: Array<{ node: { id: string; status: string } }> } }>(page, base,
      `query ($wanId: ID) { jobs(wanId: $wanId, trigger: AUTOMATIC, first: 10) { edges { node { id status } } } }`, { wanId: null })).jobs.edges.map((edge) => edge.node);
    await expect.poll(async () => (await automatic()).some((job) => job.status === 'SUCCEEDED'), { timeout: 45_000, interval: 300 }).toBe(true);
    expect(office.model.rows(WIREGUARD_PEERS).map((row) => row['endpoint-address'])).toContain('hub3.example.net');
    await openOffice();
    const entries = page.getByRole('region', { name: 'Deployment history' }).getByRole('list', { name: 'Who did what' }).locator(':scope > li');
    await expect.poll(() => entries.first().locator('.who').textContent(), { timeout: 15_000 }).toBe('auto-redeploy deployed');
  }, SLOW);

  it('the jobs page filters by WAN, kind, status and who started it, in the URL and over a reload', async () => {
    const { page, base } = dashboard;
    // The depot's own jobs: a deploy and a verify by Grace.
    const run = async (mutation: string) => {
      const data = await gql<Record<string, { id: string }>>(page, base, `mutation ($id: ID!) { ${mutation}(peerId: $id${mutation === 'deployPeer' ? ', approve: true' : ''}) { id } }`, { id: kioskId });
      const { id } = data[mutation]!;
      await expect.poll(() => jobOf(id), { timeout: 30_000 }).toBe('SUCCEEDED');
    };
    await run('deployPeer');
    await run('verifyPeer');

    await page.getByRole('link', { name: 'Jobs' }).click();
    await heading(page, 'Jobs');
    const filters = page.getByRole('form', { name: 'Filter jobs' });
    const jobs = page.locator('article[data-job]');
    const meta = () => jobs.locator('p.wan').allTextContents();
    await expect.poll(async () => (await meta()).length).toBeGreaterThanOrEqual(8);
    const everything = (await meta()).length;

    await filters.getByLabel('WAN').selectOption({ label: 'depot' });
    await page.waitForURL(/[?&]wan=/);
    await expect.poll(async () => (await meta()).length).toBe(2);
    for (const line of await meta()) expect(line).toContain('WAN depot');

    await filters.getByLabel('WAN').selectOption({ label: 'branches' });
    await page.waitForURL(new RegExp(`[?&]wan=(?!${depotWanId})`));
    await expect.poll(async () => (await meta()).length).toBe(everything - 2);
    for (const line of await meta()) expect(line).toContain('WAN branches');

    await filters.getByLabel('Kind').selectOption('DEPLOY');
    await page.waitForURL(/[?&]kind=DEPLOY/);
    await expect.poll(async () => (await meta()).every((line) => line.startsWith('Deploy by '))).toBe(true);
    // Two by Grace; auto-redeploy's (one, or two if it also saw turning auto-deploy on), counted by the API.
    const { jobs: auto } = await gql<{ jobs: { edges: unknown[] } }>(page, base, `query { jobs(trigger: AUTOMATIC, kind: DEPLOY, first: 10) { edges { cursor } } }`);
    expect(auto.edges.length).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await meta()).length).toBe(2 + auto.edges.length);

    await filters.getByLabel('Started by').selectOption('AUTOMATIC');
    await page.waitForURL(/[?&]trigger=AUTOMATIC/);
    await expect.poll(async () => (await meta()).length).toBe(auto.edges.length);
    for (const line of await meta()) expect(line).toBe('Deploy by auto-redeploy · WAN branches · peer office');
    await filters.getByLabel('Started by').selectOption('MANUAL');
    await page.waitForURL(/[?&]trigger=MANUAL/);
    await expect.poll(async () => (await meta()).length).toBe(2);
    for (const line of await meta()) expect(line).toMatch(new RegExp(`^Deploy by ${firstAdmin.name} · WAN branches`));

    await filters.getByLabel('Status').selectOption('FAILED');
    await page.waitForURL(/[?&]status=FAILED/);
    await page.getByText('No jobs match these filters.').waitFor();
    await filters.getByLabel('Status').selectOption('SUCCEEDED');
    await page.waitForURL(/[?&]status=SUCCEEDED/);
    await expect.poll(async () => (await meta()).length).toBe(2);
    for (const status of await jobs.locator('[data-job-status]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-job-status')))) expect(status).toBe('SUCCEEDED');

    // The filters are the URL: a reload shows the same list with the same choices.
    const url = page.url();
    const shown = await meta();
    await page.reload();
    await heading(page, 'Jobs');
    expect(page.url()).toBe(url);
    await expect.poll(meta).toEqual(shown);
    await expect(filters.getByLabel('WAN').locator('option:checked').textContent()).resolves.toBe('branches');
    await expect(filters.getByLabel('Kind').inputValue()).resolves.toBe('DEPLOY');
    await expect(filters.getByLabel('Status').inputValue()).resolves.toBe('SUCCEEDED');
    await expect(filters.getByLabel('Started by').inputValue()).resolves.toBe('MANUAL');
    await readable(page.locator('main'));
    await bothWidths('06-jobs-filtered');

    await page.getByRole('link', { name: 'Clear filters' }).click();
    await expect.poll(async () => (await meta()).length).toBe(everything);
  }, SLOW);

  it('older jobs load with "Load more", keeping the filters', async () => {
    const { page, base } = dashboard;
    // 51 more verifies of the kiosk: with the one before, 52 verifies in the depot WAN.
    const started = await Promise.all(Array.from({ length: 51 }, async () =>
      (await gql<{ verifyPeer: { id: string } }>(page, base, `mutation ($id: ID!) { verifyPeer(peerId: $id) { id } }`, { id: kioskId })).verifyPeer.id));
    await expect.poll(async () => (await Promise.all(started.map(jobOf))).every((status) => status === 'SUCCEEDED'), { timeout: 90_000, interval: 1000 }).toBe(true);

    await page.goto(`${base}/jobs?wan=${depotWanId}&kind=VERIFY`);
    await heading(page, 'Jobs');
    const jobs = page.locator('article[data-job]');
    await expect.poll(() => jobs.count()).toBe(50);
    const firstPage = await jobs.evaluateAll((articles) => articles.map((article) => article.getAttribute('data-job')));
    await page.getByRole('button', { name: 'Load more jobs' }).click();
    await expect.poll(() => jobs.count()).toBe(52);
    const all = await jobs.evaluateAll((articles) => articles.map((article) => article.getAttribute('data-job')));
    expect(all.slice(0, 50)).toEqual(firstPage); // the next page follows the first, newest first
    expect(new Set(all).size).toBe(52);
    for (const line of await jobs.locator('p.wan').allTextContents()) expect(line).toMatch(/^Verify by .* · WAN depot · peer kiosk$/);
    await page.locator('[data-jobs-end]', { hasText: 'That is every job matching these filters.' }).waitFor();
    await expect(page.getByRole('button', { name: 'Load more jobs' }).count()).resolves.toBe(0);
    await page.setViewportSize(PHONE);
    await expect(sidewaysOverflow(page)).resolves.toBeLessThanOrEqual(0);
    await page.setViewportSize(DESKTOP);
    expect(dashboard.browser.pageErrors).toEqual([]);
  }, SLOW);
});
