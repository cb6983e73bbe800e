// Where pfSense reads request data from (ContentHandler.inc): exactly one source, chosen
// by Content-Type alone. JSON reads only the body, so a GET carrying a JSON content type
// ignores its query string; URL-encoded data comes from the query string, or the body
// when the query string is empty, with "+" decoded as a space and values type-inferred.
import { ApiError } from './envelope.js';

export type RequestData = Record<string, unknown> | unknown[];

function inferType(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'null') return null;
  if (/^-?\d+$/.test(value)) return Number(value);
  if (/^-?\d+\.\d+$/.test(value)) return Number(value);
  return value;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

export function parseForm(text: string): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = inferType(decodeComponent(eq === -1 ? '' : pair.slice(eq + 1)));
    if (name.endsWith('[]')) {
      const key = name.slice(0, -2);
      const list = Array.isArray(data[key]) ? (data[key] as unknown[]) : [];
      list.push(value);
      data[key] = list;
    } else {
      data[name] = value;
    }
  }
  return data;
}

export function readRequestData(method: string, contentType: string | undefined, query: string, body: string): RequestData {
  const fallback = method === 'GET' || method === 'DELETE' ? 'application/x-www-form-urlencoded' : 'application/json';
  const mediaType = (contentType ?? fallback).split(';')[0]?.trim().toLowerCase() || fallback;
  if (mediaType === 'application/json') {
    if (body.trim() === '') return {};
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed !== null && typeof parsed === 'object') return parsed as RequestData;
    } catch {
      // fall through to the decode error
    }
    throw new ApiError(400, 'JSON_CONTENT_HANDLER_COULD_NOT_DECODE_JSON', 'Request body could not be decoded as JSON.');
  }
  if (mediaType === 'application/x-www-form-urlencoded') return parseForm(query !== '' ? query : body);
  throw new ApiError(415, 'CONTENT_HANDLER_DECODE_NOT_FOUND', `Unsupported content type ${mediaType}.`);
}

/** Control parameters, removed from the data and strictly type-checked (Endpoint.inc). */
export interface ControlParameters {
  apply: boolean;
  async: boolean;
  limit: number;
  offset: number;
  placement: number | null;
  append: boolean;
  all: boolean;
}

const CONTROL_TYPES: Record<keyof ControlParameters, 'boolean' | 'integer'> = {
  apply: 'boolean',
  async: 'boolean',
  limit: 'integer',
  offset: 'integer',
  placement: 'integer',
  append: 'boolean',
  all: 'boolean',
};

export function takeControlParameters(data: Record<string, unknown>): ControlParameters {
  const control: ControlParameters = { apply: false, async: true, limit: 0, offset: 0, placement: null, append: false, all: false };
  for (const [name, type] of Object.entries(CONTROL_TYPES) as Array<[keyof ControlParameters, 'boolean' | 'integer']>) {
    if (!(name in data)) continue;
    const value = data[name];
    delete data[name];
    const ok = type === 'boolean' ? typeof value === 'boolean' : Number.isInteger(value);
    if (!ok) throw new ApiError(400, `ENDPOINT_${name.toUpperCase()}_FIELD_INVALID_TYPE`, `Field '${name}' must be of type '${type}'.`);
    (control as unknown as Record<string, unknown>)[name] = value;
  }
  for (const ignored of ['sort_by', 'sort_order', 'sort_flags', 'reverse', 'remove', 'dry_run']) delete data[ignored];
  return control;
}
