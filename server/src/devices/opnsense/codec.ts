// Pure translation of OPNsense's read form into plan props (strings) and of plan props
// into its write form. A get reply renders option, relation and list fields as maps
// ({"key":{"value":label,"selected":0|1}}); writes take scalars only (comma strings,
// "0"/"1"), and a map sent back is a 500. Keys starting with "%" are labels (26.7+).
import type { KindSpec } from './kinds.js';
import { wireName } from './kinds.js';

export type DeviceObject = Record<string, unknown>;

function isSelected(entry: unknown): boolean {
  const selected = (entry as { selected?: unknown } | null)?.selected;
  return selected === 1 || selected === true || selected === '1';
}

/** One field of a get reply as a string: a map becomes its selected keys, sorted and comma-joined. */
export function scalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.map(scalar).filter((item) => item !== '').sort().join(',');
  return Object.entries(value as Record<string, unknown>).filter(([key, entry]) => key !== '' && isSelected(entry)).map(([key]) => key).sort().join(',');
}

/** Every field of a get reply or search row as a string, labels ("%…") dropped. */
export function flatten(obj: DeviceObject): Record<string, string> {
  return Object.fromEntries(Object.entries(obj).filter(([key]) => !key.startsWith('%')).map(([key, value]) => [key, scalar(value)]));
}

/** A comma list as Meshplane compares it: trimmed, empty entries dropped, sorted. */
export function sortedList(value: string): string {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '').sort().join(',');
}

/** The write body (`{"<model>": {...}}`) for the given plan props; read-only props are never sent. */
export function encodeBody(spec: KindSpec, props: Readonly<Record<string, string>>, resolve: (prop: string, value: string) => string = (_prop, value) => value): Record<string, unknown> {
  const fields: Record<string, string> = {};
  for (const [prop, value] of Object.entries(props)) {
    const codec = spec.props[prop];
    if (codec === undefined || codec === 'readOnly') continue;
    fields[wireName(spec, prop)] = resolve(prop, value);
  }
  return { [spec.model]: fields };
}
