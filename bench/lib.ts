// Shared helpers for the bench suite: timing, percentiles, process memory, the result record.
import fs from 'node:fs';
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
