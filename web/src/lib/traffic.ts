// Traffic history display: rates in bytes per second with decimal units (as interfaces are
// rated), ages in seconds, minutes, hours; "last seen" in words.
import { ago } from './format';

const RATE_UNITS = ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s'];

/** 1234 → "1.23 kB/s"; null → "unknown". */
export function rate(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined) return 'unknown';
  let value = bytesPerSecond;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < RATE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${RATE_UNITS[unit]}`;
}

/** 42 → "42 s", 150 → "2.5 min", 7200 → "2 h", 172800 → "2 d"; null → "no handshake". */
export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'no handshake';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${+(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${+(seconds / 3600).toFixed(1)} h`;
  return `${+(seconds / 86_400).toFixed(1)} d`;
}

/**
 * The peer table's words: "last seen 3 min ago"; "never seen" when the devices that see it
 * report no handshake yet; "unknown (no statistics)" when no device reports it at all.
 */
export function lastSeenText(lastSeen: string | null | undefined, reported: boolean, now = Date.now()): string {
  if (lastSeen) return `last seen ${ago(lastSeen, now)}`;
  return reported ? 'never seen' : 'unknown (no statistics)';
}
