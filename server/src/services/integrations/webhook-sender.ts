// One HTTP attempt of a webhook delivery: the SSRF guard at send time (the host is resolved
// here and every address it resolves to must be public, unless the webhook allows private
// targets), the connection pinned to the checked address (so a second DNS answer cannot
// switch it: no rebinding), the signed request, no redirects followed, a bounded response.
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import {
  REQUEST_TIMEOUT_MS, RESPONSE_KEEP_MAX, RESPONSE_READ_MAX, USER_AGENT, outcomeOfStatus, signature, type AttemptOutcome,
} from '../../domain/webhook-delivery.js';
import { parseWebhookUrl, refusedAddress, refusedHostName } from '../../domain/webhook-target.js';

export interface WebhookRequest {
  url: string;
  body: string;
  secret: string;
  eventType: string;
  eventId: string;
  allowPrivateTargets: boolean;
  /** The whole attempt's limit, name resolution included (default REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Resolves a host name to all its addresses (default: the system resolver). */
  lookup?: (host: string) => Promise<Array<{ address: string; family: number }>>;
}

const systemLookup = (host: string) => dnsLookup(host, { all: true, verbatim: true });

export interface AttemptResult {
  outcome: AttemptOutcome;
  /** The receiver's HTTP status (null: no answer). */
  statusCode: number | null;
  /** Why it did not succeed, in words (null when delivered). */
  error: string | null;
  durationMs: number;
  /** The start of the response body (at most RESPONSE_KEEP_MAX bytes), for the log. */
  responseBody: string | null;
}

type Target = { address: string; family: 4 | 6 } | { refused: string } | { unresolved: string };

/** The address to connect to, or why none may be used. */
async function resolveTarget(host: string, literal: string | null, allowPrivate: boolean, lookup: NonNullable<WebhookRequest['lookup']>): Promise<Target> {
  if (literal) {
    const reason = allowPrivate ? null : refusedAddress(literal);
    return reason ? { refused: reason } : { address: literal, family: isIP(literal) === 6 ? 6 : 4 };
  }
  const nameReason = allowPrivate ? null : refusedHostName(host);
  if (nameReason) return { refused: nameReason };
  let answers: Array<{ address: string; family: number }>;
  try {
    answers = await lookup(host);
  } catch (error) {
    return { unresolved: `could not resolve ${host} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  if (answers.length === 0) return { unresolved: `could not resolve ${host} (no addresses)` };
  // Every answer must pass: a name that resolves to one public and one private address is refused.
  for (const answer of answers) {
    const reason = allowPrivate ? null : refusedAddress(answer.address);
    if (reason) return { refused: `${host} resolves to ${reason.replace(/^\S+ is /, `${answer.address}, `)}` };
  }
  const first = answers[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** A lookup that answers only the checked address, whatever the name. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

const failed = (outcome: AttemptOutcome, error: string, started: number, statusCode: number | null = null, responseBody: string | null = null): AttemptResult => ({
  outcome, statusCode, error, durationMs: Date.now() - started, responseBody,
});

/** Sends one attempt. Never throws: every failure comes back as a result in words. */
export async function sendAttempt(request: WebhookRequest, now: () => Date = () => new Date()): Promise<AttemptResult> {
  const started = Date.now();
  const parsed = parseWebhookUrl(request.url);
  if ('error' in parsed) return failed({ kind: 'final' }, `the URL ${parsed.error}`, started);
  const timeoutMs = request.timeoutMs ?? REQUEST_TIMEOUT_MS;
  // A resolver that does not answer counts against the attempt's time: an attempt outlasting
  // its claim could be sent a second time by another replica.
  let dnsTimer: NodeJS.Timeout | undefined;
  const target = await Promise.race([
    resolveTarget(parsed.host, parsed.literal, request.allowPrivateTargets, request.lookup ?? systemLookup),
    new Promise<Target>((resolve) => { dnsTimer = setTimeout(() => resolve({ unresolved: `could not resolve ${parsed.host} within ${timeoutMs / 1000} s` }), timeoutMs); }),
  ]).finally(() => clearTimeout(dnsTimer));
  if ('refused' in target) return failed({ kind: 'final' }, `refused: ${target.refused} (allow private targets to send there)`, started);
  if ('unresolved' in target) return failed({ kind: 'retry', retryAfterMs: null }, target.unresolved, started);

  const timestamp = Math.floor(now().getTime() / 1000);
  const headers = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-Meshplane-Event': request.eventType,
    'X-Meshplane-Delivery': request.eventId,
    'X-Meshplane-Timestamp': String(timestamp),
    'X-Meshplane-Signature': signature(request.secret, timestamp, request.body),
    'Content-Length': String(Buffer.byteLength(request.body)),
  };
  const remainingMs = Math.max(1, timeoutMs - (Date.now() - started));
  const client = parsed.url.protocol === 'https:' ? https : http;
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = client.request(parsed.url, {
      method: 'POST',
      headers,
      // Our own connection, pinned to the checked address (never a pooled socket to elsewhere).
      agent: false,
      lookup: pinnedLookup(target.address, target.family),
      ...(parsed.literal ? {} : { servername: parsed.host }),
    });
    const timer = setTimeout(() => {
      settle(failed({ kind: 'retry', retryAfterMs: null }, `no answer within ${timeoutMs / 1000} s`, started));
      req.destroy();
    }, remainingMs);
    req.on('error', (error: NodeJS.ErrnoException) => settle(failed({ kind: 'retry', retryAfterMs: null }, `${error.code ? `${error.code}: ` : ''}${error.message}`, started)));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let read = 0;
      const finish = () => {
        const body = Buffer.concat(chunks).subarray(0, RESPONSE_KEEP_MAX).toString('utf8');
        const responseBody = body.length > 0 ? body : null;
        if (status >= 300 && status < 400) {
          const location = res.headers.location;
          settle(failed({ kind: 'final' }, `HTTP ${status}: redirect${location ? ` to ${location.slice(0, 500)}` : ''} not followed (give the final URL)`, started, status, responseBody));
          return;
        }
        const outcome = outcomeOfStatus(status, res.headers['retry-after'] as string | undefined, now());
        settle(outcome.kind === 'delivered'
          ? { outcome, statusCode: status, error: null, durationMs: Date.now() - started, responseBody }
          : failed(outcome, `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, started, status, responseBody));
      };
      res.on('data', (chunk: Buffer) => {
        if (read >= RESPONSE_READ_MAX) return;
        chunks.push(chunk);
        read += chunk.length;
        // Enough for the log: the rest of a large answer is not read.
        if (read >= RESPONSE_READ_MAX) {
          finish();
          res.destroy();
        }
      });
      res.on('end', finish);
      res.on('error', finish);
    });
    req.end(request.body);
  });
}
