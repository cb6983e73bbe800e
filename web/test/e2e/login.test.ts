// The real Meshplane server (GraphQL + this web UI on one port, fresh data dir) driven by
// Debian's Chromium: first-run registration, the WAN list, creating a WAN (with an API
// validation error shown inline first), signing out and back in. Screenshots: web/test-results/e2e/.
import { type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../server/src/app.js';
import { createLogger } from '../../../server/src/infra/logger.js';
import { chromiumAvailable, openBrowser, type BrowserSession } from './browser.js';

const haveChromium = chromiumAvailable('the browser tests');
const admin = { name: 'Ada Admin', email: 'ada@example.test', password: 'correct horse battery' };

describe.skipIf(!haveChromium)('signing in and listing WANs in Chromium', () => {
  let browser: BrowserSession;
  let app: App;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string) => browser.shot(name);
  const heading = (name: string) => page.getByRole('heading', { name, exact: true }).waitFor();
  const createForm = () => page.locator('form', { has: page.locator('#create-wan') });

  beforeAll(async () => {
    browser = await openBrowser();
    ({ context, page } = browser);
    app = await buildApp({ dataDir: browser.tempDir('meshplane-e2e-data-'), port: 0, host: '127.0.0.1', logger: createLogger('warn') });
    ({ url: base } = await app.start());
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('sends a signed-out visitor to first-run registration, then to the empty WAN list', async () => {
    await page.goto(base);
    await page.waitForURL(`${base}/login`);
    await heading('Create the first account');
    await page.getByLabel('Name').fill(admin.name);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await shot('01-first-run-registration');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.waitForURL(`${base}/`);
    await heading('WANs');
    await expect(page.locator('header').textContent()).resolves.toContain(admin.name);
    await page.getByText('No WANs yet').waitFor();
    await shot('02-empty-wan-list');
  });

  it('shows the API’s validation error beside the field, then creates the WAN, live in another tab too', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Branch offices');
    await page.getByLabel('Tunnel range').fill('10.20.0.0/33');
    await page.getByRole('button', { name: 'Create WAN' }).click();
    // INVALID_CIDR names the field, so the message sits under "Tunnel range", which is marked invalid.
    const problem = createForm().getByRole('alert');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('"10.20.0.0/33" is not an IPv4 CIDR');
    await expect(page.getByLabel('Tunnel range').getAttribute('aria-invalid')).resolves.toBe('true');
    await shot('03-create-wan-invalid-range');

    // A second tab of the same session follows along over graphql-ws (the cookie authenticates the upgrade).
    const otherTab = await context.newPage();
    const sockets: string[] = [];
    otherTab.on('websocket', (socket) => sockets.push(socket.url()));
    await otherTab.goto(base);
    await otherTab.getByText('No WANs yet').waitFor();
    await otherTab.waitForLoadState('networkidle');

    await page.getByLabel('Tunnel range').fill('10.20.0.0/24');
    await page.getByLabel('Topology').selectOption('HUB_SPOKE');
    await page.getByRole('button', { name: 'Create WAN' }).click();
    const row = page.getByRole('row', { name: /Branch offices/ });
    await row.waitFor();
    await otherTab.getByRole('row', { name: /Branch offices/ }).waitFor();
    expect(sockets).toEqual([`${base.replace(/^http/, 'ws')}/graphql`]);
    await otherTab.close();
    expect(await row.locator('th, td').allTextContents()).toEqual(['Branch offices', '10.20.0.0/24', 'Hub and spoke', '0', '0']);
    await expect(createForm().getByRole('alert').count()).resolves.toBe(0);
    await shot('04-wan-created');

    await page.setViewportSize({ width: 390, height: 844 });
    await shot('05-wan-list-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out, refuses a wrong password, signs in again and renders the list on the server', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/login`);
    await heading('Sign in');
    await page.goto(base);
    await page.waitForURL(`${base}/login`);

    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await shot('06-sign-in-wrong-password');

    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
    await page.getByRole('row', { name: /Branch offices/ }).waitFor();

    // A full reload renders on the server: hooks.server.ts forwards the session cookie to /graphql.
    const response = await page.reload();
    expect(response?.status()).toBe(200);
    expect(await response?.text()).toContain('Branch offices');
    await shot('07-signed-in-again');
    expect(browser.pageErrors).toEqual([]);
  });
});
