// Structured logging with pino. Secrets are redacted by key wherever they appear, so a
// careless `log.info({ input })` cannot leak a password, key or token.
import { pino, type DestinationStream, type Logger } from 'pino';
import { SECRET_PROP_SPELLINGS } from '../domain/secret-masking.js';

export const redactedKeys = [
  'password',
  'passwordHash',
  'privateKey',
  'privateKeyEnc',
  'presharedKey',
  'secret',
  'secretEnc',
  'token',
  'authorization',
  'cookie',
  'apiKey',
  // Device property names (private-key, presharedkey, api-key, ...), as the masking policy spells them.
  ...SECRET_PROP_SPELLINGS,
];

/** A redaction path segment: dotted for identifiers, bracketed for names like "private-key". */
function segment(key: string, first: boolean): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return first ? key : `.${key}`;
  return `["${key}"]`;
}

/** `destination`: where the lines go (default stdout); tests pass a stream to read them back. */
export function createLogger(level = process.env.MESHPLANE_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const paths = [...new Set(redactedKeys)].flatMap((key) => [segment(key, true), `*${segment(key, false)}`, `*.*${segment(key, false)}`]);
  const options = { level, redact: { paths, censor: '[redacted]' }, base: { service: 'meshplane' } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
