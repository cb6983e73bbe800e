// Single sign-on in Chromium against a real OpenID Provider (oidc-provider in its own process
// on loopback, server/test/support/oidc-provider.ts): the "Sign in with …" button, the
// provider's own login form filled in, the dashboard under the role the groups claim maps to,
// a refusal in plain words, signing out at the provider too (the next sign-in asks for the
// password again), and the SSO-only sign-in page. Screenshots: web/test-results/e2e/sso-*.
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../server/src/app.js';
import { createLogger } from '../../../server/src/infra/logger.js';
import { freeLoopbackPort, startOidcProvider, TEST_ROLES, type TestProvider } from '../../../server/test/support/oidc-provider.js';
import { chromiumAvailable, openBrowser, sidewaysOverflow, type BrowserSession } from './browser.js';
import { gql, heading } from './journey.js';

const haveChromium = chromiumAvailable('the single sign-on browser tests');

interface Site {
  app: App;
  base: string;
  provider: TestProvider;
  stop(): Promise<void>;
}

async function startSite(browser: BrowserSession, env: Record<string, string> = {}): Promise<Site> {
  const port = await freeLoopbackPort();
  const base = `http://127.0.0.1:${port}`;
  const provider = await startOidcProvider({ appUrl: base });
  const app = await buildApp({
    dataDir: browser.tempDir('meshplane-e2e-sso-'),
    port,
    host: '127.0.0.1',
    logger: createLogger('warn'),
    env: {
      ...process.env,
      MESHPLANE_CONFIG: '',
      MESHPLANE_OIDC_ISSUER: provider.issuer,
      MESHPLANE_OIDC_CLIENT_ID: provider.clientId,
      MESHPLANE_OIDC_CLIENT_SECRET: provider.clientSecret!,
      MESHPLANE_PUBLIC_URL: base,
      MESHPLANE_OIDC_SCOPES: 'openid email profile groups',
      MESHPLANE_OIDC_ROLES: TEST_ROLES,
      MESHPLANE_OIDC_LABEL: 'Example IdP',
      ...env,
    },
  });
  await app.start();
  return { app, base, provider, stop: async () => (await app.stop(), await provider.stop()) };
}

/** On the provider's own login page: types the login name and a password, presses its Sign-in button. */
async function fillProviderLogin(page: Page, site: Site, login: string) {
  await page.waitForURL((url) => url.origin === site.provider.issuer && url.pathname.startsWith('/interaction/'));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('the password at the provider');
}

describe.skipIf(!haveChromium)('single sign-on (OIDC) in Chromium', () => {
  let browser: BrowserSession;
  let page: Page;
  let site: Site;

  beforeAll(async () => {
    browser = await openBrowser();
    page = browser.page;
    site = await startSite(browser);
  });
  afterAll(async () => {
    await site?.stop();
    await browser?.close();
  });

  it('signs in with the provider and lands on the dashboard as the role the groups claim maps to', async () => {
    await page.goto(`${site.base}/jobs`);
    await page.waitForURL(/\/login/);
    const button = page.getByRole('link', { name: 'Sign in with Example IdP' });
    await button.waitFor();
    await browser.shot('sso-01-login-page-with-button');
    await button.click();
    await fillProviderLogin(page, site, 'bob');
    await browser.shot('sso-02-provider-login-form');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    // Back at Meshplane, where the visitor wanted to go, signed in as bob (netops → OPERATOR).
    await page.waitForURL(`${site.base}/jobs`);
    await heading(page, 'Jobs');
    const { me } = await gql<{ me: { email: string; role: string } }>(page, site.base, `{ me { email role } }`);
    expect(me).toEqual({ email: 'bob@example.com', role: 'OPERATOR' });
    expect(await page.locator('header').textContent()).toContain('bob');
    await browser.shot('sso-03-dashboard-as-operator');
  });

  it('a signed-in visit to /login?next=… stays on this site, however the path is dressed up', async () => {
    // Another loopback address stands for "elsewhere": any request there (a redirect's too) is recorded and answered here.
    const elsewhere = '127.0.0.2';
    const offsite: string[] = [];
    const record = (request: { url(): string }) => void (new URL(request.url()).hostname === elsewhere && offsite.push(request.url()));
    page.on('request', record);
    await page.route(`http://${elsewhere}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'elsewhere' }));
    try {
      // Browsers drop tabs and newlines from a URL (`/\t/host` is `//host`) and resolve dot segments (`/.//host`).
      for (const next of [`//${elsewhere}/a`, `/%09/${elsewhere}/b`, `/%0A/${elsewhere}/c`, `/.//${elsewhere}/d`, `/x/..//${elsewhere}/e`, `/%5C${elsewhere}/f`, `http://${elsewhere}/g`]) {
        await page.goto(`${site.base}/login?next=${next}`).catch((error: Error) => offsite.push(`${next}: ${error.message}`));
        await page.waitForLoadState('load');
        expect(new URL(page.url()).origin, next).toBe(site.base);
      }
      expect(offsite).toEqual([]);
      // A path on this site is still where it goes.
      await page.goto(`${site.base}/login?next=${encodeURIComponent('/jobs?x=1')}`);
      await page.waitForURL(`${site.base}/jobs?x=1`);
    } finally {
      page.off('request', record);
      await page.unroute(`http://${elsewhere}/**`);
    }
  });

  it('signs out at the provider too: the next "Sign in with" asks for the password again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The provider's own confirmation page (RP-initiated logout), then back to Meshplane's sign-in page.
    await page.waitForURL((url) => url.origin === site.provider.issuer);
    await browser.shot('sso-04-provider-sign-out');
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${site.base}/login`);
    expect((await gql<{ me: unknown }>(page, site.base, `{ me { id } }`)).me).toBeNull();
    await page.getByRole('link', { name: 'Sign in with Example IdP' }).click();
    await fillProviderLogin(page, site, 'alice');
    await browser.shot('sso-05-provider-asks-again');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.waitForURL(`${site.base}/`);
    const { me } = await gql<{ me: { email: string; role: string } }>(page, site.base, `{ me { email role } }`);
    expect(me).toEqual({ email: 'alice@example.com', role: 'ADMIN' });
  });

  it('says in plain words why someone in no mapped group was not let in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${site.base}/login`);
    await page.getByRole('link', { name: 'Sign in with Example IdP' }).click();
    await fillProviderLogin(page, site, 'carol');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.waitForURL(`${site.base}/login?error=no_role`);
    const alert = page.locator('[data-notice="sso-error"]');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('Your account is not in any group that gives access to Meshplane. Ask an admin to add you to one.');
    await browser.shot('sso-06-refused-no-group');
  });

  it('SSO-only: the sign-in page offers the button alone, and the first admin comes from the provider', async () => {
    const only = await startSite(browser, { MESHPLANE_SSO_ONLY: 'true' });
    try {
      await page.setViewportSize({ width: 390, height: 800 });
      await page.goto(`${only.base}/`);
      await page.waitForURL(`${only.base}/login`);
      await page.getByRole('link', { name: 'Sign in with Example IdP' }).waitFor();
      expect(await page.getByLabel('Password').count()).toBe(0);
      expect(await page.getByRole('heading', { name: 'Create the first account' }).count()).toBe(0);
      expect(await page.locator('[data-notice="first-sso-admin"]').textContent()).toContain('gives the admin role administers Meshplane');
      expect(await sidewaysOverflow(page)).toBe(0);
      await browser.shot('sso-07-sso-only-login-390px');
      await page.getByRole('link', { name: 'Sign in with Example IdP' }).click();
      await fillProviderLogin(page, only, 'alice');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.waitForURL(`${only.base}/`);
      await heading(page, 'WANs');
      expect((await gql<{ me: { role: string } }>(page, only.base, `{ me { role } }`)).me.role).toBe('ADMIN');
      await browser.shot('sso-08-first-admin-from-provider');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
      await only.stop();
    }
  });
});
