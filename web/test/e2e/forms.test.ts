// Issue 17, items 6, 8 and 9 in Chromium against a real server and the pfSense simulator: form
// errors beside their fields (all at once, in the label's words, cleared by an edit, both
// fields of a cross-field rule), a length counter instead of cut text, pending invitations
// (listed, revoked: the link then says so; a live link fills in its address), a pfSense's
// sign-in mode switched both ways, and a device health badge that changes without a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { startPfSenseSimulator, type PfSenseSimulator } from '../../../server/test/sim/pfsense/index.js';
import { chromiumAvailable, openBrowser, sidewaysOverflow, type BrowserSession } from './browser.js';
import { gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

const haveChromium = chromiumAvailable('the forms browser test');
const SLOW = 90_000;

/** The inputs of `scope` marked invalid, by name. */
const invalidNames = async (scope: Locator | Page) =>
  (await scope.locator('[aria-invalid="true"]').evaluateAll((inputs) => inputs.map((input) => input.getAttribute('name')))).sort();

describe.skipIf(!haveChromium)('forms, invitations and pfSense sign-in in Chromium', () => {
  let dashboard: Dashboard;
  let page: Page;
  let base: string;
  let pf: PfSenseSimulator;
  let invitee: BrowserSession | undefined;
  let stopped = false;
  const shot = (name: string, on?: Page) => dashboard.browser.shot(`forms-${name}`, on);

  beforeAll(async () => {
    pf = await startPfSenseSimulator({ version: '2.8.1', authMethods: ['BasicAuth', 'KeyAuth'] });
    dashboard = await startDashboard();
    ({ page, base } = dashboard);
    await registerFirstUser(page, base);
  }, SLOW);

  afterAll(async () => {
    await invitee?.close();
    await dashboard?.stop();
    if (!stopped) await pf?.stop();
  });

  it('shows three bad WAN settings at once beside their fields, and fixing one clears only it', async () => {
    const form = page.locator('form', { has: page.locator('#create-wan') });
    await form.getByLabel('Name', { exact: true }).fill('Forms');
    await form.getByText('Ranges and defaults').click();
    await form.getByLabel('Listen port').fill('0');
    await form.getByLabel('MTU').fill('100');
    await form.getByLabel('Keepalive (s)').fill('99999');
    await form.getByRole('button', { name: 'Create WAN' }).click();
    await form.locator('[aria-invalid="true"][name="keepalive"]').waitFor();
    expect(await invalidNames(form)).toEqual(['keepalive', 'listenPort', 'mtu']);
    const messages = await form.locator('.note.error').allTextContents();
    expect(messages).toEqual(expect.arrayContaining([
      'Listen port must be a whole number from 1 to 65535',
      'MTU must be a whole number from 1280 to 9000',
      'Keepalive (s) must be a whole number from 0 to 3600',
    ]));
    expect(await form.textContent()).not.toMatch(/input\.|listenPort|BAD_USER_INPUT/);
    await shot('01-three-errors');

    await form.getByLabel('Listen port').fill('51820');
    expect(await invalidNames(form)).toEqual(['keepalive', 'mtu']);
    await shot('02-one-fixed');
    await form.getByLabel('MTU').fill('');
    await form.getByLabel('Keepalive (s)').fill('');
  }, SLOW);

  it('counts characters of a long name instead of cutting it, then creates the WAN', async () => {
    const form = page.locator('form', { has: page.locator('#create-wan') });
    const name = form.getByLabel('Name', { exact: true });
    const long = 'A very long WAN name that goes on past the sixty-four characters allowed';
    await name.fill(long);
    expect(await name.inputValue()).toBe(long); // as typed: nothing cut silently
    await form.getByText(`${long.length} / 64`).waitFor();
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    await expect(form.locator('.note.error').first().textContent()).resolves.toBe(`Name must have at most 64 characters (it has ${long.length})`);
    await shot('03-counter');
    await name.fill('Forms');
    await form.getByText('5 / 64').waitFor();
    expect(await name.getAttribute('aria-invalid')).toBeNull();
    await form.getByRole('button', { name: 'Create WAN' }).click();
    await page.getByRole('row', { name: /Forms/ }).getByRole('link', { name: 'Forms' }).click();
    await heading(page, 'Forms');
  }, SLOW);

  it('marks both the endpoint port and the listen port when they differ', async () => {
    const form = page.locator('form', { has: page.locator('#add-peer') });
    await form.getByLabel('Peer name').fill('branch');
    await form.getByLabel('Endpoint host').fill('198.51.100.7');
    await form.getByLabel('Endpoint port', { exact: true }).fill('443');
    await form.getByRole('button', { name: 'Add peer' }).click();
    await form.locator('[aria-invalid="true"][name="listenPort"]').waitFor();
    expect(await invalidNames(form)).toEqual(['endpointPort', 'listenPort']);
    await expect(form.locator('.field:has(input[name="endpointPort"]) .note.error').textContent())
      .resolves.toMatch(/^Endpoint port 443 is not the WAN's listen port 51820/);
    await shot('04-cross-field');
    await form.getByLabel('Endpoint port', { exact: true }).fill('');
    expect(await invalidNames(form)).toEqual(['listenPort']); // only the edited field is cleared
  }, SLOW);

  it('lists a pending invitation, and its link fills in the invited address, read-only, and registers', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await heading(page, 'Users');
    const invite = page.locator('form', { has: page.locator('#invite-heading') });
    await invite.getByLabel('Email').fill('new.op@example.test');
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    const link = (await invite.locator('code.secret').textContent())!.trim();
    const row = page.locator('tr[data-invitation="new.op@example.test"]');
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/Operator.*Grace Admin/);
    await shot('05-pending');

    invitee = await openBrowser();
    await invitee.page.goto(link);
    await invitee.page.getByRole('heading', { name: 'Accept the invitation' }).waitFor();
    const email = invitee.page.getByLabel('Email');
    expect(await email.inputValue()).toBe('new.op@example.test');
    expect(await email.getAttribute('readonly')).not.toBeNull();
    // The address comes from the invitation, not from the link: an added parameter changes nothing.
    await invitee.page.goto(`${link}&email=attacker%40example.test`);
    expect(await invitee.page.getByLabel('Email').inputValue()).toBe('new.op@example.test');
    await shot('06-invite-prefilled', invitee.page);
    await invitee.page.getByLabel('Name').fill('Nora Operator');
    await invitee.page.getByLabel('Password').fill('a fresh long password');
    await invitee.page.getByRole('button', { name: 'Create account' }).click();
    await invitee.page.waitForURL(`${base}/`);
    await expect(invitee.page.locator('header').textContent()).resolves.toMatch(/Nora Operator\s*operator/);
    await invitee.page.getByRole('button', { name: 'Sign out' }).click();
    await invitee.page.waitForURL(`${base}/login`);
  }, SLOW);

  it('revokes an invitation: it leaves the list and its link says it is no longer valid', async () => {
    const invite = page.locator('form', { has: page.locator('#invite-heading') });
    await invite.getByLabel('Email').fill('revoke.me@example.test');
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    await invite.getByText('Send this link to revoke.me@example.test').waitFor();
    const link = (await invite.locator('code.secret').textContent())!.trim();
    const row = page.locator('tr[data-invitation="revoke.me@example.test"]');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Revoke' }).click(); // the confirmation
    await row.waitFor({ state: 'detached' });
    expect(await page.locator('tr[data-invitation="new.op@example.test"]').count()).toBe(0); // used meanwhile: no longer pending
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shot('07-revoked');
    // The pending list on a phone: no sideways scrolling.
    await invite.getByLabel('Email').fill('a.rather.long.address.for.a.phone@example.test');
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    await page.locator('tr[data-invitation="a.rather.long.address.for.a.phone@example.test"]').waitFor();
    await page.setViewportSize({ width: 390, height: 800 });
    await shot('07b-users-390');
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > 391).slice(0, 8).map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`));
    expect(wide).toEqual([]);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shot('07b-users-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    await invitee!.page.goto(link);
    await invitee!.page.locator('[data-notice="invitation-invalid"]').waitFor();
    await expect(invitee!.page.locator('[data-notice="invitation-invalid"]').textContent()).resolves.toContain('no longer valid');
    expect(await invitee!.page.getByRole('button', { name: 'Create account' }).count()).toBe(0);
    await shot('08-revoked-link', invitee!.page);
  }, SLOW);

  it('adds a pfSense with an API key, switches it to username and password and back; the username is then gone', async () => {
    await page.getByRole('link', { name: 'Devices' }).click();
    await heading(page, 'Devices');
    const form = page.locator('form', { has: page.locator('#device-form-heading') });
    await form.getByLabel('Device name').fill('edge-pf');
    await form.getByLabel('Kind').selectOption('PFSENSE');
    await form.getByLabel('Host', { exact: true }).fill(pf.host);
    await form.getByLabel('Port', { exact: true }).fill(String(pf.port));
    expect(await form.getByLabel('Sign in with').inputValue()).toBe('API_KEY');
    expect(await form.getByLabel('Username').count()).toBe(0);
    await form.getByLabel('API key').fill(pf.apiKey);
    await form.getByText('More: management address, limits, CA certificate').click();
    await form.getByLabel('CA certificate (PEM) for a self-signed router').fill(pf.caPem);
    await shot('09-pfsense-api-key');
    await form.getByRole('button', { name: 'Add device' }).click();
    const card = page.locator('article[data-device="edge-pf"]');
    await card.locator('[data-auth="API_KEY"]').waitFor();
    await card.getByRole('button', { name: 'Test connection' }).click();
    await card.locator('[data-connection="ok"]').waitFor();

    const device = async () => (await gql<{ devices: { edges: Array<{ node: { name: string; username: string | null; authMode: string } }> } }>(page, base, '{ devices(first: 50) { edges { node { name username authMode } } } }'))
      .devices.edges.map((edge) => edge.node).find((node) => node.name === 'edge-pf');

    await card.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit edge-pf' }).waitFor();
    await form.getByLabel('Sign in with').selectOption('BASIC');
    await form.getByLabel('Username').fill(pf.username);
    await form.getByText('You changed where or how the password is sent: enter it again.').waitFor();
    await form.getByLabel('Password').fill(pf.password);
    await shot('10-pfsense-basic');
    await form.getByRole('button', { name: 'Save device' }).click();
    await card.locator('[data-auth="BASIC"]').waitFor();
    expect(await device()).toMatchObject({ username: pf.username, authMode: 'BASIC' });
    await card.getByRole('button', { name: 'Test connection' }).click();
    await card.locator('[data-connection="ok"]').waitFor();

    await card.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit edge-pf' }).waitFor();
    await form.getByLabel('Sign in with').selectOption('API_KEY');
    expect(await form.getByLabel('Username').count()).toBe(0);
    await form.getByText('You changed where or how the API key is sent: enter it again.').waitFor();
    await form.getByLabel('API key').fill(pf.apiKey);
    await form.getByRole('button', { name: 'Save device' }).click();
    await card.locator('[data-auth="API_KEY"]').waitFor();
    expect(await device()).toMatchObject({ username: null, authMode: 'API_KEY' });
    expect(await card.textContent()).not.toContain(`user ${pf.username}`);
    await card.getByRole('button', { name: 'Test connection' }).click();
    await card.locator('[data-connection="ok"]').waitFor();
    await shot('11-pfsense-back-to-key');
  }, SLOW);

  it('changes a device health badge without a reload when the device stops answering', async () => {
    const card = page.locator('article[data-device="edge-pf"]');
    await card.locator('[data-health="ok"]').waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const { devices } = await gql<{ devices: { edges: Array<{ node: { id: string; name: string } }> } }>(page, base, '{ devices(first: 50) { edges { node { id name } } } }');
    const id = devices.edges.find((edge) => edge.node.name === 'edge-pf')!.node.id;
    await pf.stop();
    stopped = true;
    // Someone else's connection test (not this page's) finds it unreachable; the page learns by itself.
    await gql(page, base, 'mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { reachable } }', { id });
    await card.locator('[data-health="bad"]', { hasText: 'unreachable' }).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await shot('12-health-live');
  }, SLOW);
});
