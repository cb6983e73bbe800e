// The audit log, the phone and the copy in Chromium: changes made in the UI (a peer edited, a
// .conf downloaded, a peer deleted) read in the audit log as sentences naming their target with
// the fields that changed; the `peer` family filter stays in the URL; at 390 px the audit, WAN and
// peer pages do not scroll sideways, every main navigation link is on screen, and the topology
// pans, zooms (buttons, keyboard, drag) and switches to a list; counts read "1 peer" / "2 peers";
// switching a WAN's topology asks first, and Cancel keeps it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const WAN_TOPOLOGY = `query ($id: ID!) { wan(id: $id) { topology } }`;

describe.skipIf(!chromiumAvailable('audit and phone e2e'))('audit log, phone and copy', () => {
  let dashboard: Dashboard;
  let wanPath = '';
  let officePath = '';
  const shot = (name: string) => dashboard.browser.shot(`audit-phone-${name}`);
  const entry = (action: string) => dashboard.page.locator(`li.entry[data-action="${action}"]`);

  beforeAll(async () => {
    dashboard = await startDashboard({ monitor: false });
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
  });

  it('shows what was done in the UI as sentences naming the target, with the fields that changed', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    await createWan(page, 'Branches');
    wanPath = new URL(page.url()).pathname;
    await addPeer(page, 'hub', 'HUB', 'hub.example.net');
    officePath = await addPeer(page, 'office', 'SITE', '198.51.100.2');
    const laptopPath = await addPeer(page, 'laptop', 'CLIENT');

    // The laptop's private key leaves as a .conf, then the laptop is deleted.
    await page.goto(`${base}${laptopPath}`);
    await heading(page, 'laptop');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download .conf' }).click();
    await download;
    const openSettings = async () => {
      const settings = page.locator('details#settings');
      if ((await settings.getAttribute('open')) === null) await settings.locator('summary').click();
      return settings;
    };
    await (await openSettings()).getByRole('button', { name: 'Delete peer' }).click();
    await page.getByRole('group', { name: 'Delete laptop?' }).getByRole('button', { name: 'Delete peer' }).click();
    await page.waitForURL(`${base}${wanPath}`);

    // The office gets its own listen port and a new endpoint.
    await page.goto(`${base}${officePath}`);
    await heading(page, 'office');
    const settings = await openSettings();
    await settings.getByRole('textbox', { name: 'Listen port' }).fill('51821');
    await settings.getByRole('textbox', { name: 'Endpoint host' }).fill('vpn.example.net');
    await settings.getByRole('button', { name: 'Save peer' }).click();
    await page.getByRole('status').filter({ hasText: /Saved/ }).first().waitFor();
    // The page reloads the peer after the save; the notice stays once the new endpoint shows.
    await page.locator('section.heading code').filter({ hasText: 'vpn.example.net' }).waitFor();
    await expect(page.getByRole('status').filter({ hasText: /Saved/ }).count()).resolves.toBe(1);

    await page.goto(`${base}/audit`);
    await heading(page, 'Audit log');
    await expect(entry('peer.downloadConfig').first().locator('.what').textContent()).resolves.toMatch(/grace@example\.test\s+downloaded the private key of\s+laptop\s*\(\.conf\)/);
    await expect(entry('peer.delete').first().locator('.what').textContent()).resolves.toMatch(/grace@example\.test\s+deleted peer\s+laptop/);
    // A deleted peer is named, not linked (its page is gone); a peer that is still there is linked.
    await expect(entry('peer.delete').first().locator('a.target').count()).resolves.toBe(0);
    await expect(entry('peer.create').filter({ hasText: 'added peer office' }).locator('a.target').getAttribute('href')).resolves.toMatch(/^\/peers\//);
    const update = entry('peer.update').first();
    await expect(update.locator('.what').textContent()).resolves.toMatch(/changed peer\s+office/);
    const changes = await update.locator('.changes li').allTextContents();
    expect(changes).toEqual(expect.arrayContaining(['listen port WAN default → 51821', 'endpoint 198.51.100.2 → vpn.example.net']));
    // No secret reaches the page, nor the raw details.
    expect(await page.locator('section[aria-label="Audit entries"]').textContent()).not.toMatch(/PrivateKey|[A-Za-z0-9+/]{43}=/);
    await shot('01-audit-names-changes');
  });

  it('filters by the peer family, kept in the URL', async () => {
    const { page, base } = dashboard;
    await page.goto(`${base}/audit`);
    await heading(page, 'Audit log');
    await page.getByLabel('Action').fill('peer');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/[?&]action=peer(&|$)/);
    await entry('peer.update').first().waitFor();
    const actions = await page.locator('li.entry').evaluateAll((items) => items.map((item) => item.getAttribute('data-action')));
    expect(actions.length).toBeGreaterThanOrEqual(5);
    expect(actions.every((action) => action === 'peer' || action!.startsWith('peer.'))).toBe(true);
    expect(actions).not.toContain('wan.create');
    // Opened from the address alone (a bookmark), the filter is the same.
    await page.goto(`${base}/audit?action=peer`);
    await expect(page.getByLabel('Action').inputValue()).resolves.toBe('peer');
    await expect(page.locator('li.entry[data-action="wan.create"]').count()).resolves.toBe(0);
    await shot('02-audit-peer-filter');
  });

  it('at 390 px: no sideways scrolling on the audit, WAN and peer pages, the navigation on screen, the topology pans, zooms and lists', async () => {
    const { page, base } = dashboard;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, title] of [['/audit', 'Audit log'], [wanPath, 'Branches'], [officePath, 'office'], ['/', 'WANs'], ['/devices', 'Devices'], ['/jobs', 'Jobs'], ['/users', 'Users'], ['/tokens', 'API tokens']] as const) {
        await page.goto(`${base}${path}`);
        await heading(page, title);
        expect(await sidewaysOverflow(page), `${path} scrolls sideways`).toBe(0);
        // Every main navigation link is inside the screen, none cut off or scrolled away.
        const boxes = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').evaluateAll((links) => links.map((link) => {
          const box = link.getBoundingClientRect();
          return { text: link.textContent, left: box.left, right: box.right, width: box.width };
        }));
        expect(boxes.map((box) => box.text)).toEqual(['WANs', 'Devices', 'Jobs', 'Alerts', 'Users', 'Webhooks', 'Audit', 'API tokens']);
        for (const box of boxes) expect(box.left >= 0 && box.right <= 390 && box.width > 0, `${box.text} on ${path}`).toBe(true);
      }
      await page.goto(`${base}/audit`);
      await heading(page, 'Audit log');
      await shot('03-audit-390');
      // Each entry a card no wider than the screen.
      const widths = await page.locator('li.entry').evaluateAll((items) => items.map((item) => item.getBoundingClientRect().right));
      expect(Math.max(...widths)).toBeLessThanOrEqual(390);

      await page.goto(`${base}${wanPath}`);
      await heading(page, 'Branches');
      const svg = page.locator('figure svg[aria-labelledby="topology-caption"]');
      const viewBox = () => svg.getAttribute('viewBox');
      const fitted = await viewBox();
      await page.getByRole('button', { name: 'Zoom in' }).click();
      const zoomed = await viewBox();
      expect(zoomed).not.toBe(fitted);
      const width = (box: string | null) => Number(box!.split(' ')[2]);
      expect(width(zoomed)).toBeLessThan(width(fitted));
      // Drag to pan: the same zoom, another place.
      const area = (await svg.boundingBox())!;
      await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
      await page.mouse.down();
      await page.mouse.move(area.x + area.width / 2 - 80, area.y + area.height / 2 - 40, { steps: 5 });
      await page.mouse.up();
      const panned = await viewBox();
      expect(panned).not.toBe(zoomed);
      expect(width(panned)).toBeCloseTo(width(zoomed), 3);
      await shot('04-topology-390-zoomed');
      // The keyboard does the same: Fit, then + zooms in again.
      await page.getByRole('button', { name: 'Fit' }).click();
      await expect(viewBox()).resolves.toBe(fitted);
      await svg.focus();
      await page.keyboard.press('+');
      expect(width(await viewBox())).toBeLessThan(width(fitted));
      await page.keyboard.press('0');
      await expect(viewBox()).resolves.toBe(fitted);
      // The list view: every peer with its tunnels, as text.
      await page.getByRole('button', { name: 'List' }).click();
      const list = page.getByRole('list', { name: 'Peers and their tunnels' });
      await expect(list.locator('[data-list-peer]').evaluateAll((items) => items.map((item) => item.getAttribute('data-list-peer')))).resolves.toEqual(['hub', 'office']);
      await expect(list.locator('[data-list-peer="office"]').textContent()).resolves.toMatch(/to hub: (up|down|unknown)/);
      expect(await sidewaysOverflow(page)).toBe(0);
      await shot('05-topology-390-list');
      await page.getByRole('button', { name: 'Graph' }).click();

      await page.goto(`${base}${officePath}`);
      await heading(page, 'office');
      await shot('06-peer-390');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('counts in the right number: "2 peers" here, "1 peer" in a WAN of one', async () => {
    const { page, base } = dashboard;
    await page.goto(`${base}${wanPath}`);
    await heading(page, 'Branches');
    await expect(page.locator('#topology-caption').textContent()).resolves.toMatch(/^Topology: 2 peers, 1 tunnel:/);
    await page.goto(`${base}/`);
    await heading(page, 'WANs');
    await createWan(page, 'Solo');
    await addPeer(page, 'alone', 'SITE', '198.51.100.9');
    await expect.poll(() => page.locator('#topology-caption').textContent()).toMatch(/^Topology: 1 peer, 0 tunnels:/);
    await shot('07-one-peer');
  });

  it('asks before switching a WAN\'s topology; Cancel keeps it, confirming switches', async () => {
    const { page, base } = dashboard;
    await page.goto(`${base}${wanPath}`);
    await heading(page, 'Branches');
    const wanId = wanPath.split('/').at(-1)!;
    const settings = page.locator('details', { has: page.getByRole('heading', { name: 'Settings', exact: true }) });
    if ((await settings.getAttribute('open')) === null) await settings.locator('summary').click();
    const topology = settings.getByLabel('Topology');
    await expect(topology.inputValue()).resolves.toBe('MESH');
    await topology.selectOption('HUB_SPOKE');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    const dialog = settings.getByRole('alertdialog');
    await expect(dialog.textContent()).resolves.toMatch(/Switch to hub and spoke\?[\s\S]*Every peer's configuration changes; no peer has a device/);
    await shot('08-topology-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog.count()).resolves.toBe(0);
    await expect(topology.inputValue()).resolves.toBe('MESH');
    expect((await gql<{ wan: { topology: string } }>(page, base, WAN_TOPOLOGY, { id: wanId })).wan.topology).toBe('MESH');

    await topology.selectOption('HUB_SPOKE');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await settings.getByRole('alertdialog').getByRole('button', { name: 'Switch to hub and spoke' }).click();
    await expect.poll(async () => (await gql<{ wan: { topology: string } }>(page, base, WAN_TOPOLOGY, { id: wanId })).wan.topology).toBe('HUB_SPOKE');
    expect(dashboard.browser.pageErrors).toEqual([]);
  });
});
