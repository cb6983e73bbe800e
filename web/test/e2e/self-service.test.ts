// Self-service in Chromium: an admin opens a WAN for self-service (2 devices per user) on its
// settings and creates an account with the Self-service role on the users page; that user signs
// in and lands on My devices (the only page in their navigation), adds two devices (the usage
// line counting), is refused a third in words, downloads a .conf, opens the QR code, deletes a
// device; every other page of the app (each route found on disk, by address or by a link
// followed inside the app) sends them back to My devices without an error page, and the browser
// asks the API nothing but My devices' own queries meanwhile. The admin finds the self-service devices with the peer table's filter and sees
// whose each is. The page fits a 390 px phone.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { addPeer, createWan, gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const endUser = { name: 'Ada Lovelace', email: 'ada@example.test', password: 'analytical engine 1843' };

describe.skipIf(!chromiumAvailable('self-service e2e'))('self-service portal', () => {
  let dashboard: Dashboard;
  let wanPath = '';
  const shot = (name: string) => dashboard.browser.shot(`self-service-${name}`);

  beforeAll(async () => {
    dashboard = await startDashboard();
  }, 60_000);
  afterAll(async () => {
    await dashboard?.stop();
  });

  it('an admin opens a WAN for self-service with 2 devices per user and creates a self-service account', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    await createWan(page, 'staff-vpn');
    wanPath = new URL(page.url()).pathname;
    await page.reload();
    await heading(page, 'staff-vpn');
    await addPeer(page, 'gateway', 'HUB', 'vpn.example.test');

    await page.getByRole('heading', { name: 'Settings' }).click();
    await page.getByLabel('Open for self-service').check();
    // A limit out of range is refused beside its field.
    await page.getByLabel('Devices per user').fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('must be a whole number from 1 to 50').waitFor();
    await page.getByLabel('Devices per user').fill('2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await shot('01-wan-open');
    const { wan } = await gql<{ wan: { selfService: boolean; selfServicePeerLimit: number } }>(page, base, `query ($id: ID!) { wan(id: $id) { selfService selfServicePeerLimit } }`, { id: wanPath.split('/').at(-1) });
    expect(wan).toEqual({ selfService: true, selfServicePeerLimit: 2 });

    await page.goto(`${base}/users`);
    await heading(page, 'Users');
    const form = page.locator('form[aria-labelledby="create-user-heading"]');
    await form.getByLabel('Full name').fill(endUser.name);
    await form.getByLabel('Email address').fill(endUser.email);
    await form.getByLabel('First password').fill(endUser.password);
    await form.getByLabel('Account role').selectOption('SELF_SERVICE');
    await form.getByText('End user: adds and removes only their own devices').waitFor();
    await shot('02-create-self-service-user');
    await form.getByRole('button', { name: 'Create account' }).click();
    await form.getByRole('status').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
  }, 90_000);

  it('the user lands on My devices, adds two devices, is refused a third, downloads a config, opens the QR code and deletes one', async () => {
    const { page, base } = dashboard;
    await page.getByLabel('Email').fill(endUser.email);
    await page.getByLabel('Password').fill(endUser.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/my`);
    await heading(page, 'My devices');
    // Their navigation: My devices, nothing else.
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['My devices']);
    await page.getByText('No devices yet.').waitFor();
    const form = page.locator('form[aria-labelledby="add-device"]');
    await form.getByText('0 of 2 devices used in staff-vpn').waitFor();

    for (const [name, used] of [['laptop', 1], ['phone', 2]] as const) {
      await form.getByLabel('Device name').fill(name);
      await form.getByRole('button', { name: 'Add device' }).click();
      await page.locator(`li[data-device="ada-${name}"]`).waitFor();
      await form.getByText(`${used} of 2 devices used in staff-vpn`).waitFor();
    }
    await page.locator('li[data-device="ada-laptop"] [data-status="NEVER_DELIVERED"]').waitFor();
    // At the limit the form says so, and the server refuses one anyway.
    await form.getByText('You have used all 2 devices allowed in staff-vpn. Delete one below to add another.').waitFor();
    expect(await form.getByRole('button', { name: 'Add device' }).isDisabled()).toBe(true);
    const refused = await page.request.post(`${base}/graphql`, {
      data: { query: `mutation ($input: CreateMyPeerInput!) { createMyPeer(input: $input) { id } }`, variables: { input: { wanId: wanPath.split('/').at(-1), name: 'tablet' } } },
      headers: { 'content-type': 'application/json' },
    });
    const body = (await refused.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors.map((error) => `${error.extensions.code}: ${error.message}`)).toEqual(['LIMIT_REACHED: You have 2 of 2 devices allowed in this WAN: delete one to add another']);
    await shot('03-two-devices');

    const laptop = page.locator('li[data-device="ada-laptop"]');
    const [download] = await Promise.all([page.waitForEvent('download'), laptop.getByRole('button', { name: 'Download .conf' }).click()]);
    expect(download.suggestedFilename()).toBe('wg0.conf');
    const conf = fs.readFileSync((await download.path())!, 'utf8');
    expect(conf).toMatch(/^PrivateKey = [A-Za-z0-9+/]{43}=$/m);
    expect(conf).toContain('Endpoint = vpn.example.test:51820');
    await laptop.locator('[data-status="CURRENT"]').waitFor();

    await page.locator('li[data-device="ada-phone"]').getByRole('button', { name: 'Show QR code' }).click();
    const dialog = page.getByRole('dialog', { name: 'QR code: ada-phone' });
    await dialog.getByRole('img', { name: /QR code of ada-phone/ }).waitFor();
    await shot('04-qr');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.locator('li[data-device="ada-phone"] [data-status="CURRENT"]').waitFor();

    await laptop.getByRole('button', { name: 'Delete' }).click();
    await laptop.getByRole('button', { name: 'Delete' }).last().click();
    await page.getByRole('status').filter({ hasText: 'ada-laptop was deleted' }).waitFor();
    await page.locator('li[data-device="ada-laptop"]').waitFor({ state: 'detached' });
    await form.getByText('1 of 2 devices used in staff-vpn').waitFor();
    expect(dashboard.browser.pageErrors).toEqual([]);
  }, 90_000);

  it('every other page (each route the app has, found on disk) sends a self-service user back to My devices before it asks the API anything, also when reached by a link', async () => {
    const { page, base } = dashboard;
    // Every page of the signed-in app, so a page added later is covered without editing this list.
    const appRoutes = fileURLToPath(new URL('../../src/routes/(app)', import.meta.url));
    const pages = (fs.readdirSync(appRoutes, { recursive: true }) as string[])
      .filter((file) => path.basename(file) === '+page.svelte')
      .map((file) => `/${path.dirname(file)}`.replace(/\/\.$/, '/').replace(/\[id\]/g, () => wanPath.split('/').at(-1)!))
      .filter((route) => route !== '/my');
    expect(pages).toEqual(expect.arrayContaining(['/', '/devices', '/users', '/audit', '/webhooks', '/alerts', '/notifications', '/tokens', '/jobs', '/wans/import']));
    // Every operation the browser sends meanwhile: only what My devices itself asks. After a link
    // the pages' own loads run in the browser, so one that ran before the layout's redirect would
    // show here (asking for WANs, devices... and being refused); on a full page load they run on
    // the server, where a refusal would end on the error page instead of My devices.
    const asked: string[] = [];
    const watch = (request: Request) => {
      if (!request.url().includes('/graphql') || request.method() !== 'POST') return;
      const { query } = JSON.parse(request.postData() ?? '{}') as { query?: string };
      for (const definition of parse(query ?? '{ unreadable }').definitions) {
        if (definition.kind === 'OperationDefinition') asked.push(...definition.selectionSet.selections.map((field) => (field.kind === 'Field' ? field.name.value : field.kind)));
      }
    };
    page.on('request', watch);
    try {
      for (const route of [...pages, `${wanPath}?tab=settings`, '/peers/anything']) {
        await page.goto(`${base}${route}`);
        await page.waitForURL(`${base}/my`);
        await heading(page, 'My devices');
      }
      // A link followed inside the app (client-side navigation: the layout's server load runs through __data.json).
      for (const route of ['/devices', wanPath, '/users']) {
        await page.evaluate((href) => {
          const link = Object.assign(document.createElement('a'), { href, textContent: 'elsewhere', id: 'probe-link' });
          document.body.append(link);
        }, route);
        // The target's server data is asked for: the click did navigate, and the answer sends them back.
        const loaded = page.waitForResponse((response) => response.url().startsWith(`${base}${route}/__data.json`));
        await page.locator('#probe-link').click();
        expect((await loaded).ok()).toBe(true);
        await page.waitForURL(`${base}/my`);
        await heading(page, 'My devices');
        await page.evaluate(() => document.getElementById('probe-link')?.remove());
      }
    } finally {
      page.off('request', watch);
    }
    expect([...new Set(asked)].filter((root) => !['me', 'viewer', 'myPeers', 'selfServiceWans', '__typename'].includes(root))).toEqual([]);
    expect(dashboard.browser.pageErrors).toEqual([]);
    await shot('05-redirected');
  }, 90_000);

  it('an admin finds the self-service devices with the peer filter and sees whose each is', async () => {
    const { page, base } = dashboard;
    await page.goto(`${base}/my`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.getByLabel('Email').fill('grace@example.test');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}${wanPath}`);
    await heading(page, 'staff-vpn');
    await page.getByLabel('Self-service only').check();
    await page.waitForURL(/self=1/);
    // The URL changes first; the filtered rows follow once the page has read them again.
    await page.locator('tr[data-peer="gateway"]').waitFor({ state: 'detached' });
    await page.locator('tr[data-peer="ada-phone"]').waitFor();
    await page.locator('tr[data-peer="ada-phone"] th a').click();
    await page.locator('[data-owner="ada@example.test"]').getByText('Self-service device of Ada Lovelace').waitFor();
    await shot('06-admin-sees-owner');
  }, 60_000);

  it('fits a 390 px phone', async () => {
    const { page, base } = dashboard;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.getByLabel('Email').fill(endUser.email);
    await page.getByLabel('Password').fill(endUser.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/my`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/my`);
    await heading(page, 'My devices');
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shot('07-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);
});
