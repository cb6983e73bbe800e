// An unexpected error writes a stack trace to the log; a client that can trigger one must not
// be able to flood the log with them (src/infra/error-log-throttle.ts). The failure is injected
// into the test app's service layer (setupState, which anyone may ask, throws), then one
// anonymous client asks 500 times, changing X-Forwarded-For each time (not trusted here, so
// still one client): at most the per-client bound of error lines, one summary of the rest,
// and a signed-in client's error is still logged. A WebSocket client breaking the protocol
// (a frame over the size bound) gets its socket closed without a stack trace on stderr.
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { registerAdmin, type GraphQLResult, type GraphQLTestClient } from '../support/graphql.js';
import { createLogger } from '../../src/infra/logger.js';
import { DEFAULT_ERROR_LOG_LIMITS } from '../../src/infra/error-log-throttle.js';

const REQUESTS = 500;
const QUERY = `{ setupState { needsFirstUser } }`;

interface Line {
  level: number;
  msg: string;
  client?: string;
  suppressed?: number;
}

let t: TestApp | null = null;
let admin: GraphQLTestClient;
const lines: Line[] = [];
const errorLines = () => lines.filter((line) => line.level >= 50);

beforeAll(async () => {
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line)), done()) });
  t = await startTestApp({ logger: createLogger('warn', sink) });
  admin = await registerAdmin(t.graphqlUrl);
  t.app.services.accounts.needsFirstUser = async () => {
    throw new Error('forced failure (test/hardening/error-log-bound.test.ts)');
  };
});
afterAll(async () => t?.stop());

async function anonymousRequest(forwardedFor: string): Promise<GraphQLResult> {
  const response = await fetch(t!.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor }, body: JSON.stringify({ query: QUERY }) });
  return (await response.json()) as GraphQLResult;
}

it('closes a WebSocket that sends a frame over the bound (1009) without printing a stack trace, 20 times over', async () => {
  const printed = vi.spyOn(console, 'error');
  try {
    for (let i = 0; i < 20; i++) {
      const socket = new WebSocket(t!.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(Buffer.alloc(1_100_000, 0x61));
      expect(await closed).toBe(1009);
    }
    expect(printed).not.toHaveBeenCalled();
    expect(errorLines()).toEqual([]);
  } finally {
    printed.mockRestore();
  }
});

it('writes at most the per-client bound of error lines for 500 forced internal errors, then one summary', async () => {
  const codes: string[] = [];
  for (let batch = 0; batch < REQUESTS / 25; batch++) {
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => anonymousRequest(`198.51.100.${(batch * 25 + i) % 250}`)));
    codes.push(...results.flatMap((result) => (result.errors ?? []).map((error) => String(error.extensions?.code))));
  }
  expect(codes).toHaveLength(REQUESTS);
  expect(new Set(codes)).toEqual(new Set(['INTERNAL_SERVER_ERROR']));

  const logged = errorLines();
  expect(logged.length).toBeGreaterThan(0);
  expect(logged.length).toBeLessThanOrEqual(DEFAULT_ERROR_LOG_LIMITS.perClient);
  expect(new Set(logged.map((line) => line.client))).toEqual(new Set(['address 127.0.0.1']));

  // Another client has its own budget: a signed-in admin's error is logged, as the admin.
  expect((await admin.request(QUERY)).errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
  expect(errorLines().length).toBe(logged.length + 1);
  expect(errorLines().at(-1)?.client).toMatch(/^user /);

  // The summary of what was left out comes when the window ends, or at the latest on stop.
  await t!.stop();
  t = null;
  const summaries = lines.filter((line) => line.level === 40 && /^suppressed \d+ unexpected errors from /.test(line.msg));
  expect(summaries).toEqual([expect.objectContaining({ client: 'address 127.0.0.1', suppressed: REQUESTS - logged.length })]);
  expect(errorLines().length).toBe(logged.length + 1);
});
