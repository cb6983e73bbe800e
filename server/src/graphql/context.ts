// What every resolver receives: the database, the authenticated identity (if any) and a
// way to set cookies on the HTTP response (login/logout).
import type { Db } from '../infra/db/client.js';
import type { Identity } from '../services/auth/identity.js';
import type { Services } from '../services/index.js';
import type { OverlayReader } from '../services/overlay/overlays.js';

export interface CookieJar {
  /** A cookie the request came with. */
  get(name: string): string | null;
  set(name: string, value: string, options: { maxAgeSeconds: number }): void;
  clear(name: string): void;
}

export interface Context {
  prisma: Db;
  identity: Identity | null;
  services: Services;
  cookies: CookieJar;
  /** Per-request cache: each WAN is loaded and compiled at most once per request. */
  overlays: OverlayReader;
  /** Client address, for audit and rate limits. */
  clientAddress: string;
}
