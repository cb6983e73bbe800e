// Structured logging with pino. Secrets are redacted by key wherever they appear, so a
// careless `log.info({ input })` cannot leak a password, key or token.
import { pino, type DestinationStream, type Logger } from 'pino';

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

/** `destination`: where the lines go (default stdout); tests pass a stream to read them back. */
export function createLogger(level = process.env.MESHPLANE_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const paths = redactedKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
  const options = { level, redact: { paths, censor: '[redacted]' }, base: { service: 'meshplane' } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
