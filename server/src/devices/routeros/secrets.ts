// Secrets read back from the router never travel further than this module in plain text:
// an ActualResource carries a fingerprint instead (enough to tell "same key" in a plan),
// so logging or storing actual state cannot leak a preshared key.
import { createHash } from 'node:crypto';
import { MASKED } from './menus.js';

const SECRET_PROPS = new Set(['preshared-key', 'private-key']);

export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}

/** The row with secret values replaced by fingerprints (masked and empty values kept). */
export function withoutSecrets(props: Record<string, string>): Record<string, string> {
  const safe = { ...props };
  for (const prop of SECRET_PROPS) {
    const value = safe[prop];
    if (value !== undefined && value !== '' && value !== MASKED && value !== 'auto' && value !== 'none') safe[prop] = fingerprint(value);
  }
  return safe;
}
