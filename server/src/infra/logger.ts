// Structured logging with pino. Secrets are redacted by key wherever they appear, so a
// careless `log.info({ input })` cannot leak a password, key or token.
import { pino, type Logger } from 'pino';

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
];

export function createLogger(level = process.env.MESHPLANE_LOG_LEVEL ?? 'info'): Logger {
  const paths = redactedKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
  return pino({ level, redact: { paths, censor: '[redacted]' }, base: { service: 'meshplane' } });
}

export type { Logger };
