// Finding secrets where they must not be: each secret is looked for as its text and as the
// other byte forms it could be written in (base64/base64url/hex of its bytes, UTF-16, and a
// WireGuard key's raw 32 bytes), in a database file, a dump or a captured log.
import { isWireGuardKey } from '../../src/domain/keys.js';

/** Each secret as the bytes it could be stored as. */
export function encodings(secret: string): Array<{ how: string; bytes: Buffer }> {
  const raw = isWireGuardKey(secret) ? Buffer.from(secret, 'base64') : Buffer.from(secret, 'utf8');
  const forms = [
    { how: 'text', bytes: Buffer.from(secret, 'utf8') },
    { how: 'hex', bytes: Buffer.from(raw.toString('hex'), 'utf8') },
    { how: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase(), 'utf8') },
    { how: 'base64url', bytes: Buffer.from(raw.toString('base64url'), 'utf8') },
    { how: 'utf16le', bytes: Buffer.from(secret, 'utf16le') },
  ];
  // A key's text is its base64 already; for other secrets the base64 without padding, which
  // also finds it at the start of a longer base64 text.
  if (isWireGuardKey(secret)) forms.push({ how: 'raw key bytes', bytes: raw });
  else forms.push({ how: 'base64', bytes: Buffer.from(raw.toString('base64').replace(/=+$/, ''), 'utf8') });
  // Inside a longer base64 text (HTTP Basic encodes "user:secret") the secret starts at one of
  // three byte alignments; at each, all but its first and last groups depend only on it.
  for (const shift of [0, 1, 2]) {
    const core = Buffer.concat([Buffer.alloc(shift), raw]).toString('base64').slice(shift === 0 ? 0 : 4, -4);
    if (core.length >= 8) forms.push({ how: `base64 inside a longer text (offset ${shift})`, bytes: Buffer.from(core, 'utf8') });
  }
  return forms;
}

/** The names (and forms) of the secrets found in `haystack`. */
export function leaks(haystack: Buffer | string, secrets: ReadonlyMap<string, string>): string[] {
  const bytes = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
  const found: string[] = [];
  for (const [name, secret] of secrets) {
    for (const { how, bytes: form } of encodings(secret)) if (bytes.includes(form)) found.push(`${name} (${how})`);
  }
  return found;
}
