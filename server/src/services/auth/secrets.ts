// Session and API tokens: random, shown to the client once, stored only as a SHA-256 hash
// (they carry 256 bits of entropy, so a fast hash is enough; passwords use argon2).
import { createHash, randomBytes } from 'node:crypto';

export function newToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
