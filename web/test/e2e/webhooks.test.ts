// Webhooks in Chromium: an admin adds a webhook to a receiver on loopback (private targets
// allowed, the warning shown), copies the signing secret shown once, "Send test" says the
// receiver answered 200 and the signed request arrived, the delivery log lists it; a peer added
// afterwards is delivered and logged too. The page fits a 390 px phone.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, sidewaysOverflow } from './browser.js';
import { gql, heading, registerFirstUser, startDashboard, type Dashboard } from './journey.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe.skipIf(!chromiumAvailable('webhooks e2e'))('webhooks page', () => {
  let dashboard: Dashboard;
  let receiver: http.Server;
  let port = 0;
  let secret = '';
  const received: Received[] = [];
  const shot = (name: string) => dashboard.browser.shot(`webhooks-${name}`);

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
    dashboard = await startDashboard({ webhooks: { pollMs: 100 } });
  }, 120_000);

  afterAll(async () => {
    await dashboard?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('adds a webhook to a loopback receiver, private targets allowed with a warning, the secret shown once', async () => {
    const { page, base } = dashboard;
    await registerFirstUser(page, base);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await heading(page, 'Webhooks');
    const form = page.locator('form[aria-labelledby="create-webhook"]');
    await form.getByLabel('Name').fill('Ops receiver');
    await form.getByLabel('URL').fill(`http://127.0.0.1:${port}/meshplane`);
    // Without "allow private targets" the server refuses the loopback URL, in words at the field.
    await form.getByRole('checkbox', { name: /peer\.created/ }).check();
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await form.getByText('127.0.0.1 is a loopback address').waitFor();
    await shot('01-refused-private');
    await form.getByRole('checkbox', { name: 'Allow private targets' }).check();
    await form.getByText('Anyone who can edit it could point it at an internal service').waitFor();
    await form.getByRole('checkbox', { name: /peer\.deleted/ }).check();
    await form.getByRole('checkbox', { name: /device\.unreachable/ }).check();
    await form.getByRole('button', { name: 'Add webhook' }).click();
    const shown = form.locator('[data-secret="webhook"] code.secret');
    await shown.waitFor();
    secret = (await shown.textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    await shot('02-secret-once');
    const hook = page.locator('article[data-webhook="Ops receiver"]');
    await hook.getByText('private targets allowed').waitFor();
    expect(await hook.locator('code.event').allTextContents()).toEqual(['peer.created', 'peer.deleted', 'device.unreachable']);
    // Reloaded: the secret is gone for good.
    await page.reload();
    await heading(page, 'Webhooks');
    expect(await page.locator('[data-secret]').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
  });

  it('"Send test" shows the receiver\'s 200 inline, signed with the secret, and the log lists it', async () => {
    const { page } = dashboard;
    const hook = page.locator('article[data-webhook="Ops receiver"]');
    await hook.getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => hook.locator('[data-test-result]').textContent()).toMatch(/^Test delivered: the receiver answered HTTP 200 in \d+ ms\.$/);
    const test = received.find((request) => request.headers['x-meshplane-event'] === 'webhook.test')!;
    const timestamp = String(test.headers['x-meshplane-timestamp']);
    expect(test.headers['x-meshplane-signature']).toBe(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${test.body}`).digest('hex')}`);
    await hook.getByRole('button', { name: 'Delivery log' }).click();
    const entry = hook.locator('li[data-delivery="webhook.test"]');
    await entry.waitFor();
    expect(await entry.textContent()).toMatch(/succeeded[\s\S]*HTTP 200[\s\S]*delivered \(HTTP 200\)[\s\S]*1 attempt/);
    await entry.getByText('Attempts and answers').click();
    expect((await entry.locator('pre.answer').textContent())?.trim()).toBe('ok');
    await expect.poll(() => hook.locator('[data-last-delivery]').textContent()).toMatch(/succeeded\s+webhook\.test/);
    await shot('03-test-sent');
  });

  it('delivers a peer.created event and logs it', async () => {
    const { page, base } = dashboard;
    const { createWan } = await gql<{ createWan: { wan: { id: string } } }>(page, base, `mutation { createWan(input: { name: "hooks-wan", topology: MESH }) { wan { id } } }`);
    await gql(page, base, `mutation ($wanId: ID!) { addPeer(wanId: $wanId, input: { name: "laptop", role: CLIENT }) { peer { id } } }`, { wanId: createWan.wan.id });
    await expect.poll(() => received.filter((request) => request.headers['x-meshplane-event'] === 'peer.created').length, { timeout: 15_000 }).toBe(1);
    await page.goto(`${base}/webhooks`);
    await heading(page, 'Webhooks');
    const hook = page.locator('article[data-webhook="Ops receiver"]');
    await hook.getByRole('button', { name: 'Delivery log' }).click();
    await hook.locator('li[data-delivery="peer.created"]').getByText('delivered (HTTP 200)').waitFor();
    await shot('04-log');
  });

  it('at 390 px: the webhooks page does not scroll sideways', async () => {
    const { page, base } = dashboard;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/webhooks`);
    await heading(page, 'Webhooks');
    await page.locator('article[data-webhook="Ops receiver"]').getByRole('button', { name: 'Delivery log' }).click();
    await page.locator('li[data-delivery="peer.created"]').waitFor();
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await shot('05-phone');
    expect(dashboard.browser.pageErrors).toEqual([]);
  });
});
