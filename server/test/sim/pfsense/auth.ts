// REST API authentication (Core/Auth.inc): the configured methods are tried in order and
// the first whose credentials are present decides (v2.10.0); before v2.10 an invalid API
// key fell through to the next method. A fresh install enables BasicAuth only.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { compareVersions } from '../shared/version.js';

export interface Credentials {
  username: string;
  password: string;
  apiKey: string;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function basic(headers: IncomingHttpHeaders): { user: string; pass: string } | null {
  const header = headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

export function authenticate(headers: IncomingHttpHeaders, methods: readonly string[], credentials: Credentials, version: string): boolean {
  const keyFallsThrough = compareVersions(version, '2.10.0') < 0;
  for (const method of methods) {
    if (method === 'BasicAuth') {
      const given = basic(headers);
      if (!given || given.user === '' || given.pass === '') continue;
      return same(given.user, credentials.username) && same(given.pass, credentials.password);
    }
    if (method === 'KeyAuth') {
      const key = headers['x-api-key'];
      if (typeof key !== 'string' || key === '') continue;
      if (same(key, credentials.apiKey)) return true;
      if (keyFallsThrough) continue;
      return false;
    }
    if (method === 'JWTAuth' && (headers.authorization ?? '').startsWith('Bearer ')) return false;
  }
  return false;
}
