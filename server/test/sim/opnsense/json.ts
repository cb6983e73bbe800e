// PHP's json_encode() with default flags (/work/shared/ref/opnsense.md §1.4): "/" escaped as "\/",
// non-ASCII as lower-case \uXXXX, bigint counters printed raw (wg's 64-bit byte counters); and the
// request-body rules of ApiControllerBase::parseJsonBodyData() (§1.3).
import type { OpnSenseFaults } from './faults.js';
import { PhpError, Reply, type JsonObject } from './router.js';

function encodeString(text: string): string {
  return JSON.stringify(text)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function encodePhpJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return encodeString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(encodePhpJson).join(',')}]`;
  const entries = Object.entries(value as JsonObject).filter(([, item]) => item !== undefined);
  return `{${entries.map(([key, item]) => `${encodeString(key)}:${encodePhpJson(item)}`).join(',')}}`;
}

const JSON_TYPE = /^application\/json(;charset=utf-8)?$/i;

/** `server[name]=x&server[port]=1` → {server: {name, port}} (PHP's bracket syntax, one level). */
function parseForm(body: string): JsonObject {
  const post: JsonObject = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const nested = /^([^[\]]+)\[([^[\]]*)\]$/.exec(name);
    if (!nested) post[name] = value;
    else {
      const [, outer = '', inner = ''] = nested;
      const holder = (typeof post[outer] === 'object' && post[outer] !== null ? post[outer] : (post[outer] = {})) as JsonObject;
      holder[inner] = value;
    }
  }
  return post;
}

/**
 * $_POST for a request: the JSON object when the content type is exactly application/json
 * (spaces ignored), form data for urlencoded bodies, else nothing. A Reply/PhpError for the
 * bodies OPNsense refuses.
 */
export function parseRequestBody(contentType: string | undefined, body: string, faults: OpnSenseFaults): JsonObject {
  const type = (contentType ?? '').replace(/\s+/g, '');
  if (JSON_TYPE.test(type)) {
    if (body === '') {
      if (faults.emptyJsonBody400) throw new Reply(400, { status: 400, message: 'Invalid JSON syntax' });
      return {};
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      if (faults.malformedJsonIsEmpty) return {};
      throw new PhpError('Syntax error');
    }
    if (faults.regression_24_7_0) return {};
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonObject) : {};
  }
  if (/^application\/x-www-form-urlencoded/i.test(type)) return parseForm(body);
  return {};
}
