// RouterOS value formats shared by the API and REST (routeros.md §3.1–3.3): booleans out
// as `true`/`false`, in as yes/no/true/false; durations like `1m23s`; `.id` as `*HEX`.

export function formatBool(value: boolean): string {
  return value ? 'true' : 'false';
}

/** `yes`/`true` → true, `no`/`false` → false, anything else → undefined. */
export function parseBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  return undefined;
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 604_800],
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/** Whole seconds as RouterOS prints them: 83 → `1m23s`, 0 → `0s`. */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.floor(totalSeconds));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** Milliseconds with sub-second precision, as ping prints times (`453us`, `1ms200us`). */
export function formatRtt(microseconds: number): string {
  const us = Math.max(0, Math.round(microseconds));
  const ms = Math.floor(us / 1000);
  const rest = us % 1000;
  if (ms === 0) return `${rest}us`;
  return rest === 0 ? `${ms}ms` : `${ms}ms${rest}us`;
}

const DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const CLOCK = /^(?:(\d+)d\s*)?(\d+):(\d{2}):(\d{2})$/;

/** Accepts `25`, `25s`, `1m5s`, `1d`, `00:00:10`; returns whole seconds or undefined. */
export function parseDuration(input: string): number | undefined {
  const value = input.trim();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const clock = CLOCK.exec(value);
  if (clock) {
    const [, d = '0', h = '0', m = '0', s = '0'] = clock;
    return Number(d) * 86_400 + Number(h) * 3_600 + Number(m) * 60 + Number(s);
  }
  const match = DURATION.exec(value);
  if (!match || value === '') return undefined;
  const [, w = '0', d = '0', h = '0', m = '0', s = '0', ms = '0'] = match;
  return Number(w) * 604_800 + Number(d) * 86_400 + Number(h) * 3_600 + Number(m) * 60 + Number(s) + Math.floor(Number(ms) / 1000);
}

export function formatId(n: number): string {
  return `*${n.toString(16).toUpperCase()}`;
}

/** `*1A` → 26; anything that is not an internal id → undefined. */
export function parseId(value: string): number | undefined {
  if (!/^\*[0-9a-fA-F]{1,8}$/.test(value)) return undefined;
  return parseInt(value.slice(1), 16);
}
