// Generic endpoints over a config collection: singular GET/POST/PATCH/DELETE by id and
// plural GET/PUT/DELETE with query filters, plus child endpoints (tunnel addresses,
// allowed IPs) addressed by parent_id + id. Ids are whatever the store says they are.
import { addRoute, type Call, type Method, type Routes } from './call.js';
import { ApiError } from './envelope.js';
import { represent, validateObject, type FieldContext, type ModelSpec } from './fields.js';
import type { ApplyArea, PfSenseModel } from './model.js';
import type { Id, Obj, Store } from './store.js';

export interface Collection {
  spec: ModelSpec;
  store: (model: PfSenseModel) => Store;
  area?: ApplyArea;
  /** Adjusts PATCH input before validation (e.g. #902 address scrubbing). */
  beforeUpdate?: (input: Obj, existing: Obj, model: PfSenseModel) => void;
  /** Refuses deletes pfSense refuses (throws ApiError). */
  beforeDelete?: (id: Id, obj: Obj, model: PfSenseModel) => void;
  afterDelete?: (id: Id, obj: Obj, model: PfSenseModel) => void;
  /** Before a plural PUT replaces every object. */
  beforeReplace?: (model: PfSenseModel) => void;
  /** many_minimum: the last N objects cannot be deleted. */
  minimum?: number;
  /** Interfaces report which ids have pending changes. */
  pendingDetail?: boolean;
}

function objectData(call: Call): Obj {
  if (Array.isArray(call.data)) throw new ApiError(400, 'ENDPOINT_REQUEST_DATA_MUST_BE_ASSOCIATIVE_ARRAY', 'Request data must be an object.');
  return call.data;
}

function requireId(data: Obj, name = 'id', responseId = 'MODEL_REQUIRES_ID'): unknown {
  if (!(name in data) || data[name] === null || data[name] === '') throw new ApiError(400, responseId, `Field '${name}' is required.`);
  const id = data[name];
  delete data[name];
  return id;
}

function lookup(store: Store, id: unknown, parent = false): Obj {
  const obj = store.get(id);
  if (!obj) {
    throw parent
      ? new ApiError(404, 'MODEL_PARENT_OBJECT_NOT_FOUND', `Parent object with ID '${String(id)}' does not exist.`)
      : new ApiError(404, 'MODEL_OBJECT_NOT_FOUND', `Object with ID '${String(id)}' does not exist.`);
  }
  return obj;
}

function context(model: PfSenseModel, store: Store, selfId: Id | null, existing: Obj | null): FieldContext {
  return { env: model, siblings: store.entries(), selfId, existing };
}

function markWritten(call: Call, collection: Collection, id: Id): void {
  call.model.markDirty(collection.spec.subsystem, collection.pendingDetail ? String(id) : undefined);
  if (call.control.apply && collection.area) call.requestApply(collection.area, false);
}

/** field=value, field__startswith=…, etc.; unknown fields are ignored, as pfSense does. */
export function matchesQuery(obj: Obj, query: Obj): boolean {
  for (const [key, expected] of Object.entries(query)) {
    const [field = key, operator = 'exact'] = key.split('__');
    if (!(field in obj)) continue;
    const actual = obj[field];
    const text = actual === null ? null : Array.isArray(actual) ? actual.map(String) : String(actual);
    const wanted = expected === null ? null : String(expected);
    let ok: boolean;
    switch (operator) {
      case 'except':
        ok = text !== wanted;
        break;
      case 'startswith':
        ok = wanted !== null && typeof text === 'string' && text.startsWith(wanted);
        break;
      case 'endswith':
        ok = wanted !== null && typeof text === 'string' && text.endsWith(wanted);
        break;
      case 'contains':
        ok = wanted !== null && (Array.isArray(text) ? text.includes(wanted) : typeof text === 'string' && text.includes(wanted));
        break;
      default:
        ok = text === null || wanted === null ? actual === expected : text === wanted;
    }
    if (!ok) return false;
  }
  return true;
}

function paginate<T>(items: T[], call: Call): T[] {
  const { offset, limit } = call.control;
  return items.slice(offset, limit > 0 ? offset + limit : undefined);
}

export function addCollection(routes: Routes, singular: string, plural: string, collection: Collection, pluralMethods: readonly Method[]): void {
  const { spec } = collection;
  const out = (model: PfSenseModel, id: Id, obj: Obj) => represent(spec, obj, { id }, model);

  const remove = (call: Call, store: Store, id: Id, obj: Obj): Obj => {
    if (collection.minimum !== undefined && store.entries().length <= collection.minimum) {
      throw new ApiError(403, 'MODEL_MANY_MINIMUM_REACHED', `At least ${collection.minimum} object(s) must remain.`);
    }
    collection.beforeDelete?.(id, obj, call.model);
    const shown = out(call.model, id, obj);
    store.remove(id);
    collection.afterDelete?.(id, obj, call.model);
    markWritten(call, collection, id);
    return shown;
  };

  addRoute(routes, singular, {
    GET: (call) => {
      const store = collection.store(call.model);
      const id = requireId(objectData(call));
      return out(call.model, id as Id, lookup(store, id));
    },
    POST: (call) => {
      const store = collection.store(call.model);
      const input = objectData(call);
      delete input.id;
      const obj = validateObject(spec, input, context(call.model, store, null, null));
      const id = store.add(obj, call.control.placement);
      markWritten(call, collection, id);
      return out(call.model, id, obj);
    },
    PATCH: (call) => {
      const store = collection.store(call.model);
      const input = objectData(call);
      const id = requireId(input) as Id;
      const existing = lookup(store, id);
      collection.beforeUpdate?.(input, existing, call.model);
      if (call.control.append) {
        for (const [name, field] of Object.entries(spec.fields)) {
          if (field.type === 'nested' && Array.isArray(input[name])) input[name] = [...(existing[name] as Obj[] ?? []), ...(input[name] as Obj[])];
        }
      }
      const obj = validateObject(spec, input, context(call.model, store, id, existing));
      store.set(id, obj);
      markWritten(call, collection, id);
      return out(call.model, id, obj);
    },
    DELETE: (call) => {
      const store = collection.store(call.model);
      const id = requireId(objectData(call)) as Id;
      return remove(call, store, id, lookup(store, id));
    },
  });

  const handlers: Partial<Record<Method, (call: Call) => unknown>> = {
    GET: (call) => {
      const query = objectData(call);
      const shown = collection.store(call.model).entries().map(([id, obj]) => out(call.model, id, obj));
      return paginate(shown.filter((obj) => matchesQuery(obj, query)), call);
    },
    DELETE: (call) => {
      const query = objectData(call);
      if (Object.keys(query).length === 0 && !call.control.all) {
        throw new ApiError(400, 'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS', 'At least one query parameter or `all` is required to delete many objects.');
      }
      const store = collection.store(call.model);
      const targets = store.entries().filter(([id, obj]) => matchesQuery(out(call.model, id, obj), query));
      // Reverse order so that earlier positions stay valid while deleting (ModelSet::delete()).
      return targets.reverse().map(([id, obj]) => remove(call, store, id, obj)).reverse();
    },
    PUT: (call) => {
      if (!Array.isArray(call.data)) throw new ApiError(400, 'ENDPOINT_REQUEST_DATA_MUST_BE_INDEXED_ARRAY', 'Request data must be an indexed array.');
      const store = collection.store(call.model);
      const created: Array<[Id, Obj]> = [];
      for (const item of call.data as Obj[]) {
        const { id: _id, ...input } = item;
        created.push([created.length, validateObject(spec, input, { env: call.model, siblings: created, selfId: null, existing: null })]);
      }
      collection.beforeReplace?.(call.model);
      store.replaceAll(created.map(([, obj]) => obj));
      call.model.markDirty(spec.subsystem);
      return store.entries().map(([id, obj]) => out(call.model, id, obj));
    },
  };
  addRoute(routes, plural, Object.fromEntries(pluralMethods.map((method) => [method, handlers[method]])));
}

/** Child models live in an array field of their parent (tunnel.addresses, peer.allowedips). */
export function addChildCollection(routes: Routes, singular: string, plural: string, parent: Collection, field: string, spec: ModelSpec): void {
  const out = (model: PfSenseModel, parentId: Id, id: number, obj: Obj) => represent(spec, obj, { parent_id: parentId, id }, model);
  const childContext = (model: PfSenseModel, owner: Obj, selfId: number | null, existing: Obj | null): FieldContext => ({
    env: model,
    siblings: (owner[field] as Obj[] ?? []).map((child, index) => [index, child]),
    selfId,
    existing,
    owner,
  });
  const open = (call: Call, needId: boolean) => {
    const data = objectData(call);
    const parentId = requireId(data, 'parent_id', 'MODEL_PARENT_ID_REQUIRED') as Id;
    const owner = lookup(parent.store(call.model), parentId, true);
    const children = [...(owner[field] as Obj[] ?? [])];
    const id = needId ? (requireId(data) as number) : null;
    if (id !== null && !children[id]) throw new ApiError(404, 'MODEL_OBJECT_NOT_FOUND', `Object with ID '${id}' does not exist.`);
    return { data, parentId, owner, children, id };
  };
  // Child models have no subsystem: writes do not mark anything pending (pfsense.md §2.3).
  const save = (call: Call, parentId: Id, owner: Obj, children: Obj[]) => {
    parent.store(call.model).set(parentId, { ...owner, [field]: children });
    if (call.control.apply && parent.area) call.requestApply(parent.area, false);
  };

  addRoute(routes, singular, {
    GET: (call) => {
      const { parentId, children, id } = open(call, true);
      return out(call.model, parentId, id as number, children[id as number] as Obj);
    },
    POST: (call) => {
      const { data, parentId, owner, children } = open(call, false);
      delete data.id;
      const obj = validateObject(spec, data, childContext(call.model, owner, null, null));
      children.push(obj);
      save(call, parentId, owner, children);
      return out(call.model, parentId, children.length - 1, obj);
    },
    PATCH: (call) => {
      const { data, parentId, owner, children, id } = open(call, true);
      const obj = validateObject(spec, data, childContext(call.model, owner, id, children[id as number] as Obj));
      children[id as number] = obj;
      save(call, parentId, owner, children);
      return out(call.model, parentId, id as number, obj);
    },
    DELETE: (call) => {
      const { parentId, owner, children, id } = open(call, true);
      const [removed] = children.splice(id as number, 1);
      save(call, parentId, owner, children);
      return out(call.model, parentId, id as number, removed as Obj);
    },
  });

  const all = (model: PfSenseModel) => parent.store(model).entries().flatMap(([parentId, owner]) =>
    (owner[field] as Obj[] ?? []).map((child, index) => ({ parentId, index, shown: out(model, parentId, index, child) })));
  addRoute(routes, plural, {
    GET: (call) => paginate(all(call.model).map((entry) => entry.shown).filter((obj) => matchesQuery(obj, objectData(call))), call),
    DELETE: (call) => {
      const query = objectData(call);
      if (Object.keys(query).length === 0 && !call.control.all) {
        throw new ApiError(400, 'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS', 'At least one query parameter or `all` is required to delete many objects.');
      }
      const targets = all(call.model).filter((entry) => matchesQuery(entry.shown, query)).reverse();
      const store = parent.store(call.model);
      for (const { parentId, index } of targets) {
        const owner = store.get(parentId) as Obj;
        const children = [...(owner[field] as Obj[])];
        children.splice(index, 1);
        store.set(parentId, { ...owner, [field]: children });
      }
      return targets.reverse().map((entry) => entry.shown);
    },
  });
}
