// Steps the browser journeys share: a real server on an ephemeral loopback port with a fresh data
// directory and Debian's Chromium, the first account, a WAN, a peer, and GraphQL calls made with
// the page's own session cookie (to set up what a journey is not about faster than by clicking).
import { type Page } from 'playwright-core';
import { buildApp, type App } from '../../../server/src/app.js';
import { createLogger } from '../../../server/src/infra/logger.js';
import { openBrowser, type BrowserSession } from './browser.js';

export type AppOptions = Omit<Parameters<typeof buildApp>[0], 'dataDir' | 'port' | 'host' | 'logger'>;

export interface Dashboard {
  browser: BrowserSession;
  page: Page;
  app: App;
  /** http://127.0.0.1:<port> */
  base: string;
  stop(): Promise<void>;
}

/** Chromium and a fresh Meshplane (extra buildApp options, e.g. a fast monitor, in `options`). */
export async function startDashboard(options: AppOptions = {}): Promise<Dashboard> {
  const browser = await openBrowser();
  const app = await buildApp({ dataDir: browser.tempDir('meshplane-e2e-data-'), port: 0, host: '127.0.0.1', logger: createLogger('warn'), ...options });
  const { url: base } = await app.start();
  return {
    browser, page: browser.page, app, base,
    stop: async () => {
      await browser.close();
      await app.stop();
    },
  };
}

export const firstAdmin = { name: 'Grace Admin', email: 'grace@example.test', password: 'correct horse battery' };

/**
 * Waits for the page's level-1 heading `name` and for the app to have hydrated: the heading is
 * server-rendered, and a click before hydration submits a form natively instead of through its
 * handler.
 */
export async function heading(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { name, exact: true, level: 1 }).waitFor();
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
}

/** Registers the first account (an admin) on a fresh server and lands on the WAN list. */
export async function registerFirstUser(page: Page, base: string, user = firstAdmin): Promise<void> {
  await page.goto(base);
  await page.waitForURL(`${base}/login`);
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${base}/`);
}

/** Creates a WAN on the WAN list open in `page` and opens it. */
export async function createWan(page: Page, name: string): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create WAN' }).click();
  await page.getByRole('row', { name: new RegExp(name) }).getByRole('link', { name }).click();
  await heading(page, name);
}

/** Adds a peer with the form on the WAN page open in `page`; returns the path of its page. */
export async function addPeer(page: Page, name: string, role: string, endpoint?: string, device?: string): Promise<string> {
  // In the form: the peer table's filters above it have a Role and a Device too.
  const form = page.locator('form[aria-labelledby="add-peer"]');
  await form.getByLabel('Peer name').fill(name);
  await form.getByLabel('Role').selectOption(role);
  await form.getByLabel('Endpoint host').fill(endpoint ?? '');
  if (device) await form.getByLabel('Device').selectOption({ label: device });
  await form.getByRole('button', { name: 'Add peer' }).click();
  await page.getByRole('status').filter({ hasText: `Added ${name}` }).waitFor();
  const link = page.locator(`tr[data-peer="${name}"] th a`);
  await link.waitFor();
  return (await link.getAttribute('href')) ?? '';
}

/** A GraphQL request with the page's session; throws on any error, returns `data`. */
export async function gql<T = Record<string, unknown>>(page: Page, base: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await page.request.post(`${base}/graphql`, { data: { query, variables }, headers: { 'content-type': 'application/json' } });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data as T;
}
