// Shared helpers for the bench suite: timing, percentiles, process memory, the result record.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const rootDir = path.resolve(benchDir, '..');
export const serverDir = path.join(rootDir, 'server');

/** One measured number: what, how much, in which unit, and the target it is held against. */
export interface Metric {
  bench: string;
  name: string;
  value: number;
  unit: string;
  target?: string;
  /** true/false when the metric has a target, undefined otherwise. */
  met?: boolean;
  note?: string;
}

/** Each bench child prints one line `BENCH-RESULT <json>` on stdout; run.ts collects them. */
export function report(metrics: Metric[], extra: Record<string, unknown> = {}): void {
  process.stdout.write(`BENCH-RESULT ${JSON.stringify({ metrics, extra })}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const MB = 1024 * 1024;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', `meshplane-bench-${prefix}-`));
}

/** A silent logger for in-process apps. */
export async function silentLogger() {
  const { createLogger } = await import('../server/src/infra/logger.js');
  return createLogger('silent');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Fails the bench (not silently hangs) when a phase takes longer than `ms`. */
export function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: gave up after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The 1/5/15-minute load average, printed beside every number (the machine is shared). */
export function loadAverage(): string {
  return os.loadavg().map((value) => value.toFixed(2)).join(' ');
}

/**
 * Times `run(i)` up to `count` times, stopping early once `budgetMs` is spent (always at least
 * once): a slow phase yields fewer samples instead of overrunning the bench's time limit.
 * Returns the durations in ms, sorted.
 */
export async function sample(count: number, budgetMs: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count && (i === 0 || performance.now() - started < budgetMs); i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** "p50 x ms, p99 y ms, n samples" for a note. */
export function spread(sorted: readonly number[]): string {
  return `p50 ${round(percentile(sorted, 50))} ms, p99 ${round(percentile(sorted, 99))} ms, max ${round(sorted[sorted.length - 1] ?? NaN)} ms, ${sorted.length} samples`;
}

/** The WanPage operation and the fragments it uses, read from the web UI's documents. */
export function wanPageDocument(extraPeerFields = ''): string {
  return webDocument('WanPage', extraPeerFields);
}

/** A query of the web UI (by operation name) and the fragments it uses, read from its documents. */
export function webDocument(operationName: string, extraPeerFields = ''): string {
  const dir = path.join(rootDir, 'web', 'src', 'lib', 'graphql');
  const blocks = fs.readdirSync(dir).filter((file) => file.endsWith('.ts'))
    .flatMap((file) => [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/graphql\(`([\s\S]*?)`\)/g)].map((match) => match[1] as string));
  const fragments = new Map<string, string>();
  for (const block of blocks) {
    const name = /fragment\s+(\w+)\s+on/.exec(block)?.[1];
    if (name) fragments.set(name, block);
  }
  const operation = blocks.find((block) => new RegExp(`query\\s+${operationName}\\b`).test(block));
  if (!operation) throw new Error(`${operationName} query not found under web/src/lib/graphql`);
  const withExtra = extraPeerFields ? operation.replace('...PeerRow', `...PeerRow\n${extraPeerFields}`) : operation;
  const used = new Set<string>();
  const collect = (text: string) => {
    for (const match of text.matchAll(/\.\.\.(\w+)/g)) {
      const name = match[1] as string;
      if (used.has(name)) continue;
      const fragment = fragments.get(name);
      if (!fragment) throw new Error(`fragment ${name} not found`);
      used.add(name);
      collect(fragment);
    }
  };
  collect(withExtra);
  return [withExtra, ...[...used].map((name) => fragments.get(name) as string)].join('\n');
}
