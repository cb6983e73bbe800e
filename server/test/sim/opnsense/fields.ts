// OPNsense MVC field types (/work/shared/ref/opnsense.md §1.3, §1.5, §2.3, §2.4, §5.2): how a
// written scalar is taken (or refused), validated with the model's messages, and rendered in the
// read form (`get`) and the grid form (`search`, per version: §1.6).
import { tryParseAddress, tryParseCidr } from '../../../src/domain/ip.js';
import type { Fields, OpnSenseModel } from './model.js';
import { PhpError } from './router.js';
import { atLeast, type SearchShape } from './versions.js';

export interface FieldContext {
  model: OpnSenseModel;
  uuid: string;
  /** The record as it will be saved. */
  record: Fields;
}

export type Options = Array<[key: string, label: string]>;

export interface FieldSpec {
  /** plain: a string; select: option/relation map; aslist: current-values map (NetworkField AsList). */
  render: 'plain' | 'select' | 'aslist';
  required?: boolean;
  requiredMessage?: string;
  default?: string | ((ctx: FieldContext) => string);
  /** Error message for a value, or null when valid (value is not empty). */
  validate?: (value: string, ctx: FieldContext) => string | null;
  /** Select fields: every option with its label. */
  options?: (ctx: FieldContext) => Options;
  multiple?: boolean;
  /** Stored as written after this (NetworkField lower-cases). */
  normalize?: (value: string) => string;
  /** Not stored: computed on read (ServerField's interface, client servers). */
  volatile?: (ctx: FieldContext) => string;
  /** First version with the field. */
  since?: string;
}

export type FieldSpecs = Record<string, FieldSpec>;

export function fieldsOf(specs: FieldSpecs, version: string): Array<[string, FieldSpec]> {
  return Object.entries(specs).filter(([, spec]) => spec.since === undefined || atLeast(version, spec.since));
}

// ----- validators (messages verbatim where the reference quotes them) ---------------------------

export const BOOLEAN_MESSAGE = 'Value should be a boolean (0,1).';
export const REQUIRED_MESSAGE = 'A value is required.';
export const NETWORK_MESSAGE = 'Please specify a valid network segment or IP address.';
export const PORT_MESSAGE = 'Please specify a valid port number (1-65535).';
export const INTEGER_MESSAGE = 'Invalid integer value.';

export const booleanField = (fallback: string, since?: string): FieldSpec => ({
  render: 'plain', required: true, default: fallback, since,
  validate: (value) => (value === '0' || value === '1' ? null : BOOLEAN_MESSAGE),
});

export const textField = (mask?: RegExp, message = 'Text does not validate.', required = false): FieldSpec => ({
  render: 'plain', required, validate: (value) => (mask === undefined || mask.test(value) ? null : message),
});

export const integerField = (min: number, max: number, message = INTEGER_MESSAGE): FieldSpec => ({
  render: 'plain', validate: (value) => (/^-?\d+$/.test(value) && Number(value) >= min && Number(value) <= max ? null : message),
});

export const portField = (): FieldSpec => ({
  render: 'plain', validate: (value) => (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535 ? null : PORT_MESSAGE),
});

/** Base64Field only checks that the text round-trips through base64, not that it is 32 bytes. */
export function isBase64(value: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0 && Buffer.from(value, 'base64').toString('base64') === value;
}

export const base64Field = (required = false, requiredMessage?: string): FieldSpec => ({
  render: 'plain', required, requiredMessage, validate: (value) => (isBase64(value) ? null : 'Invalid base64 value.'),
});

export interface NetworkOptions {
  asList?: boolean;
  /** A mask is required (peer AllowedIPs 24.1.4+). */
  maskRequired?: (ctx: FieldContext) => boolean;
  /** No mask allowed (dns, gateway). */
  noMask?: boolean;
  required?: boolean;
}

function validNetwork(item: string, maskRequired: boolean, noMask: boolean): boolean {
  const hasMask = item.includes('/');
  if (hasMask && noMask) return false;
  if (!hasMask && maskRequired) return false;
  return hasMask ? tryParseCidr(item) !== null : tryParseAddress(item) !== null;
}

export const networkField = (options: NetworkOptions = {}): FieldSpec => ({
  render: options.asList ? 'aslist' : 'plain',
  required: options.required,
  normalize: (value) => value.toLowerCase(),
  validate: (value, ctx) => {
    const items = options.asList ? value.split(',') : [value];
    const maskRequired = options.maskRequired?.(ctx) ?? false;
    return items.every((item) => validNetwork(item.trim(), maskRequired, options.noMask ?? false)) ? null : NETWORK_MESSAGE;
  },
});

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export const hostOrIpField = (): FieldSpec => ({
  render: 'plain',
  validate: (value) => (tryParseAddress(value) !== null || HOSTNAME.test(value) ? null : `[${value}] is not a valid IP address or hostname.`),
});

export const relationField = (options: (ctx: FieldContext) => Options, message: string, multiple = true): FieldSpec => ({
  render: 'select', multiple, options,
  validate: (value, ctx) => {
    const known = new Set(options(ctx).map(([key]) => key));
    return value.split(',').every((key) => known.has(key)) ? null : message;
  },
});

export const optionField = (options: (ctx: FieldContext) => Options, message = 'Option not in list.', multiple = false): FieldSpec => ({
  render: 'select', multiple, options,
  validate: (value, ctx) => {
    const known = new Set(options(ctx).map(([key]) => key));
    return value.split(',').every((key) => known.has(key)) ? null : message;
  },
});

// ----- writing ------------------------------------------------------------------------------------

/**
 * One written leaf as BaseField::setNodes() takes it: numbers and `true` cast to strings, `false`
 * and null to "", an object or array refused (26.1.11+ with its own message; before, PHP's
 * "Array to string conversion" — both a 500).
 */
export function scalarOf(name: string, value: unknown, invalidInputType: boolean): string {
  if (value === null || value === undefined || value === false) return '';
  if (value === true) return '1';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  throw new PhpError(invalidInputType ? `Invalid input type for ${name}: expected a single value` : 'Array to string conversion');
}

// ----- reading ------------------------------------------------------------------------------------

function selectedKeys(value: string): string[] {
  return value === '' ? [] : value.split(',');
}

/** getNodes(): the read form (§1.5). */
export function renderGet(spec: FieldSpec, value: string, ctx: FieldContext): unknown {
  if (spec.render === 'plain') return value;
  if (spec.render === 'aslist') {
    const items = selectedKeys(value);
    if (items.length === 0) return { '': { value: '', selected: 1 } };
    return Object.fromEntries(items.map((item) => [item, { value: item, selected: 1 }]));
  }
  const selected = new Set(selectedKeys(value));
  const map: Record<string, { value: string; selected: number }> = {};
  if (!spec.multiple && !spec.required) map[''] = { value: 'None', selected: selected.size === 0 ? 1 : 0 };
  for (const [key, label] of spec.options?.(ctx) ?? []) map[key] = { value: label, selected: selected.has(key) ? 1 : 0 };
  return map;
}

/** The labels of a select field's selected keys (getDescription / getNodeData). */
export function labelsOf(spec: FieldSpec, value: string, ctx: FieldContext): string[] {
  const labels = new Map(spec.options?.(ctx) ?? []);
  return selectedKeys(value).map((key) => labels.get(key) ?? key);
}

/** One grid cell (§1.6): labels joined by "," (24.1) or ", " (24.7+), or the raw value (25.7.1+). */
export function renderSearch(spec: FieldSpec, value: string, ctx: FieldContext, shape: SearchShape): string {
  if (spec.render !== 'select' || shape === 'raw') return value;
  return labelsOf(spec, value, ctx).join(shape === 'fixed-comma' ? ',' : ', ');
}
