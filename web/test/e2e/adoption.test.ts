// Adoption in Chromium. A RouterOS router (the simulator) carries a WireGuard interface set up
// by hand, with two live peers: the operator opens Discover on the device card, picks that
// interface, adopts it as a new WAN (every issue answered, the proposed defaults otherwise) and
// watches the ADOPT job finish; the router's items keep their ids and their sessions and now
// carry Meshplane's tag. Then two wg-quick files in wg-portal's shapes (the hub's and one
// site's) are imported into a second WAN, whose peers and unmodelled lines (PostUp, Table, DNS)
// the proposal lists. Last, the adopted device peer takes its LAN from the router's connected
// networks. The pages fit a 390 px phone.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP_ADDRESS, startRouterOsSimulator, WIREGUARD, WIREGUARD_PEERS, type RouterOsSimulator } from '../../../server/test/sim/routeros/index.js';
import { keyPairFromLabel } from '../../../server/test/sim/routeros/wireguard-keys.js';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'server', 'src', 'domain', 'adoption', '__fixtures__', 'wg-portal');
const OFFICE = keyPairFromLabel('e2e-office-interface');
const BRANCH_A = keyPairFromLabel('e2e-branch-a');
const BRANCH_B = keyPairFromLabel('e2e-branch-b');

describe.skipIf(!chromiumAvailable('adoption e2e'))('adopt a router, import files, LANs from the device', () => {
  let dashboard: Dashboard;
  let sim: RouterOsSimulator;
  const ids: Record<string, string> = {};
  let devicePeerPath = '';
  const shot = (name: string) => dashboard.browser.shot(`adoption-${name}`);
  const peerRow = (publicKey: string) => sim.model.rows(WIREGUARD_PEERS).find((row) => row['public-key'] === publicKey);

  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18' });
    // What a person typed into the router: an interface, its address, two peers with sessions.
    ids.iface = sim.model.seed(WIREGUARD, { name: 'wg-office', 'listen-port': '13231', 'private-key': OFFICE.privateKey, comment: 'office tunnels' });
    sim.model.seed(IP_ADDRESS, { address: '10.60.0.1/24', interface: 'wg-office' });
    ids.a = sim.model.seed(WIREGUARD_PEERS, {
      interface: 'wg-office', 'public-key': BRANCH_A.publicKey, 'allowed-address': '10.60.0.2/32,192.168.20.0/24',
      'endpoint-address': '203.0.113.20', 'endpoint-port': '13231', comment: 'branch-a',
    });
    ids.b = sim.model.seed(WIREGUARD_PEERS, { interface: 'wg-office', 'public-key': BRANCH_B.publicKey, 'allowed-address': '10.60.0.3/32', comment: 'branch-b' });
    sim.setHandshake(BRANCH_A.publicKey, 12, { rx: 5_000_000, tx: 7_000_000 });
    sim.setHandshake(BRANCH_B.publicKey, 30, { rx: 1_000, tx: 2_000 });
    dashboard = await startDashboard();
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
    await sim?.stop();
  });

  /** Answers every issue that waits for a choice with its first option, then adopts. */
  async function answerAndAdopt(label: RegExp) {
    const { page } = dashboard;
    const proposal = page.locator('[data-proposal]');
    await proposal.waitFor();
    const waiting = page.locator('[data-needs-choice="true"]');
    while ((await waiting.count()) > 0) await waiting.first().getByRole('radio').first().check();
    const adopt = page.getByRole('button', { name: label });
    await expect.poll(() => adopt.isEnabled()).toBe(true);
    await adopt.click();
  }

  it('discovers the router and adopts its hand-made interface in place: same ids, same sessions, tagged', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    await gql(page, base, `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'office-router', kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret: sim.password, tls: false, timeoutMs: 3000 },
    });
    const before = { a: peerRow(BRANCH_A.publicKey), b: peerRow(BRANCH_B.publicKey) };

    await page.goto(`${base}/devices`);
    await page.getByRole('link', { name: 'Discover what is on office-router' }).click();
    await heading(page, 'Discover office-router');
    const office = page.locator('[data-interface="wg-office"]');
    await expectShown(office, dashboard.browser.pageErrors);
    await expect.poll(() => office.textContent()).toContain('office tunnels');
    // The page never shows a private key; the interface says it can keep it.
    expect(await page.content()).not.toContain(OFFICE.privateKey);
    await office.getByRole('radio').check();
    await office.locator('summary').click();
    await expect.poll(() => office.locator('[data-discovered-peer]').count()).toBe(2);
    await page.getByLabel('New WAN name').fill('office');
    await page.getByRole('button', { name: 'Show the proposal' }).click();
    await page.locator('[data-proposed-peer]').first().waitFor();
    expect(await page.locator('[data-proposed-peer]').count()).toBe(3);
    // A peer's name can be changed before adopting.
    await page.locator(`[data-proposed-peer="${BRANCH_B.publicKey}"]`).getByLabel('Name').fill('branch-b-shop');
    await shot('proposal');
    expect(await page.content()).not.toContain(OFFICE.privateKey);
    await answerAndAdopt(/^Adopt office$/);

    await page.locator('[data-adopted="office"]').waitFor();
    await expect.poll(() => page.locator('[data-adopt-job]').getAttribute('data-adopt-job'), { timeout: 30_000 }).toBe('SUCCEEDED');
    // The page names what was taken over and what was left alone.
    const taken = (await page.locator('[data-adopt-items="adopted"]').textContent()) ?? '';
    expect(taken).toContain('wg-office');
    expect((await page.locator('[data-adopt-items="left-alone"]').textContent()) ?? '').toContain('wg-other');
    await shot('adopted');

    // On the router: the same items (ids), now tagged; the sessions went on.
    const after = { a: peerRow(BRANCH_A.publicKey), b: peerRow(BRANCH_B.publicKey) };
    expect(after.a?.['.id']).toBe(before.a?.['.id']);
    expect(after.b?.['.id']).toBe(before.b?.['.id']);
    expect(sim.model.rows(WIREGUARD_PEERS).filter((row) => row.interface === 'wg-office')).toHaveLength(2);
    expect(after.a?.comment).toMatch(/meshplane/i);
    // A peer removed and added again would have no handshake and zero counters.
    expect(after.a?.['last-handshake']).toBeTruthy();
    expect(after.b?.['last-handshake']).toBeTruthy();
    expect(BigInt(after.a?.rx ?? '0')).toBeGreaterThanOrEqual(BigInt(before.a?.rx ?? '0'));
    expect(sim.model.rows(WIREGUARD).find((row) => row.name === 'wg-office')?.['.id']).toBe(ids.iface);

    // The WAN has the three peers, the renamed one under its new name.
    await page.getByRole('link', { name: 'Open office' }).click();
    await heading(page, 'office');
    await page.locator('tr[data-peer="branch-b-shop"]').waitFor();
    await page.locator('tr[data-peer="branch-a"]').waitFor();
    const { wans } = await gql<{ wans: { edges: Array<{ node: { name: string; peers: { edges: Array<{ node: { id: string; device: { name: string } | null } }> } } }> } }>(page, base,
      `{ wans(first: 10) { edges { node { name peers(first: 10) { edges { node { id device { name } } } } } } } }`);
    const bound = wans.edges.find((edge) => edge.node.name === 'office')?.node.peers.edges.find((edge) => edge.node.device?.name === 'office-router');
    expect(bound).toBeDefined();
    devicePeerPath = `/peers/${bound!.node.id}`;
  }, 120_000);

  it('imports two wg-portal files into a new WAN: its peers, and the lines Meshplane does not model listed', async () => {
    const { page, base } = dashboard;
    await page.goto(base);
    await page.getByRole('link', { name: 'Import configs' }).click();
    await heading(page, 'Import configs');
    await page.getByLabel('Choose .conf files').setInputFiles([path.join(fixtures, 'wg0.conf'), path.join(fixtures, 'berlin.conf')]);
    await expect.poll(() => page.locator('[data-file]').count()).toBe(2);
    await page.getByLabel('New WAN name').fill('portal');
    await page.getByRole('button', { name: 'Show the proposal' }).click();
    await page.locator('[data-proposal]').waitFor();
    const text = (await page.locator('[data-proposal]').textContent()) ?? '';
    const names = await page.locator('[data-proposed-peer]').getByLabel('Name').evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
    expect(names).toEqual(['Office hub', 'Berlin office', 'Paris shop', 'Dana laptop']);
    for (const line of ['PostUp', 'Table', 'DNS']) expect(text).toContain(line);
    // Private and preshared keys from the files never reach the browser.
    const page1 = await page.content();
    for (const secret of secretsOf(['wg0.conf', 'berlin.conf'])) expect(page1).not.toContain(secret);
    await shot('import-proposal');
    await answerAndAdopt(/^Create portal$/);
    await page.locator('[data-adopted="portal"]').waitFor();
    expect(await page.locator('[data-adopt-job]').count()).toBe(0);
    await page.getByRole('link', { name: 'Open portal' }).click();
    await heading(page, 'portal');
    for (const name of ['Berlin office', 'Paris shop', 'Dana laptop']) await page.locator(`tr[data-peer="${name}"]`).waitFor();
  }, 90_000);

  it('offers the router\'s connected networks as the device peer\'s LANs and adds the chosen one', async () => {
    const { page, base } = dashboard;
    await page.goto(`${base}${devicePeerPath}`);
    await expectShown(page.getByRole('button', { name: 'Read the networks on office-router' }), dashboard.browser.pageErrors);
    await page.getByRole('button', { name: 'Read the networks on office-router' }).click();
    const lan = page.locator('[data-lan-suggestion="192.168.88.0/24"]');
    await lan.waitFor();
    await expect.poll(() => lan.getByRole('checkbox').isChecked()).toBe(true);
    // The uplink is offered, explained, never preselected.
    const uplink = page.locator('[data-lan-suggestion="198.51.100.0/24"]');
    expect(await uplink.getByRole('checkbox').isChecked()).toBe(false);
    expect((await uplink.textContent()) ?? '').toMatch(/uplink/i);
    // Only this one (the bridge's IPv6 ULA may be suggested too).
    for (const other of await page.locator('[data-lan-suggestion]').all()) {
      if ((await other.getAttribute('data-lan-suggestion')) !== '192.168.88.0/24') await other.getByRole('checkbox').uncheck();
    }
    await page.getByRole('button', { name: 'Add 1 LAN' }).click();
    await page.locator('tr[data-subnet="192.168.88.0/24"]').waitFor();
    await shot('lans');
  }, 60_000);

  it('fits a 390 px phone, with a proposal listing wrong lines under their file and line number', async () => {
    const { page, base } = dashboard;
    await page.setViewportSize({ width: 390, height: 844 });
    const device = (await gql<{ devices: { edges: Array<{ node: { id: string } }> } }>(page, base, `{ devices(first: 5) { edges { node { id } } } }`)).devices.edges[0]!.node.id;
    for (const target of [`/devices/${device}/discover`, '/wans/import', devicePeerPath]) {
      await page.goto(`${base}${target}`);
      await page.locator('h1').waitFor();
      if (target.endsWith('/discover')) await page.locator('[data-interface="wg-office"]').waitFor();
      expect(await sidewaysOverflow(page), target).toBeLessThanOrEqual(0);
    }
    // The longest view: a proposal with its peers, keys and two dozen listed lines.
    await page.goto(`${base}/wans/import`);
    // With a third file full of mistakes: each wrong line is listed under its file with its number.
    await page.getByLabel('Choose .conf files').setInputFiles([path.join(fixtures, 'wg0.conf'), path.join(fixtures, 'berlin.conf'), path.join(fixtures, '..', 'hand', 'broken.conf')]);
    await page.getByLabel('New WAN name').fill('portal-phone');
    await page.getByRole('button', { name: 'Show the proposal' }).click();
    await page.locator('[data-proposal]').waitFor();
    const wrong = (await page.locator('[data-file-problems="broken.conf"]').textContent()) ?? '';
    expect(wrong).toContain('broken.conf, line 3: PrivateKey is not a WireGuard key');
    expect(wrong).toContain('broken.conf, line 18: unknown section [Wat]');
    expect(await sidewaysOverflow(page), 'proposal').toBeLessThanOrEqual(0);
    await shot('phone-proposal');
    expect(dashboard.browser.pageErrors).toEqual([]);
  }, 60_000);
});

/** Waits for `target`; a refusal shown instead (role=alert) fails with its words rather than a timeout. */
async function expectShown(target: Locator, pageErrors: readonly string[]): Promise<void> {
  const alert = target.page().getByRole('alert');
  await target.or(alert).first().waitFor().catch(async (error: Error) => {
    throw new Error(`${error.message}\nthe page shows: ${(await target.page().locator('main').textContent())?.slice(0, 2000)}\npage errors: ${pageErrors.join('; ')}`);
  });
  if (!(await target.isVisible())) throw new Error(`the page says: ${await alert.first().textContent()}`);
}

/** Every private and preshared key written in the wg-portal fixtures. */
function secretsOf(names: string[]): string[] {
  const keys = new Set<string>();
  for (const name of names) {
    for (const line of fs.readFileSync(path.join(fixtures, name), 'utf8').split('\n')) {
      const match = /^(?:PrivateKey|PresharedKey)\s*=\s*(\S+)|^# -WGP- PrivateKey:\s*(\S+)/.exec(line);
      if (match) keys.add((match[1] ?? match[2])!);
    }
  }
  return [...keys];
}
