// RouterOS value formats (ref/routeros.md §3.2-3.3): durations such as `1w2d3h4m5s`,
// `453us` or `00:00:10`, booleans as true/false (yes/no on input and in old output), and
// comma-separated lists. Pure.

const UNITS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
const COMPACT = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?(?:(\d+)us)?$/;
const CLOCK = /^(?:(\d+)d\s*)?(\d{1,2}):(\d{2}):(\d{2})$/;

/**
 * Milliseconds in a RouterOS duration, or null for "never", empty or unreadable text.
 * A bare number means seconds.
 */
export function parseDuration(text: string | undefined): number | null {
  const value = (text ?? '').trim();
  if (value === '' || value === 'never') return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const clock = CLOCK.exec(value);
  if (clock) {
    const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = clock;
    return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000;
  }
  const match = COMPACT.exec(value);
  if (!match || match.slice(1).every((part) => part === undefined)) return null;
  const names = ['w', 'd', 'h', 'm', 's', 'ms', 'us'];
  return match.slice(1).reduce((total, part, index) => total + (part === undefined ? 0 : Number(part) * (UNITS[names[index] as string] as number)), 0);
}

/** Whole seconds as RouterOS prints them: 0 → "0s", 25 → "25s", 3725 → "1h2m5s". */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`not a duration in seconds: ${seconds}`);
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['w', 604_800], ['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.join('');
}

/** "true"/"false" for any spelling RouterOS reads or writes; other text unchanged. */
export function normalizeBoolean(value: string): string {
  const lower = value.trim().toLowerCase();
  if (lower === 'yes' || lower === 'true') return 'true';
  if (lower === 'no' || lower === 'false') return 'false';
  return value;
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && normalizeBoolean(value) === 'true';
}

export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** An address with its prefix length (RouterOS assumes /32 when none is given). */
export function withPrefix(address: string): string {
  return address.includes('/') || address.includes(':') ? address : `${address}/32`;
}

/** A byte counter as a canonical decimal string (BigInt-safe); unreadable → "0". */
export function counter(value: string | undefined): string {
  const text = (value ?? '').trim();
  return /^\d+$/.test(text) ? BigInt(text).toString() : '0';
}
