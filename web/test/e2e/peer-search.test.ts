// Issue 17, item 2 in Chromium against a real server: the WAN page's peer table over 60 peers,
// searched, filtered, ordered and paged by the server (Wan.peers), with the state in the URL.
// Search by name, tunnel address and an address inside a LAN; filters role, stale and
// disabled; no match and "Clear filters"; order by name (descending) and tunnel address; the
// next page; a reload keeps all of it; the filter bar fits a 390 px screen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const haveChromium = chromiumAvailable('the peer search browser test');
const SLOW = 120_000;

const ADD = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id tunnelIp } } }`;
const ORDERED = `query ($id: ID!, $orderBy: PeerOrder, $first: Int) { wan(id: $id) { peers(orderBy: $orderBy, first: $first) { edges { node { name tunnelIp } } } } }`;

const numeric = (ip: string) => ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);

describe.skipIf(!haveChromium)('finding peers in a 60-peer WAN in Chromium', () => {
  let dashboard: Dashboard;
  let page: Page;
  let base: string;
  let wanId: string;
  const tunnelIp: Record<string, string> = {};
  const shot = (name: string) => dashboard.browser.shot(`peer-search-${name}`);

  /** The names in the table, top to bottom. */
  const rows = () => page.locator('table[aria-label="Peers"] tbody tr[data-peer]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-peer') ?? ''));
  const summary = () => page.getByTestId('peer-count').textContent();
  const search = (text: string) => page.getByLabel('Search peers').fill(text);
  /** The filter bar (the add-peer form below has a Role and a Device too). */
  const filters = () => page.getByRole('search', { name: 'Find peers' });
  const until = <T>(read: () => Promise<T>, expected: T) => expect.poll(read, { timeout: 15_000 }).toEqual(expected);

  beforeAll(async () => {
    dashboard = await startDashboard({ monitor: false });
    ({ page, base } = dashboard);
    await registerFirstUser(page, base);
    wanId = (await gql<{ createWan: { wan: { id: string } } }>(page, base, `mutation { createWan(input: { name: "Retail", topology: HUB_SPOKE, tunnelCidr: "10.70.0.0/24" }) { wan { id } } }`)).createWan.wan.id;
    const device = (await gql<{ createDevice: { id: string } }>(page, base, `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'edge-lyon', kind: 'ROUTEROS_API', host: '192.0.2.70', username: 'meshplane', secret: 'e2e-secret-70' },
    })).createDevice.id;
    const inputs: Array<Record<string, unknown>> = [
      { name: 'hub-paris', role: 'HUB', endpointHost: 'vpn-gateway-primary.paris.datacenter.example.net', endpointPort: 51820 },
      { name: 'hub-berlin', role: 'HUB', endpointHost: 'berlin.example.net', endpointPort: 51820 },
      { name: 'store-lyon', role: 'SITE', deviceId: device },
      ...Array.from({ length: 40 }, (_, i) => ({ name: `site-${i + 1}`, role: 'SITE' })),
      ...Array.from({ length: 17 }, (_, i) => ({ name: `phone-${i + 1}`, role: 'CLIENT' })),
    ];
    for (const input of inputs) tunnelIp[input.name as string] = (await gql<{ addPeer: { peer: { id: string; tunnelIp: string } } }>(page, base, ADD, { wanId, input })).addPeer.peer.tunnelIp;
    const ids = Object.fromEntries((await gql<{ wan: { peers: { edges: Array<{ node: { id: string; name: string } }> } } }>(page, base, `query ($id: ID!) { wan(id: $id) { peers(first: 100) { edges { node { id name } } } } }`, { id: wanId }))
      .wan.peers.edges.map((edge) => [edge.node.name, edge.node.id]));
    for (const [name, cidr] of [['site-7', '192.168.77.0/24'], ['site-12', '172.20.12.0/24'], ['store-lyon', '192.168.69.0/24']] as const) {
      await gql(page, base, `mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id } }`, { peerId: ids[name], input: { cidr } });
    }
    for (const name of ['phone-3', 'phone-9', 'phone-15']) await gql(page, base, `mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: false }) { peer { id } } }`, { id: ids[name] });
    // Downloaded, then its key rotated: the one stale configuration.
    await gql(page, base, `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`, { peerId: ids['site-20'] });
    await gql(page, base, `mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: ids['site-20'] });
    await page.goto(`${base}/wans/${wanId}`);
    await heading(page, 'Retail');
  }, SLOW);

  afterAll(async () => {
    await dashboard?.stop();
  });

  it('lists a page of 25 and says how many there are', async () => {
    await until(summary, 'Showing 25 of 60 peers');
    const names = await rows();
    expect(names).toHaveLength(25);
    expect(names.map((name) => numeric(tunnelIp[name]!))).toEqual([...names.map((name) => numeric(tunnelIp[name]!))].sort((a, b) => a - b));
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('Tunnel IP');
    await shot('01-first-page');
  }, SLOW);

  it('searches by name, by tunnel address and by an address inside a LAN', async () => {
    await search('LYON');
    await until(rows, ['store-lyon']);
    expect(page.url()).toContain('q=LYON');
    expect(await summary()).toBe('Showing 1 of 1 peer matching “LYON” (60 in this WAN)');
    await shot('02-search-name');

    // An address no other one starts with (the last octet is above 25: no .260 follows).
    const [lone] = Object.entries(tunnelIp).filter(([, ip]) => Number(ip.split('.')[3]) > 25);
    await search(lone![1]);
    await until(rows, [lone![0]]);
    await shot('03-search-tunnel-ip');

    await search('192.168.77.20');
    await until(rows, ['site-7']);
    await shot('04-search-lan-address');

    await search('nothing-here');
    await page.getByText('No peer matches “nothing-here”.').waitFor();
    await shot('05-no-match');
    await page.locator('.empty').getByRole('button', { name: 'Clear filters' }).click();
    await until(summary, 'Showing 25 of 60 peers');
    expect(await page.getByLabel('Search peers').inputValue()).toBe('');
    expect(new URL(page.url()).search).toBe('');
  }, SLOW);

  it('filters by role, stale and disabled', async () => {
    await filters().getByLabel('Role').selectOption('HUB');
    await until(rows, ['hub-paris', 'hub-berlin']);
    expect(page.url()).toContain('role=hub');
    await shot('06-filter-hubs');
    await filters().getByLabel('Role').selectOption('');

    await page.getByLabel('Stale only').check();
    await until(rows, ['site-20']);
    await shot('07-filter-stale');
    await page.getByLabel('Stale only').uncheck();

    await page.getByLabel('Disabled only').check();
    await until(rows, ['phone-3', 'phone-9', 'phone-15']);
    expect(await summary()).toBe('Showing 3 of 3 peers matching disabled (60 in this WAN)');
    await shot('08-filter-disabled');
    // Three at once: disabled clients named phone-1….
    await filters().getByLabel('Role').selectOption('CLIENT');
    await search('phone-1');
    await until(rows, ['phone-15']);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await until(summary, 'Showing 25 of 60 peers');
  }, SLOW);

  it('sorts by name descending and by tunnel address, pages on, and keeps it all over a reload', async () => {
    const expected = async (field: string, direction: string) =>
      (await gql<{ wan: { peers: { edges: Array<{ node: { name: string } }> } } }>(page, base, ORDERED, { id: wanId, orderBy: { field, direction }, first: 50 })).wan.peers.edges.map((edge) => edge.node.name);
    const header = (name: string) => page.locator('table[aria-label="Peers"] thead th').filter({ has: page.getByRole('button', { name }) });

    await header('Name').getByRole('button').click();
    await until(async () => header('Name').getAttribute('aria-sort'), 'ascending');
    await header('Name').getByRole('button').click();
    await until(async () => header('Name').getAttribute('aria-sort'), 'descending');
    const byNameDesc = await expected('NAME', 'DESC');
    await until(rows, byNameDesc.slice(0, 25));
    // Natural order: site-9 after site-10 going down.
    expect(byNameDesc.indexOf('site-10')).toBeLessThan(byNameDesc.indexOf('site-9'));
    expect(page.url()).toMatch(/sort=name&dir=desc/);
    await shot('09-sort-name-desc');

    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await until(rows, byNameDesc.slice(25, 50));
    expect(page.url()).toContain('after=');
    expect(await summary()).toBe('Showing 25 of 60 peers');
    await shot('10-next-page');

    await page.reload();
    await heading(page, 'Retail');
    await until(rows, byNameDesc.slice(25, 50));
    expect(await header('Name').getAttribute('aria-sort')).toBe('descending');
    await page.getByRole('button', { name: 'Previous', exact: true }).click();
    await until(rows, byNameDesc.slice(0, 25));

    await header('Tunnel IP').getByRole('button').click();
    await until(async () => header('Tunnel IP').getAttribute('aria-sort'), 'ascending');
    const byAddress = await expected('TUNNEL_IP', 'ASC');
    await until(rows, byAddress.slice(0, 25));
    expect(byAddress.map((name) => numeric(tunnelIp[name]!))).toEqual([...byAddress.map((name) => numeric(tunnelIp[name]!))].sort((a, b) => a - b));
    await shot('11-sort-tunnel-ip');

    // Back returns to the descending order by name.
    await page.goBack();
    await until(async () => header('Name').getAttribute('aria-sort'), 'descending');
  }, SLOW);

  it('fits the search and filters on a 390 px screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // The first page as it is (wide rows included: the table's card scrolls, not the page).
    await until(summary, 'Showing 25 of 60 peers');
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await search('site-1');
    await until(async () => (await rows()).length, 11);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shot('12-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(dashboard.browser.pageErrors).toEqual([]);
  }, SLOW);
});
