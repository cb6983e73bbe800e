// Peer lifecycle in Chromium: a peer added from the form with LANs and an expiry (a bad LAN
// refuses the whole peer, said beside the field); the row's Enabled switch takes a peer out of
// the others' configurations (their pages turn stale, its own download says it is disabled)
// and back; an expiry that passes disables the peer live on the open WAN page; the row's QR
// button opens a modal with a large code that closes on Escape, on client-side navigation and on
// the back button, leaving no code in the page, and each opening is one audit entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const DOWNLOAD = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content } }`;
const PEER = `query ($id: ID!) { peer(id: $id) { enabled expiresAt configStatus subnets { cidr } } }`;

describe.skipIf(!chromiumAvailable('peer lifecycle e2e'))('peer lifecycle', () => {
  let dashboard: Dashboard;
  let wanPath = '';
  const ids: Record<string, string> = {};
  const shot = (name: string) => dashboard.browser.shot(`lifecycle-${name}`);
  const row = (name: string) => dashboard.page.locator(`tr[data-peer="${name}"]`);

  beforeAll(async () => {
    // A short sweep, so an expiry a few seconds ahead passes while the page is open.
    dashboard = await startDashboard({ expirySweepMs: 300, monitor: false });
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
  });

  it('adds a peer with LANs and an expiry from the form; a bad LAN refuses the whole peer beside its field', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    await createWan(page, 'lifecycle');
    wanPath = new URL(page.url()).pathname;
    ids.office = (await addPeer(page, 'office', 'SITE', '198.51.100.2')).split('/').at(-1)!;
    ids.laptop = (await addPeer(page, 'laptop', 'CLIENT')).split('/').at(-1)!;

    const form = page.locator('form[aria-labelledby="add-peer"]');
    // A LAN that is no CIDR: nothing is created, the error stands beside the LANs field.
    await form.getByLabel('Peer name').fill('broken');
    await form.getByLabel('LANs it hosts').fill('192.168.30.0/24, 192.168.300.0/24');
    await form.getByRole('button', { name: 'Add peer' }).click();
    const lanError = form.locator('.field', { has: page.getByLabel('LANs it hosts') }).getByRole('alert');
    await expect.poll(() => lanError.textContent()).toMatch(/192\.168\.300\.0\/24/);
    await shot('01-bad-lan');
    expect(await row('broken').count()).toBe(0);

    const expires = new Date(Date.now() + 3 * 3600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    await form.getByLabel('Peer name').fill('branch');
    await form.getByLabel('Role').selectOption('SITE');
    await form.getByLabel('Endpoint host').fill('198.51.100.3');
    await form.getByLabel('LANs it hosts').fill('192.168.30.0/24, 10.30.0.0/16');
    await form.getByLabel('Expires').fill(`${expires.getFullYear()}-${pad(expires.getMonth() + 1)}-${pad(expires.getDate())}T${pad(expires.getHours())}:${pad(expires.getMinutes())}`);
    expect(await form.getByRole('checkbox', { name: /^Enabled \(off/ }).isChecked()).toBe(true);
    await form.getByRole('button', { name: 'Add peer' }).click();
    await page.getByRole('status').filter({ hasText: 'Added branch' }).waitFor();
    await row('branch').waitFor();
    ids.branch = (await row('branch').locator('th a').getAttribute('href'))!.split('/').at(-1)!;
    expect(await row('branch').locator('[data-expiry]').textContent()).toBe(`expires ${expires.getDate()} ${expires.toLocaleString('en', { month: 'short' })} ${pad(expires.getHours())}:${pad(expires.getMinutes())}`);
    const { peer } = await gql<{ peer: { enabled: boolean; expiresAt: string; subnets: Array<{ cidr: string }> } }>(page, base, PEER, { id: ids.branch });
    expect(peer.subnets.map((subnet) => subnet.cidr)).toEqual(['10.30.0.0/16', '192.168.30.0/24']);
    expect(peer.enabled).toBe(true);
    expect(Math.abs(new Date(peer.expiresAt).getTime() - expires.getTime())).toBeLessThan(60_000);
    await shot('02-added-with-lans-and-expiry');
  }, 60_000);

  it('the row switch disables a peer: the others turn stale, its own download says disabled; switching it on again restores it', async () => {
    const { page, base } = dashboard;
    // Manual peers: downloaded, they are current.
    for (const name of ['office', 'laptop', 'branch']) await gql(page, base, DOWNLOAD, { peerId: ids[name] });
    await page.reload();
    await heading(page, 'lifecycle');
    const toggle = page.getByRole('switch', { name: 'Enabled branch' });
    expect(await toggle.getAttribute('aria-checked')).toBe('true');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await row('branch').locator('[data-badge="disabled"]').waitFor();
    expect(await row('branch').locator('[data-live]').getAttribute('data-live')).toBe('disabled');
    await shot('03-disabled-in-row');

    const own = (await gql<{ downloadPeerConfig: { content: string } }>(page, base, DOWNLOAD, { peerId: ids.branch })).downloadPeerConfig.content;
    expect(own.split('\n')[0]).toMatch(/^# Disabled in Meshplane/);
    expect(own).not.toContain('[Peer]');
    for (const name of ['office', 'laptop']) expect((await gql<{ peer: { configStatus: string } }>(page, base, PEER, { id: ids[name] })).peer.configStatus).toBe('STALE');

    await page.goto(`${base}/peers/${ids.office}`);
    await heading(page, 'office');
    await page.locator('[data-banner="stale"]').waitFor();
    await shot('04-other-peer-stale');
    await page.goto(`${base}/peers/${ids.branch}`);
    await heading(page, 'branch');
    await page.locator('[data-banner="disabled"]').waitFor();
    expect(await page.locator('[data-binding]').textContent()).toMatch(/Manual: download the config/);
    await shot('05-disabled-peer-page');

    await page.goto(`${base}${wanPath}`);
    await heading(page, 'lifecycle');
    await page.getByRole('switch', { name: 'Enabled branch' }).click();
    await expect.poll(() => page.getByRole('switch', { name: 'Enabled branch' }).getAttribute('aria-checked')).toBe('true');
    await expect.poll(() => row('branch').locator('[data-badge="disabled"]').count()).toBe(0);
    expect((await gql<{ downloadPeerConfig: { content: string } }>(page, base, DOWNLOAD, { peerId: ids.office })).downloadPeerConfig.content).toContain('198.51.100.3');
  }, 60_000);

  it('an expiry that passes disables the peer live on the open WAN page, without a reload', async () => {
    const { page, base } = dashboard;
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    await gql(page, base, `mutation ($id: ID!, $at: DateTime) { updatePeer(id: $id, input: { expiresAt: $at }) { peer { id } } }`, { id: ids.laptop, at: new Date(Date.now() + 3000).toISOString() });
    await row('laptop').locator('[data-expiry]').waitFor();
    await row('laptop').locator('[data-badge="disabled"]').waitFor({ timeout: 20_000 });
    expect(await row('laptop').locator('[data-expiry]').textContent()).toBe('expired');
    expect(await page.getByRole('switch', { name: 'Enabled laptop' }).getAttribute('aria-checked')).toBe('false');
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    await shot('06-expired-live');
    const { auditLog } = await gql<{ auditLog: { edges: Array<{ node: { action: string; actorLabel: string } }> } }>(page, base,
      `query ($id: ID!) { auditLog(first: 20, filter: { action: "peer.expire", targetId: $id }) { edges { node { action actorLabel } } } }`, { id: ids.laptop });
    expect(auditLog.edges.map((edge) => edge.node)).toEqual([{ action: 'peer.expire', actorLabel: 'meshplane (expiry)' }]);
  }, 60_000);

  it('the row QR button opens a large code in a dialog that closes on Escape and on navigation, one audit entry per opening', async () => {
    const { page, base } = dashboard;
    const dialog = page.getByRole('dialog', { name: 'QR code: office' });
    const code = page.locator('dialog img[alt^="QR code of office"]');
    const open = async () => {
      await page.getByRole('button', { name: 'QR code of office' }).click();
      await code.waitFor();
      const box = await code.boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(300);
    };

    await open();
    expect(await dialog.isVisible()).toBe(true);
    await shot('07-qr-dialog');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('dialog').count()).toBe(0);

    // Client-side navigation (a link of the app, followed by the router).
    await open();
    await page.evaluate(() => (document.querySelector('nav.crumbs a[href="/"], a[href="/"]') as HTMLAnchorElement).click());
    await page.waitForURL(`${base}/`);
    expect(await page.locator('dialog').count()).toBe(0);
    expect(await page.locator('img[alt^="QR code"]').count()).toBe(0);

    // The back button.
    await page.goBack();
    await heading(page, 'lifecycle');
    await open();
    await page.goBack();
    await page.waitForURL((url) => url.pathname !== wanPath);
    expect(await page.locator('dialog').count()).toBe(0);
    expect(await page.locator('img[alt^="QR code"]').count()).toBe(0);

    const { auditLog } = await gql<{ auditLog: { edges: Array<{ node: { action: string } }> } }>(page, base,
      `query ($id: ID!) { auditLog(first: 50, filter: { action: "peer.qr.view", targetId: $id }) { edges { node { action } } } }`, { id: ids.office });
    expect(auditLog.edges).toHaveLength(3);

    // A phone: the dialog fits 390 px.
    await page.goForward();
    await heading(page, 'lifecycle');
    await page.setViewportSize({ width: 390, height: 844 });
    await open();
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shot('08-qr-dialog-phone');
    await page.keyboard.press('Escape');
    // The expired laptop's page on the phone: the banner, the binding and the settings fit.
    await page.goto(`${base}/peers/${ids.laptop}`);
    await heading(page, 'laptop');
    await page.locator('[data-banner="disabled"]').getByText('Disabled (expired).').waitFor();
    await page.locator('[data-binding]').getByRole('link', { name: 'Change' }).click();
    await page.getByLabel('Expires').waitFor();
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shot('09-expired-peer-page-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(dashboard.browser.pageErrors).toEqual([]);
  }, 60_000);
});
