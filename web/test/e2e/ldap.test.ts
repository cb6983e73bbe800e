// Directory (LDAP) sign-in in Chromium against a real slapd (server/test/support/slapd.ts): on a
// fresh server a directory admin is the first one in through "E-mail or username", the Users
// page shows each account's source and last sync and says where a directory user's role comes
// from, and "Sync now" reports what it did (a user removed from the directory is disabled).
// Screenshots: web/test-results/e2e/ldap-*.
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, SERVICE_DN, slapdOrSkip, startSlapd, type Slapd } from '../../../server/test/support/slapd.js';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { gql, heading, startDashboard, type Dashboard } from './journey.js';

const haveChromium = chromiumAvailable('the directory (LDAP) browser tests');
const slapdBinary = haveChromium ? slapdOrSkip('the directory (LDAP) browser tests') : null;

describe.skipIf(!haveChromium || !slapdBinary)('directory (LDAP) sign-in in Chromium', () => {
  let slapd: Slapd;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    slapd = await startSlapd(slapdBinary!);
    await slapd.addUser({ uid: 'alice', cn: 'Alice Admin', mail: 'alice@example.com', password: 'alice-Pass-1', groups: ['meshplane-admins'] });
    await slapd.addUser({ uid: 'bob', cn: 'Bob Netops', mail: 'bob@example.com', password: 'bob-Pass-2', groups: ['netops'] });
    dashboard = await startDashboard({
      monitor: false,
      env: {
        ...process.env,
        MESHPLANE_CONFIG: '',
        MESHPLANE_LDAP_URL: slapd.url,
        MESHPLANE_LDAP_BIND_DN: SERVICE_DN,
        MESHPLANE_LDAP_BIND_PASSWORD: slapd.servicePassword,
        MESHPLANE_LDAP_USER_BASE: PEOPLE,
        MESHPLANE_LDAP_GROUP_MEMBER_ATTRIBUTE: 'memberOf',
        MESHPLANE_LDAP_ROLES: `ADMIN=${slapd.groupDn('meshplane-admins')};OPERATOR=${slapd.groupDn('netops')}`,
        MESHPLANE_LDAP_SYNC_MINUTES: '0',
      },
    });
    page = dashboard.page;
  }, 60_000);

  afterAll(async () => {
    await dashboard?.stop();
    await slapd?.stop();
  });

  it('lets a directory admin in first, through "E-mail or username" (a wrong password refused in the usual words)', async () => {
    await page.goto(dashboard.base);
    await page.waitForURL(`${dashboard.base}/login`);
    await heading(page, 'Create the first account');
    await page.getByText('or sign in with your directory account').waitFor();
    await page.getByLabel('E-mail or username').fill('alice');
    // The register form above has a password field too: the directory form's is the last one.
    const password = page.getByLabel('Password', { exact: true }).last();
    await password.fill('not-her-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong e-mail address or password' }).waitFor();
    await password.fill('alice-Pass-1');
    await dashboard.browser.shot('ldap-01-first-run-directory-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${dashboard.base}/`);
    const { me } = await gql<{ me: { email: string; role: string; authSource: string } }>(page, dashboard.base, `{ me { email role authSource } }`);
    expect(me).toEqual({ email: 'alice@example.com', role: 'ADMIN', authSource: 'LDAP' });
  });

  it('shows the source, the last sync and where the role comes from; Sync now disables a user gone from the directory', async () => {
    // bob signs in once (over the API, in a context of his own), so the directory has two accounts here.
    const response = await fetch(`${dashboard.base}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { login(input: { email: "bob", password: "bob-Pass-2" }) { user { role } } }` }),
    });
    expect(((await response.json()) as { data: { login: { user: { role: string } } } }).data.login.user.role).toBe('OPERATOR');

    await page.goto(`${dashboard.base}/users`);
    await heading(page, 'Users');
    const bobRow = page.locator('tr[data-user="bob@example.com"]');
    await expect(bobRow.locator('td[data-label="Source"]').textContent()).resolves.toMatch(/Directory\s*synced/);
    await expect(bobRow.locator('[data-role-source]').textContent()).resolves.toContain('From the directory: a change here lasts until their next sign-in or directory sync');

    await slapd.deleteUser('bob');
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('status').filter({ hasText: 'Checked 2 directory users: 1 user disabled.' }).waitFor();
    await bobRow.getByText('disabled by directory').waitFor();
    await expect(page.locator('[data-directory-sync]').textContent()).resolves.toContain('done');
    await dashboard.browser.shot('ldap-02-users-after-sync');
  });

  it('at 390 px: the users page does not scroll sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${dashboard.base}/users`);
    await heading(page, 'Users');
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await dashboard.browser.shot('ldap-03-users-390px');
  });
});
