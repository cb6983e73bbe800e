// The error-log bound on an injected clock: per client, overall, per window, and its memory.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { ErrorLogThrottle } from './error-log-throttle.js';

const LIMITS = { perClient: 3, overall: 5, windowMs: 60_000, maxClients: 4 };

let now = 0;
let lines: Array<{ level: number; msg: string; client: string; suppressed: number }> = [];
let throttle: ErrorLogThrottle | null = null;

function make(limits = LIMITS): ErrorLogThrottle {
  lines = [];
  now = 1_000_000;
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))), done()) });
  throttle = new ErrorLogThrottle(createLogger('warn', sink), limits, () => now);
  return throttle;
}
const admitted = (t: ErrorLogThrottle, client: string, times: number) => Array.from({ length: times }, () => t.admit(client)).filter(Boolean).length;

afterEach(() => {
  throttle?.close();
  throttle = null;
});

describe('ErrorLogThrottle', () => {
  it('admits perClient errors of a client per window and reports the rest once, when the window ends', () => {
    const t = make();
    expect(admitted(t, 'a', 100)).toBe(3);
    expect(lines).toEqual([]);
    now += 59_999;
    expect(t.admit('a')).toBe(false);
    now += 1;
    expect(t.admit('a')).toBe(true);
    expect(lines).toEqual([expect.objectContaining({ level: 40, client: 'a', suppressed: 98, msg: 'suppressed 98 unexpected errors from a' })]);
  });

  it('bounds all clients together by overall', () => {
    const t = make();
    expect(['a', 'b', 'c'].map((client) => admitted(t, client, 3))).toEqual([3, 2, 0]);
    t.close();
    expect(lines.map((line) => [line.client, line.suppressed])).toEqual([['b', 1], ['c', 3]]);
  });

  it('tracks at most maxClients: the oldest is reported and dropped for a new one', () => {
    const t = make({ ...LIMITS, overall: 1000 });
    for (const client of ['a', 'b', 'c', 'd']) admitted(t, client, 4);
    expect(lines).toEqual([]);
    admitted(t, 'e', 1);
    expect(lines.map((line) => [line.client, line.suppressed])).toEqual([['a', 1]]);
  });

  it('sweeps ended windows (their summaries) without a new error', () => {
    const t = make();
    admitted(t, 'a', 5);
    now += 60_000;
    t.sweep();
    expect(lines.map((line) => [line.client, line.suppressed])).toEqual([['a', 2]]);
    t.close();
    expect(lines).toHaveLength(1);
  });
});
