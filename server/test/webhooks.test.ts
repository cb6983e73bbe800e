// Webhooks end to end through the API, against a real HTTP receiver on loopback: the signature
// and headers, retries with their status codes, per-webhook order, giving up, final refusals,
// the SSRF guard (at creation and at send time), "send test", a rolled-back change sending
// nothing, two replicas on one PostgreSQL sending each event once, and the secret never read back.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/logger.js';
import { sendAttempt } from '../src/services/integrations/webhook-sender.js';
import { Webhooks } from '../src/services/integrations/webhooks.js';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';
import { startReplicas, type Replica, type ReplicaSet } from './support/replicas.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: answers each path from its script (then 200), records every request. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly scripts = new Map<string, Array<{ status: number; headers?: Record<string, string>; body?: string }>>();
  private readonly held = new Map<string, Promise<void>>();
  private server!: http.Server;

  /** Requests to `path` get no answer until the returned function is called. */
  hold(path: string): () => void {
    let release = () => undefined as void;
    this.held.set(path, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      this.held.delete(path);
      release();
    };
  }
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = req.url ?? '/';
        this.requests.push({ path: url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const next = this.scripts.get(url)?.shift() ?? { status: 200 };
        void (this.held.get(url) ?? Promise.resolve()).then(() => {
          res.writeHead(next.status, next.headers ?? { 'content-type': 'text/plain' });
          res.end(next.body ?? (next.status < 300 ? 'ok' : `answer ${next.status}`));
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  answer(path: string, ...answers: Array<number | { status: number; headers?: Record<string, string>; body?: string }>): void {
    this.scripts.set(path, answers.map((answer) => (typeof answer === 'number' ? { status: answer } : answer)));
  }

  on(path: string): Received[] {
    return this.requests.filter((request) => request.path === path);
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (bounded); fails naming `what`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, polls = 400, pollMs = 25): Promise<T> {
  for (let poll = 0; poll < polls; poll++) {
    const value = await check();
    if (value !== undefined) return value;
    await wait(pollMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const CREATE = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id name url events enabled allowPrivateTargets } } }`;
const DELIVERIES = `query ($id: ID!, $filter: WebhookDeliveryFilter) { webhook(id: $id) { deliveries(first: 50, filter: $filter) { edges { node {
  id eventId eventType status attempts lastStatusCode lastError test attemptLog { statusCode error response } } } } } }`;

interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  test: boolean;
  attemptLog: Array<{ statusCode: number | null; error: string | null; response: string | null }>;
}

async function deliveries(admin: GraphQLTestClient, id: string, filter?: Record<string, unknown>): Promise<Delivery[]> {
  const { webhook } = await admin.ok<{ webhook: { deliveries: { edges: Array<{ node: Delivery }> } } }>(DELIVERIES, { id, filter });
  return webhook.deliveries.edges.map((edge) => edge.node);
}

async function createHook(admin: GraphQLTestClient, input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const { createWebhook } = await admin.ok<{ createWebhook: { secret: string; webhook: { id: string } } }>(CREATE, { input: { name: 'hook', events: ['peer.created'], allowPrivateTargets: true, ...input } });
  return { id: createWebhook.webhook.id, secret: createWebhook.secret };
}

async function createWan(admin: GraphQLTestClient, name: string): Promise<string> {
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, { input: { name, topology: 'MESH' } });
  return createWan.wan.id;
}

async function addPeer(admin: GraphQLTestClient, wanId: string, name: string): Promise<string> {
  const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string } } }>(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, { wanId, input: { name, role: 'CLIENT' } });
  return addPeer.peer.id;
}

/** The receiver's check of a request: HMAC-SHA256 over "<timestamp>.<raw body>", compared in constant time. */
function verified(request: Received, secret: string): boolean {
  const timestamp = String(request.headers['x-meshplane-timestamp']);
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`);
  const given = Buffer.from(String(request.headers['x-meshplane-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const bodyOf = (request: Received) => JSON.parse(request.body) as { id: string; type: string; occurredAt: string; wan: { id: string; name: string } | null; subject: { kind: string; id: string; name: string }; data: Record<string, unknown> };

describe('webhooks', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let receiver: Receiver;
  let wanId: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { logLines.push(chunk.toString('utf8')); done(); } });
    // Retries after 40, 80 and 120 ms (4 attempts in all), so no test waits for real backoff.
    t = await startTestApp({ logger: createLogger('trace', sink), env: { MESHPLANE_WEBHOOK_RETRY_DELAYS_MS: '40,80,120', MESHPLANE_WEBHOOK_POLL_MS: '50' } });
    admin = await registerAdmin(t.graphqlUrl);
    wanId = await createWan(admin, 'hooks');
  });

  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  it('sends a signed peer.created event with the documented headers and body', async () => {
    const hook = await createHook(admin, { url: receiver.url('/signed') });
    const peerId = await addPeer(admin, wanId, 'laptop-signed');
    const [request] = await eventually('the event', () => (receiver.on('/signed').length > 0 ? receiver.on('/signed') : undefined));
    expect(verified(request!, hook.secret)).toBe(true);
    expect(verified(request!, 'whsec_wrong')).toBe(false);
    const body = bodyOf(request!);
    expect(body).toMatchObject({ type: 'peer.created', wan: { id: wanId, name: 'hooks' }, subject: { kind: 'peer', id: peerId, name: 'laptop-signed' }, data: { role: 'CLIENT', createdBy: 'admin@example.net' } });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe('Meshplane-Webhook/1');
    expect(request!.headers['x-meshplane-event']).toBe('peer.created');
    expect(request!.headers['x-meshplane-delivery']).toBe(body.id);
    expect(request!.headers['x-meshplane-timestamp']).toMatch(/^\d{10}$/);
    const [delivery] = await eventually('the log', async () => ((await deliveries(admin, hook.id))[0]?.status === 'SUCCEEDED' ? deliveries(admin, hook.id) : undefined));
    expect(delivery).toMatchObject({ eventId: body.id, eventType: 'peer.created', attempts: 1, lastStatusCode: 200, lastError: null });
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('retries 500, 500 then 200: three attempts logged with their codes, the same event id each time', async () => {
    receiver.answer('/retry', 500, 500, 200);
    const hook = await createHook(admin, { url: receiver.url('/retry') });
    await addPeer(admin, wanId, 'laptop-retry');
    const delivery = await eventually('success after retries', async () => (await deliveries(admin, hook.id)).find((row) => row.status === 'SUCCEEDED'));
    expect(delivery.attempts).toBe(3);
    expect(delivery.attemptLog.map((attempt) => attempt.statusCode)).toEqual([500, 500, 200]);
    expect(delivery.attemptLog[0]!.error).toBe('HTTP 500 Internal Server Error');
    expect(delivery.attemptLog.map((attempt) => attempt.response)).toEqual(['answer 500', 'answer 500', 'ok']);
    const sent = receiver.on('/retry');
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((request) => request.headers['x-meshplane-delivery']))).toEqual(new Set([delivery.eventId]));
    expect(sent.every((request) => verified(request, hook.secret))).toBe(true);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('delivers in order: later events wait while the first is retried', async () => {
    receiver.answer('/order', 503, 503);
    const hook = await createHook(admin, { url: receiver.url('/order') });
    for (const name of ['order-a', 'order-b', 'order-c']) await addPeer(admin, wanId, name);
    await eventually('three deliveries done', async () => ((await deliveries(admin, hook.id)).filter((row) => row.status === 'SUCCEEDED').length === 3 ? true : undefined));
    const names = receiver.on('/order').map((request) => bodyOf(request).subject.name);
    expect(names).toEqual(['order-a', 'order-a', 'order-a', 'order-b', 'order-c']);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('a receiver that does not answer holds up only its own webhook', async () => {
    const release = receiver.hold('/slow');
    const slow = await createHook(admin, { url: receiver.url('/slow') });
    const fast = await createHook(admin, { url: receiver.url('/fast') });
    await addPeer(admin, wanId, 'lanes-a');
    await eventually('the slow receiver got the request', () => (receiver.on('/slow').length === 1 ? true : undefined));
    // A later event too: the fast webhook's queue goes on while the slow one waits for its answer.
    await addPeer(admin, wanId, 'lanes-b');
    await eventually('the fast one delivered both', async () => ((await deliveries(admin, fast.id, { status: 'SUCCEEDED' })).length === 2 ? true : undefined));
    expect((await deliveries(admin, slow.id)).map((row) => row.status)).toEqual(['PENDING', 'DELIVERING']);
    release();
    await eventually('the slow one delivered both', async () => ((await deliveries(admin, slow.id, { status: 'SUCCEEDED' })).length === 2 ? true : undefined));
    expect(receiver.on('/slow').map((request) => bodyOf(request).subject.name)).toEqual(['lanes-a', 'lanes-b']);
    for (const hook of [slow, fast]) await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('gives up after the last retry, then sends the next event', async () => {
    receiver.answer('/down', 500, 502, 503, 504);
    const hook = await createHook(admin, { url: receiver.url('/down') });
    await addPeer(admin, wanId, 'down-a');
    await addPeer(admin, wanId, 'down-b');
    const rows = await eventually('both finished', async () => {
      const list = await deliveries(admin, hook.id);
      return list.length === 2 && list.every((row) => row.status === 'SUCCEEDED' || row.status === 'FAILED') ? list : undefined;
    });
    const failed = rows.find((row) => row.status === 'FAILED')!;
    expect(failed.attempts).toBe(4);
    expect(failed.attemptLog.map((attempt) => attempt.statusCode)).toEqual([500, 502, 503, 504]);
    expect(failed.lastError).toBe('HTTP 504 Gateway Timeout (gave up after 4 attempts)');
    expect(rows.find((row) => row.status === 'SUCCEEDED')!.attempts).toBe(1);
    expect(receiver.on('/down').map((request) => bodyOf(request).subject.name)).toEqual(['down-a', 'down-a', 'down-a', 'down-a', 'down-b']);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('fails at once without retry on 410 and 400, and on a redirect (not followed, the Location named)', async () => {
    for (const [path, answer, words] of [
      ['/gone', { status: 410 }, 'HTTP 410 Gone'],
      ['/bad', { status: 400 }, 'HTTP 400 Bad Request'],
      ['/moved', { status: 302, headers: { location: 'http://10.0.0.1/internal' } }, 'HTTP 302: redirect to http://10.0.0.1/internal not followed (give the final URL)'],
    ] as const) {
      receiver.answer(path, answer);
      const hook = await createHook(admin, { url: receiver.url(path) });
      await addPeer(admin, wanId, `final${path.replace('/', '-')}`);
      const [row] = await eventually(`${path} failed`, async () => ((await deliveries(admin, hook.id))[0]?.status === 'FAILED' ? deliveries(admin, hook.id) : undefined));
      expect(row).toMatchObject({ attempts: 1, lastStatusCode: answer.status, lastError: words });
      expect(receiver.on(path)).toHaveLength(1);
      await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
    }
  });

  it('keeps the first 4 KiB of an answer, reading no more than 64 KiB', async () => {
    receiver.answer('/big', { status: 410, body: 'x'.repeat(300_000) });
    const hook = await createHook(admin, { url: receiver.url('/big') });
    await addPeer(admin, wanId, 'big-answer');
    const [row] = await eventually('failed', async () => ((await deliveries(admin, hook.id))[0]?.status === 'FAILED' ? deliveries(admin, hook.id) : undefined));
    expect(row!.attemptLog[0]!.response).toBe('x'.repeat(4096));
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('refuses private, loopback, link-local and local-name targets unless allowed', async () => {
    for (const [url, words] of [
      ['http://127.0.0.1:9/x', '127.0.0.1 is a loopback address'],
      ['http://10.0.0.1/x', '10.0.0.1 is a private address'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
      ['http://[::1]/x', '::1 is a loopback address'],
      ['http://[::ffff:127.0.0.1]/x', 'embeds 127.0.0.1 is a loopback address'],
      ['http://100.64.0.1/x', '100.64.0.1 is a carrier-grade NAT address'],
      ['http://[fd00::1]/x', 'fd00::1 is a unique-local address'],
      ['http://localhost:9/x', 'localhost names this host'],
      ['http://2130706433/x', '127.0.0.1 is a loopback address'],
    ] as const) {
      const result = await admin.request(CREATE, { input: { name: 'ssrf', url, events: ['peer.created'] } });
      expect(result.errors?.[0]?.extensions?.code, url).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message, url).toContain(words);
    }
    for (const url of ['ftp://example.com/x', 'http://user:pw@example.com/x', `https://example.com/${'a'.repeat(2100)}`]) {
      expect(await admin.errorCodes(CREATE, { input: { name: 'ssrf', url, events: ['peer.created'] } }), url).toEqual(['BAD_USER_INPUT']);
    }
    // At send time the same rules hold for the addresses a name resolves to, and for literals.
    for (const [url, words] of [
      ['http://10.0.0.1/x', 'refused: 10.0.0.1 is a private address'],
      ['http://169.254.169.254/x', 'refused: 169.254.169.254 is a link-local address'],
      ['http://[::1]:9/x', 'refused: ::1 is a loopback address'],
      ['http://[::ffff:127.0.0.1]:9/x', 'refused: ::ffff:7f00:1 embeds 127.0.0.1 is a loopback address'],
      ['http://localhost:9/x', 'refused: localhost names this host'],
      [receiver.url('/never'), 'refused: 127.0.0.1 is a loopback address'],
    ] as const) {
      const result = await sendAttempt({ url, body: '{}', secret: 's', eventType: 'webhook.test', eventId: 'evt_x', allowPrivateTargets: false });
      expect(result.outcome.kind, url).toBe('final');
      expect(result.error, url).toContain(words);
    }
    expect(receiver.on('/never')).toHaveLength(0);
  });

  it('refuses at send time a name that resolves to a non-public address (checked on every send, connection pinned)', async () => {
    // This machine's own name resolves to loopback or to its private address; it is no "localhost" name.
    const host = os.hostname();
    const hook = await createHook(admin, { url: receiver.url('/by-name', host), allowPrivateTargets: true, events: ['peer.created'] });
    const allowed = await admin.ok<{ sendTestWebhook: Delivery }>(`mutation ($id: ID!) { sendTestWebhook(id: $id) { status lastStatusCode lastError } }`, { id: hook.id });
    // Allowed: it was reached through the pinned address (loopback here; elsewhere it may not listen).
    if (allowed.sendTestWebhook.status === 'SUCCEEDED') expect(receiver.on('/by-name')).toHaveLength(1);
    await admin.ok(`mutation ($id: ID!) { updateWebhook(id: $id, input: { allowPrivateTargets: false }) { id } }`, { id: hook.id });
    const before = receiver.on('/by-name').length;
    const { sendTestWebhook } = await admin.ok<{ sendTestWebhook: Delivery }>(`mutation ($id: ID!) { sendTestWebhook(id: $id) { status lastStatusCode lastError } }`, { id: hook.id });
    expect(sendTestWebhook.status).toBe('FAILED');
    expect(sendTestWebhook.lastStatusCode).toBeNull();
    expect(sendTestWebhook.lastError).toMatch(new RegExp(`^refused: ${host} resolves to \\S+, a (loopback|private|link-local|unique-local) address`));
    expect(receiver.on('/by-name').length).toBe(before);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('a name that does not resolve within the attempt\'s timeout is retried, not waited on; every answer of a name is checked', async () => {
    const base = { body: '{}', secret: 's', eventType: 'webhook.test', eventId: 'evt_x', allowPrivateTargets: false };
    const stuck = await sendAttempt({ ...base, url: 'http://hooks.example.test/x', timeoutMs: 50, lookup: () => new Promise(() => undefined) });
    expect(stuck).toMatchObject({ outcome: { kind: 'retry' }, statusCode: null, error: 'could not resolve hooks.example.test within 0.05 s' });
    const mixed = await sendAttempt({ ...base, url: 'http://hooks.example.test/x', lookup: async () => [{ address: '93.184.215.14', family: 4 }, { address: '10.1.2.3', family: 4 }] });
    expect(mixed).toMatchObject({ outcome: { kind: 'final' }, error: expect.stringContaining('refused: hooks.example.test resolves to 10.1.2.3, a private address') });
    const mapped = await sendAttempt({ ...base, url: 'http://hooks.example.test/x', lookup: async () => [{ address: '::ffff:169.254.169.254', family: 6 }] });
    expect(mapped).toMatchObject({ outcome: { kind: 'final' }, error: expect.stringContaining('refused: hooks.example.test resolves to ::ffff:169.254.169.254') });
  });

  it('"send test" sends at once even while the queue is blocked, and returns the answer', async () => {
    receiver.answer('/blocked', 500, 500, 500);
    const hook = await createHook(admin, { url: receiver.url('/blocked') });
    await addPeer(admin, wanId, 'blocked-a');
    await eventually('first attempt failed', () => (receiver.on('/blocked').length > 0 ? true : undefined));
    const { sendTestWebhook } = await admin.ok<{ sendTestWebhook: Delivery }>(`mutation ($id: ID!) { sendTestWebhook(id: $id) { id eventType status attempts lastStatusCode lastError test } }`, { id: hook.id });
    // The script's next answer may be one more 500 (the retry took it) or the test got it: both are the receiver's own answers.
    expect(sendTestWebhook).toMatchObject({ eventType: 'webhook.test', attempts: 1, test: true });
    expect([200, 500]).toContain(sendTestWebhook.lastStatusCode);
    const test = receiver.on('/blocked').find((request) => bodyOf(request).type === 'webhook.test')!;
    expect(verified(test, hook.secret)).toBe(true);
    expect(bodyOf(test).subject).toEqual({ kind: 'webhook', id: hook.id, name: 'hook' });
    expect((await deliveries(admin, hook.id, { eventType: 'webhook.test' })).map((row) => row.id)).toEqual([sendTestWebhook.id]);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('sends nothing for a change whose transaction rolled back', async () => {
    const hook = await createHook(admin, { url: receiver.url('/tx'), events: ['drift.detected'] });
    const event = (name: string) => ({ type: 'drift.detected' as const, occurredAt: new Date(), wan: null, subject: { kind: 'peer' as const, id: name, name }, data: {} });
    await expect(t.app.database.prisma.$transaction(async (tx) => {
      await t.app.services.events.emit(event('rolled-back'), tx);
      throw new Error('the change failed');
    })).rejects.toThrow('the change failed');
    await t.app.database.prisma.$transaction(async (tx) => t.app.services.events.emit(event('committed'), tx));
    await eventually('the committed event', () => (receiver.on('/tx').length > 0 ? true : undefined));
    expect(receiver.on('/tx').map((request) => bodyOf(request).subject.name)).toEqual(['committed']);
    expect((await deliveries(admin, hook.id)).map((row) => row.status)).toEqual(['SUCCEEDED']);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('redelivers a finished delivery with the same event id; rotating the secret signs with the new one', async () => {
    receiver.answer('/again', 410);
    const hook = await createHook(admin, { url: receiver.url('/again') });
    await addPeer(admin, wanId, 'again-a');
    const [failed] = await eventually('failed', async () => ((await deliveries(admin, hook.id))[0]?.status === 'FAILED' ? deliveries(admin, hook.id) : undefined));
    const { rotateWebhookSecret } = await admin.ok<{ rotateWebhookSecret: { secret: string } }>(`mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { id } } }`, { id: hook.id });
    expect(rotateWebhookSecret.secret).not.toBe(hook.secret);
    await admin.ok(`mutation ($id: ID!) { redeliverWebhookDelivery(id: $id) { id status } }`, { id: failed!.id });
    await eventually('redelivered', async () => ((await deliveries(admin, hook.id, { status: 'SUCCEEDED' })).length === 1 ? true : undefined));
    const sent = receiver.on('/again');
    expect(sent.map((request) => request.headers['x-meshplane-delivery'])).toEqual([failed!.eventId, failed!.eventId]);
    expect(verified(sent[1]!, rotateWebhookSecret.secret)).toBe(true);
    expect(verified(sent[1]!, hook.secret)).toBe(false);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('never shows the secret again: not in reads, the audit log, the logs or the database in clear', async () => {
    const hook = await createHook(admin, { url: `${receiver.url('/secret')}?token=query-token-123` });
    await admin.ok(`mutation ($id: ID!) { sendTestWebhook(id: $id) { id } }`, { id: hook.id });
    const { rotateWebhookSecret } = await admin.ok<{ rotateWebhookSecret: { secret: string } }>(`mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id: hook.id });
    await admin.ok(`mutation ($id: ID!) { updateWebhook(id: $id, input: { name: "renamed" }) { id } }`, { id: hook.id });
    const reads = JSON.stringify(await admin.ok(`{ webhooks(first: 50) { edges { node { id name url events enabled allowPrivateTargets createdByName lastDelivery { payload lastError } deliveries(first: 50) { edges { node { payload lastError attemptLog { error } } } } } } }
      auditLog(first: 200) { edges { node { action details } } } }`));
    const rows = JSON.stringify(await t.app.database.prisma.webhook.findMany()) + JSON.stringify(await t.app.database.prisma.auditLog.findMany());
    for (const secret of [hook.secret, rotateWebhookSecret.secret]) {
      expect(reads).not.toContain(secret);
      expect(rows).not.toContain(secret);
      expect(logLines.join('')).not.toContain(secret);
    }
    // The audit log keeps the URL without its query string (it may carry a token).
    const audit = JSON.stringify(await t.app.database.prisma.auditLog.findMany({ where: { action: { startsWith: 'webhook.' } } }));
    expect(audit).toContain('webhook.create');
    expect(audit).not.toContain('query-token-123');
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('deleting a WAN sends peer.deleted for each peer it takes with it', async () => {
    const hook = await createHook(admin, { url: receiver.url('/wan-gone'), events: ['peer.deleted'] });
    const doomed = await createWan(admin, 'doomed');
    const ids = [await addPeer(admin, doomed, 'doomed-a'), await addPeer(admin, doomed, 'doomed-b')];
    await admin.ok(`mutation ($id: ID!) { deleteWan(id: $id) }`, { id: doomed });
    await eventually('both events', () => (receiver.on('/wan-gone').length === 2 ? true : undefined));
    const bodies = receiver.on('/wan-gone').map(bodyOf);
    expect(bodies.map((body) => body.subject.id).sort()).toEqual([...ids].sort());
    expect(bodies.every((body) => body.type === 'peer.deleted' && body.wan?.name === 'doomed' && body.data.withWan === true)).toBe(true);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('peer.disabled for each enabled device of an account an admin disables, once, and not for one already off', async () => {
    const hook = await createHook(admin, { url: receiver.url('/owner'), events: ['peer.disabled'] });
    const { createUser } = await admin.ok<{ createUser: { id: string } }>(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: 'erin@example.net', name: 'erin', password: 'correct horse battery staple', role: 'SELF_SERVICE' } });
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, { input: { name: 'owned', tunnelCidr: '10.88.0.0/24', topology: 'HUB_SPOKE', selfService: true } });
    const erin = new GraphQLTestClient(t.graphqlUrl);
    await erin.ok(`mutation { login(input: { email: "erin@example.net", password: "correct horse battery staple" }) { user { id } } }`);
    const ids: string[] = [];
    for (const name of ['laptop', 'phone', 'tablet']) ids.push((await erin.ok<{ createMyPeer: { id: string } }>(`mutation ($input: CreateMyPeerInput!) { createMyPeer(input: $input) { id } }`, { input: { wanId: createWan.wan.id, name } })).createMyPeer.id);
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: false }) { peer { id } } }`, { id: ids[2] });
    await admin.ok(`mutation ($userId: ID!) { setUserDisabled(userId: $userId, disabled: true) { id } }`, { userId: createUser.id });
    await eventually('three events', () => (receiver.on('/owner').length === 3 ? true : undefined));
    await wait(300);
    const bodies = receiver.on('/owner').map(bodyOf);
    expect(bodies[0]).toMatchObject({ subject: { name: 'erin-tablet' }, data: { disabledBy: 'admin@example.net' } });
    expect(bodies.slice(1).map((body) => body.subject.name).sort()).toEqual(['erin-laptop', 'erin-phone']);
    expect(bodies.slice(1).every((body) => body.data.reason === 'owner erin@example.net disabled' && body.data.enabled === false)).toBe(true);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('bounds the queue of a receiver that stays down: events beyond it are logged as not sent, and redelivery waits for room', async () => {
    const release = receiver.hold('/backlog');
    const hook = await createHook(admin, { url: receiver.url('/backlog'), events: ['drift.detected'] });
    // A second sender sharing the database, with a queue of 3 (its worker is not started: the app's sends).
    const small = new Webhooks(t.app.database.prisma, t.app.services.secrets, createLogger('silent'), { queueMax: 3 });
    const event = (name: string) => ({ type: 'drift.detected' as const, occurredAt: new Date(), wan: null, subject: { kind: 'peer' as const, id: name, name }, data: {} });
    for (const name of ['q1', 'q2', 'q3', 'q4', 'q5']) await small.emit(event(name));
    const rows = await t.app.database.prisma.webhookDelivery.findMany({ where: { webhookId: hook.id }, orderBy: { seq: 'asc' } });
    const names = rows.map((row) => (JSON.parse(row.payload) as { subject: { name: string } }).subject.name);
    expect(names).toEqual(['q1', 'q2', 'q3', 'q4', 'q5']);
    expect(rows.map((row) => row.status === 'FAILED')).toEqual([false, false, false, true, true]);
    expect(rows[3]).toMatchObject({ attempts: 0, lastStatusCode: null, lastError: 'not sent: 3 deliveries were already waiting for this webhook (is the receiver down?); redeliver it once they have gone' });
    expect(rows[3]!.completedAt).not.toBeNull();
    await expect(small.redeliver({ user: { id: 'x', email: 'admin@example.net', name: 'Admin', role: 'ADMIN' as const }, via: 'session' as const }, rows[3]!.id)).rejects.toThrow(/3 deliveries are already waiting/);
    release();
    await eventually('the three queued', async () => ((await deliveries(admin, hook.id, { status: 'SUCCEEDED' })).length === 3 ? true : undefined));
    expect(receiver.on('/backlog').map((request) => bodyOf(request).subject.name)).toEqual(['q1', 'q2', 'q3']);
    await admin.ok(`mutation ($id: ID!) { redeliverWebhookDelivery(id: $id) { id } }`, { id: rows[3]!.id });
    await eventually('the redelivered one', () => (receiver.on('/backlog').length === 4 ? true : undefined));
    expect(bodyOf(receiver.on('/backlog')[3]!).subject.name).toBe('q4');
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('keeps the number of webhooks bounded', async () => {
    const small = new Webhooks(t.app.database.prisma, t.app.services.secrets, createLogger('silent'), { webhooksMax: 2 });
    const actor = { user: { id: 'x', email: 'admin@example.net', name: 'Admin', role: 'ADMIN' as const }, via: 'session' as const };
    const existing = await t.app.database.prisma.webhook.count();
    const made: string[] = [];
    for (let i = existing; i < 2; i++) made.push((await small.create(actor, { name: `bound-${i}`, url: receiver.url('/bound'), events: ['peer.created'], allowPrivateTargets: true })).webhook.id);
    await expect(small.create(actor, { name: 'one-too-many', url: receiver.url('/bound'), events: ['peer.created'], allowPrivateTargets: true })).rejects.toMatchObject({ code: 'LIMIT_REACHED', message: expect.stringMatching(/\d+ of 2 webhooks allowed/) });
    for (const id of made) await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id });
  });

  it('is for admins only, reads included', async () => {
    const { createInvite } = await admin.ok<{ createInvite: { token: string } }>(`mutation { createInvite(input: { email: "op@example.net", role: OPERATOR }) { token } }`);
    const operator = new GraphQLTestClient(t.graphqlUrl);
    await operator.ok(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, { input: { email: 'op@example.net', name: 'Op', password: 'correct horse battery staple', inviteToken: createInvite.token } });
    const hook = await createHook(admin, { url: receiver.url('/ops') });
    expect(await operator.errorCodes(`{ webhooks(first: 1) { edges { node { id } } } }`)).toEqual(['FORBIDDEN']);
    expect(await operator.errorCodes(`mutation ($id: ID!) { sendTestWebhook(id: $id) { id } }`, { id: hook.id })).toEqual(['FORBIDDEN']);
    expect(await operator.errorCodes(CREATE, { input: { name: 'x', url: receiver.url('/ops'), events: ['peer.created'] } })).toEqual(['FORBIDDEN']);
    const viewerInvite = await admin.ok<{ createInvite: { token: string } }>(`mutation { createInvite(input: { email: "view@example.net", role: VIEWER }) { token } }`);
    const viewer = new GraphQLTestClient(t.graphqlUrl);
    await viewer.ok(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, { input: { email: 'view@example.net', name: 'View', password: 'correct horse battery staple', inviteToken: viewerInvite.createInvite.token } });
    await admin.ok(`mutation ($id: ID!) { sendTestWebhook(id: $id) { id } }`, { id: hook.id });
    // Nor the delivery log and its payloads, nor any change.
    for (const client of [operator, viewer]) {
      expect(await client.errorCodes(DELIVERIES, { id: hook.id })).toEqual(['FORBIDDEN']);
      expect(await client.errorCodes(`{ webhookEventTypes }`)).toEqual(['FORBIDDEN']);
      expect(await client.errorCodes(`mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id: hook.id })).toEqual(['FORBIDDEN']);
      expect(await client.errorCodes(`mutation ($id: ID!) { updateWebhook(id: $id, input: { allowPrivateTargets: true }) { id } }`, { id: hook.id })).toEqual(['FORBIDDEN']);
      expect(await client.errorCodes(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id })).toEqual(['FORBIDDEN']);
    }
    expect(receiver.on('/ops')).toHaveLength(1);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });
});

const pgBin = postgresOrSkip('webhook replicas test (test/webhooks.test.ts)');

describe.skipIf(!pgBin)('webhooks on two replicas sharing one PostgreSQL', () => {
  let cluster: PostgresCluster;
  let receiver: Receiver;
  let set: ReplicaSet;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    cluster = await startPostgres({ binDir: pgBin!, database: 'meshplane' });
    set = await startReplicas('hooks', { databaseUrl: cluster.url, options: { webhooks: { pollMs: 20, retryDelaysMs: [30, 60] } } });
    replicas = set.replicas;
  });

  afterAll(async () => {
    await set?.stop();
    await cluster?.stop();
    await receiver?.stop();
  });

  it('sends each event once, in order, though both replicas poll the same queue', async () => {
    receiver.answer('/replicas', 500);
    const admin = await registerAdmin(replicas[0]!.graphqlUrl);
    const hook = await createHook(admin, { url: receiver.url('/replicas') });
    const wanId = await createWan(admin, 'replicas');
    const names = Array.from({ length: 8 }, (_, i) => `replica-peer-${i}`);
    // Half the events emitted on each replica.
    const onB = new GraphQLTestClient(replicas[1]!.graphqlUrl);
    await onB.ok(`mutation { login(input: { email: "admin@example.net", password: "correct horse battery staple" }) { user { id } } }`);
    for (const [i, name] of names.entries()) await addPeer(i % 2 === 0 ? admin : onB, wanId, name);
    await eventually('all delivered', async () => ((await deliveries(admin, hook.id, { status: 'SUCCEEDED' })).length === names.length ? true : undefined), 600);
    const received = receiver.on('/replicas').map((request) => bodyOf(request));
    // The first event's 500 and its retry, then each event exactly once, in the order emitted.
    expect(received.map((body) => body.subject.name)).toEqual([names[0], ...names]);
    expect(new Set(received.map((body) => body.id)).size).toBe(names.length);
  });

  it('a peer switched off twice at once (one request on each replica) sends peer.disabled once', async () => {
    const admin = (await replicas[0]!.app.database.prisma.user.count()) === 0 ? await registerAdmin(replicas[0]!.graphqlUrl) : new GraphQLTestClient(replicas[0]!.graphqlUrl);
    await admin.ok(`mutation { login(input: { email: "admin@example.net", password: "correct horse battery staple" }) { user { id } } }`);
    const onB = new GraphQLTestClient(replicas[1]!.graphqlUrl);
    await onB.ok(`mutation { login(input: { email: "admin@example.net", password: "correct horse battery staple" }) { user { id } } }`);
    const hook = await createHook(admin, { url: receiver.url('/race'), events: ['peer.disabled'] });
    const wanId = await createWan(admin, 'race');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await addPeer(admin, wanId, `race-${i}`));
    const DISABLE = `mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: false }) { peer { id enabled } } }`;
    for (const id of ids) await Promise.all([admin.ok(DISABLE, { id }), onB.ok(DISABLE, { id })]);
    await eventually('the events', () => (receiver.on('/race').length >= ids.length ? true : undefined), 600);
    await wait(300);
    expect(receiver.on('/race').map((request) => bodyOf(request).subject.id).sort()).toEqual([...ids].sort());
    const audits = await replicas[0]!.app.database.prisma.auditLog.count({ where: { action: 'peer.disable', targetId: { in: ids } } });
    expect(audits).toBe(ids.length);
    await admin.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });
});
