// Field declarations and their validation, after pfSense's Field.inc / Model.inc: type
// checks are strict for JSON input, defaults fill omitted fields on create, conditional
// fields are forced to null when their condition does not hold, and nested arrays
// re-throw their items' errors as 400 with the "nested validation error" prefix.
import { ApiError } from './envelope.js';
import type { PfSenseModel } from './model.js';
import type { Id, Obj, Store } from './store.js';

/** What validation needs from the surrounding system. */
export interface Environment {
  readonly state: PfSenseModel;
  /** Interface reference as the API represents it (descr, id or if) → interface id; null when unknown. */
  interfaceId(value: string): string | null;
  interfaceName(id: string): string;
  readonly exposeSensitive: boolean;
  /** Whether a hidden field of a model is shown (expose_sensitive_fields, or "Model:field" in override_sensitive_fields). */
  showsHidden(model: string, field: string): boolean;
}

export interface FieldContext {
  env: Environment;
  /** The collection the object lives in (uniqueness); for nested items, its siblings. */
  siblings: Array<[Id, Obj]>;
  selfId: Id | null;
  existing: Obj | null;
  /** For nested items: the parent object as stored before this write. */
  owner?: Obj | null;
}

export interface FieldSpec {
  type: 'string' | 'integer' | 'boolean' | 'nested' | 'strings';
  required?: boolean;
  default?: unknown;
  /** Default computed on create (e.g. the next free tun_wgN). */
  defaultFrom?: (ctx: FieldContext) => unknown;
  nullable?: boolean;
  readOnly?: boolean;
  /** false: a PATCH that changes it is refused. */
  editable?: boolean;
  unique?: boolean;
  /** Sensitive / write-only: never echoed unless sensitive fields are exposed. */
  hidden?: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
  maxLength?: number;
  /** Conditional field: null unless the condition holds on the merged object. */
  when?: (obj: Obj) => boolean;
  check?: (value: unknown, ctx: FieldContext, obj: Obj) => void;
  item?: ModelSpec;
  /** An interface reference (or a list of them), stored as the interface id. */
  iface?: boolean;
}

export interface ModelSpec {
  name: string;
  fields: Record<string, FieldSpec>;
  uniqueTogether?: readonly string[];
  subsystem?: string;
  /** Cross-field checks after the fields passed. */
  check?: (obj: Obj, ctx: FieldContext) => void;
  /** Derived values (e.g. the public key from the private key). */
  finish?: (obj: Obj, ctx: FieldContext) => void;
}

export function invalid(responseId: string, message: string, code = 400): ApiError {
  return new ApiError(code, responseId, message);
}

function typeName(spec: FieldSpec): string {
  return spec.type === 'nested' || spec.type === 'strings' ? 'array' : spec.type;
}

function checkType(name: string, spec: FieldSpec, value: unknown): void {
  const ok =
    spec.type === 'string' ? typeof value === 'string'
      : spec.type === 'integer' ? Number.isInteger(value)
        : spec.type === 'boolean' ? typeof value === 'boolean'
          : spec.type === 'strings' ? Array.isArray(value) && value.every((item) => typeof item === 'string')
            : Array.isArray(value) && value.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item));
  if (!ok) throw invalid('FIELD_INVALID_TYPE', `Field '${name}' must be of type '${typeName(spec)}'`);
}

function checkIface(name: string, value: string, ctx: FieldContext): string {
  if (value === 'any') return value;
  const id = ctx.env.interfaceId(value);
  if (id === null) throw invalid('FIELD_INVALID_CHOICE', `Field '${name}' must be one of the configured interfaces. Received '${value}'.`);
  return id;
}

function validateValue(name: string, spec: FieldSpec, value: unknown, ctx: FieldContext, obj: Obj): unknown {
  checkType(name, spec, value);
  if (spec.choices && !spec.choices.includes(value as string)) {
    throw invalid('FIELD_INVALID_CHOICE', `Field '${name}' must be one of [${spec.choices.join(', ')}]. Received '${String(value)}'.`);
  }
  if (typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min) throw invalid('NUMERIC_RANGE_VALIDATOR_MINIMUM_CONSTRAINT', `Field '${name}' must be greater than or equal to '${spec.min}'. Received '${value}'`);
    if (spec.max !== undefined && value > spec.max) throw invalid('NUMERIC_RANGE_VALIDATOR_MAXIMUM_CONSTRAINT', `Field '${name}' must be less than or equal to '${spec.max}'. Received '${value}'`);
  }
  if (typeof value === 'string' && spec.maxLength !== undefined && value.length > spec.maxLength) {
    throw invalid('LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT', `Field '${name}' exceeds the maximum character length of '${spec.maxLength}'.`);
  }
  if (spec.iface) value = Array.isArray(value) ? value.map((entry) => checkIface(name, entry as string, ctx)) : checkIface(name, value as string, ctx);
  if (spec.item) value = validateNested(name, spec.item, value as Obj[], ctx);
  if (spec.unique) {
    const other = ctx.siblings.find(([id, item]) => id !== ctx.selfId && item[name] === value);
    if (other) throw invalid('FIELD_MUST_BE_UNIQUE', `Field '${name}' must be unique. Value is in use by object with ID '${other[0]}'.`);
  }
  spec.check?.(value, ctx, obj);
  return value;
}

function validateNested(name: string, item: ModelSpec, values: Obj[], ctx: FieldContext): Obj[] {
  const done: Array<[Id, Obj]> = [];
  try {
    for (const value of values) {
      const { parent_id: _parent, id: _id, ...input } = value;
      done.push([done.length, validateObject(item, input, { ...ctx, siblings: done, selfId: done.length, existing: null, owner: ctx.existing })]);
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    throw invalid(error.responseId, `Field '${name}' encountered a nested validation error: ${error.message}`);
  }
  return done.map(([, obj]) => obj);
}

/** Validates a create (existing null) or an update merged over the existing object. */
export function validateObject(spec: ModelSpec, input: Obj, ctx: FieldContext): Obj {
  const existing = ctx.existing;
  const obj: Obj = existing ? { ...existing } : {};
  for (const [name, field] of Object.entries(spec.fields)) {
    const given = Object.hasOwn(input, name) && input[name] !== undefined;
    if (field.readOnly) {
      if (existing && field.editable === false && given && input[name] !== existing[name]) {
        throw invalid('FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE', `Field '${name}' cannot be changed after creation.`);
      }
      if (!existing) obj[name] = field.defaultFrom ? field.defaultFrom(ctx) : field.default;
      continue;
    }
    if (given) {
      if (existing && field.editable === false && input[name] !== existing[name]) {
        throw invalid('FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE', `Field '${name}' cannot be changed after creation.`);
      }
      obj[name] = input[name];
    } else if (!existing) {
      obj[name] = field.defaultFrom ? field.defaultFrom(ctx) : field.default;
    }
  }
  for (const [name, field] of Object.entries(spec.fields)) {
    if (field.readOnly) continue;
    if (field.when && !field.when(obj)) {
      obj[name] = null;
      continue;
    }
    const value = obj[name];
    if (value === undefined || (value === null && !field.nullable)) {
      if (field.required) throw invalid('FIELD_IS_REQUIRED', `Field '${name}' is required.`);
      obj[name] = field.nullable ? null : field.default ?? null;
      continue;
    }
    if (value === null) continue;
    // An interface reference kept from the stored object is already an interface id.
    if (field.iface && existing && !(Object.hasOwn(input, name) && input[name] !== undefined)) continue;
    obj[name] = validateValue(name, field, value, ctx, obj);
  }
  if (spec.uniqueTogether) {
    const together = spec.uniqueTogether;
    const clash = ctx.siblings.find(([id, other]) => id !== ctx.selfId && together.every((name) => other[name] === obj[name]));
    if (clash) throw invalid('MODEL_FIELDS_NOT_UNIQUE_TOGETHER', `Fields ${together.map((name) => `'${name}'`).join(', ')} must be unique together. Values are in use by object with ID '${clash[0]}'.`);
  }
  spec.check?.(obj, ctx);
  spec.finish?.(obj, ctx);
  return obj;
}

/** The API representation: id first, hidden fields omitted, interface ids represented. */
export function represent(spec: ModelSpec, obj: Obj, ids: { id: Id; parent_id?: Id }, env: Environment): Obj {
  const out: Obj = { ...ids };
  for (const [name, field] of Object.entries(spec.fields)) {
    if (field.hidden && !env.showsHidden(spec.name, name)) continue;
    let value = obj[name];
    if (field.iface && value !== null && value !== undefined) {
      value = Array.isArray(value) ? value.map((entry) => (entry === 'any' ? entry : env.interfaceName(entry as string))) : value === 'any' ? value : env.interfaceName(value as string);
    }
    if (field.item && Array.isArray(value)) {
      const item = field.item;
      value = value.map((child, index) => represent(item, child as Obj, { parent_id: ids.id, id: index }, env));
    }
    out[name] = value ?? null;
  }
  return out;
}

export function storeContext(env: Environment, store: Store, selfId: Id | null, existing: Obj | null): FieldContext {
  return { env, siblings: store.entries(), selfId, existing };
}
