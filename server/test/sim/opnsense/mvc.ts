// ApiMutableModelControllerBase: generic search/get/add/set/del/toggle over one model node
// (/work/shared/ref/opnsense.md §1.4–§1.6). Every endpoint family builds on it with a ModelDef.
import { renderGet, renderSearch, labelsOf, fieldsOf, scalarOf, REQUIRED_MESSAGE, type FieldContext, type FieldSpecs } from './fields.js';
import type { Fields, OpnSenseModel, RecordMap } from './model.js';
import { PhpError, requestValue, type Call, type JsonObject } from './router.js';

export interface ModelDef {
  /** The body key and the validation prefix: "server" → {"server":{…}}, "server.name". */
  key: string;
  records: (model: OpnSenseModel) => RecordMap;
  fields: FieldSpecs;
  /** Grid columns for versions with fixed lists (24.1 – 25.1.2); null = all fields. */
  searchColumns?: (call: Call) => string[] | null;
  /** Volatile fields left out of "all fields" grids (25.1.3 – 25.7.0 lost the server's interface). */
  searchOmits?: (call: Call) => string[];
  /** Model-level constraints on a record about to be saved: validations by field. */
  constraints?: (ctx: FieldContext, written: ReadonlySet<string>) => Partial<Record<string, string>>;
}

export type Validations = Record<string, string | string[]>;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const FAILED = { result: 'failed' };

function context(model: OpnSenseModel, uuid: string, record: Fields): FieldContext {
  return { model, uuid, record };
}

function fieldValue(def: ModelDef, ctx: FieldContext, name: string): string {
  const spec = def.fields[name];
  if (spec?.volatile) return spec.volatile(ctx);
  return ctx.record[name] ?? '';
}

/** A fresh record with every field's default (getBase without a UUID, addBase's start). */
export function defaultRecord(def: ModelDef, model: OpnSenseModel, uuid: string): Fields {
  const record: Fields = {};
  const ctx = context(model, uuid, record);
  for (const [name, spec] of fieldsOf(def.fields, model.version)) {
    if (spec.volatile) continue;
    record[name] = typeof spec.default === 'function' ? spec.default(ctx) : (spec.default ?? '');
  }
  return record;
}

/** setNodes(): declared, non-volatile fields only; unknown keys ignored. Returns the names written. */
export function applyWrite(def: ModelDef, model: OpnSenseModel, record: Fields, input: JsonObject): Set<string> {
  const written = new Set<string>();
  for (const [name, spec] of fieldsOf(def.fields, model.version)) {
    if (spec.volatile || !Object.hasOwn(input, name)) continue;
    const value = scalarOf(name, input[name], model.features.invalidInputType);
    record[name] = spec.normalize ? spec.normalize(value) : value;
    written.add(name);
  }
  return written;
}

function addMessage(validations: Validations, key: string, message: string): void {
  const current = validations[key];
  if (current === undefined) validations[key] = message;
  else validations[key] = [...(Array.isArray(current) ? current : [current]), message];
}

/** Validation of the written fields (every field on a new record) plus the model's constraints. */
export function validateRecord(def: ModelDef, ctx: FieldContext, written: ReadonlySet<string> | 'all'): Validations {
  const validations: Validations = {};
  for (const [name, spec] of fieldsOf(def.fields, ctx.model.version)) {
    if (spec.volatile || (written !== 'all' && !written.has(name))) continue;
    const value = ctx.record[name] ?? '';
    if (value === '') {
      if (spec.required) addMessage(validations, `${def.key}.${name}`, spec.requiredMessage ?? REQUIRED_MESSAGE);
      continue;
    }
    const message = spec.validate?.(value, ctx) ?? null;
    if (message !== null) addMessage(validations, `${def.key}.${name}`, message);
  }
  const all = written === 'all' ? new Set(Object.keys(def.fields)) : written;
  for (const [name, message] of Object.entries(def.constraints?.(ctx, all) ?? {})) if (message !== undefined) addMessage(validations, `${def.key}.${name}`, message);
  return validations;
}

/** The model key's object in the body, or null when absent / not an object. */
export function bodyObject(call: Call, key: string): JsonObject | null {
  const value = call.post[key];
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) throw new PhpError(`Cannot access offset on value of type ${typeof value}`);
  return value as JsonObject;
}

// ----- actions ------------------------------------------------------------------------------------

export function getBase(call: Call, def: ModelDef): unknown {
  const uuid = call.params[0];
  const records = def.records(call.model);
  let record: Fields | undefined;
  if (uuid === undefined) record = defaultRecord(def, call.model, '');
  else record = records.get(uuid);
  if (!record) return [];
  const ctx = context(call.model, uuid ?? '', record);
  const node: JsonObject = {};
  for (const [name, spec] of fieldsOf(def.fields, call.model.version)) node[name] = renderGet(spec, fieldValue(def, ctx, name), ctx);
  return { [def.key]: node };
}

export interface RowFilter {
  (uuid: string, record: Fields): boolean;
}

function gridRow(call: Call, def: ModelDef, uuid: string, record: Fields): JsonObject {
  const ctx = context(call.model, uuid, record);
  const shape = call.features.searchShape;
  const columns = def.searchColumns?.(call) ?? null;
  const omit = new Set(def.searchOmits?.(call) ?? []);
  const names = columns ?? fieldsOf(def.fields, call.model.version).map(([name]) => name).filter((name) => !omit.has(name));
  const row: JsonObject = { uuid };
  for (const name of names) {
    const spec = def.fields[name];
    if (!spec) continue;
    const value = fieldValue(def, ctx, name);
    row[name] = renderSearch(spec, value, ctx, shape);
    if (shape === 'raw' && spec.render === 'select') {
      const labels = labelsOf(spec, value, ctx).join(', ');
      if (labels !== value) row[`%${name}`] = labels;
    }
  }
  return row;
}

function intParam(value: unknown, fallback: number): number {
  const n = Number.parseInt(String(value ?? ''), 10);
  return Number.isNaN(n) ? fallback : n;
}

/** UIModelGrid: searchPhrase tokens AND-ed as substrings, sort, then the page. */
export function searchBase(call: Call, def: ModelDef, filter?: RowFilter): unknown {
  const current = Math.max(1, intParam(requestValue(call, 'current'), 1));
  const rowCount = intParam(requestValue(call, 'rowCount'), -1);
  const phrase = String(requestValue(call, 'searchPhrase') ?? '').toLowerCase();
  const tokens = phrase.split(/\s+/).filter((token) => token !== '');
  let rows = [...def.records(call.model).entries()]
    .filter(([uuid, record]) => !filter || filter(uuid, record))
    .map(([uuid, record]) => gridRow(call, def, uuid, record));
  rows = rows.filter((row) => tokens.every((token) => Object.entries(row).some(([name, value]) => {
    if (name === 'uuid' && !call.features.searchMatchesUuid) return false;
    return String(value).toLowerCase().includes(token);
  })));
  const sort = requestValue(call, 'sort');
  if (typeof sort === 'object' && sort !== null) {
    const [[column, direction] = []] = Object.entries(sort as JsonObject);
    if (column) {
      const sign = String(direction).toLowerCase() === 'desc' ? -1 : 1;
      rows.sort((a, b) => sign * String(a[column] ?? '').localeCompare(String(b[column] ?? '')));
    }
  }
  const total = rows.length;
  const page = rowCount < 0 ? rows : rows.slice((current - 1) * rowCount, current * rowCount);
  return { rows: page, rowCount: page.length, total, current };
}

export interface SaveHooks {
  /** Runs after validation passed, before the record is stored (write-through relations). */
  beforeSave?: (uuid: string, record: Fields, input: JsonObject) => void;
}

function store(call: Call, def: ModelDef, uuid: string, record: Fields, written: Set<string> | 'all', input: JsonObject, hooks: SaveHooks): JsonObject | null {
  const validations = validateRecord(def, context(call.model, uuid, record), written);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  hooks.beforeSave?.(uuid, record, input);
  def.records(call.model).set(uuid, record);
  call.model.save();
  return null;
}

export function addBase(call: Call, def: ModelDef, hooks: SaveHooks = {}): unknown {
  if (call.method !== 'POST') return FAILED;
  const input = bodyObject(call, def.key);
  if (!input) return FAILED;
  const uuid = call.model.newUuid();
  const record = defaultRecord(def, call.model, uuid);
  applyWrite(def, call.model, record, input);
  return store(call, def, uuid, record, 'all', input, hooks) ?? { result: 'saved', uuid };
}

/** A well-formed unknown UUID creates the record with that UUID (setBase's upsert). */
export function setBase(call: Call, def: ModelDef, hooks: SaveHooks = {}): unknown {
  const uuid = call.params[0] ?? '';
  if (call.method !== 'POST') return FAILED;
  const input = bodyObject(call, def.key);
  if (!input) return FAILED;
  const existing = def.records(call.model).get(uuid);
  if (!existing && !UUID.test(uuid)) return FAILED;
  const record = existing ? { ...existing } : defaultRecord(def, call.model, uuid.toLowerCase());
  const written = applyWrite(def, call.model, record, input);
  return store(call, def, existing ? uuid : uuid.toLowerCase(), record, existing ? written : 'all', input, hooks) ?? { result: 'saved' };
}

/** delX/<uuid>[,<uuid>…]: "deleted" when any was found. */
export function delBase(call: Call, def: ModelDef, onDeleted?: (uuid: string) => void): unknown {
  if (call.method !== 'POST') return FAILED;
  const records = def.records(call.model);
  let found = false;
  for (const uuid of (call.params[0] ?? '').split(',')) {
    if (!records.delete(uuid)) continue;
    found = true;
    onDeleted?.(uuid);
  }
  if (!found) return { result: 'not found' };
  call.model.save();
  return { result: 'deleted' };
}

/** toggleX/<uuid>[/<0|1>]: an unknown UUID reads an unset `changed` → PHP warning → 500 (§6 Q1). */
export function toggleBase(call: Call, def: ModelDef, enabledParam = true): unknown {
  if (call.method !== 'POST') return FAILED;
  const uuid = call.params[0] ?? '';
  const record = def.records(call.model).get(uuid);
  if (!record) throw new PhpError('Undefined array key "changed"');
  const wanted = enabledParam && call.params[1] !== undefined ? (call.params[1] === '1' ? '1' : '0') : record.enabled === '1' ? '0' : '1';
  const changed = record.enabled !== wanted;
  if (changed) {
    def.records(call.model).set(uuid, { ...record, enabled: wanted });
    call.model.save();
  }
  return { result: wanted === '1' ? 'Enabled' : 'Disabled', changed };
}
