// WireGuard keys: Curve25519 (X25519) key pairs and preshared keys, base64 encoded exactly
// as `wg genkey`, `wg pubkey` and `wg genpsk` produce them. The only randomness in the
// domain lives here.
import { randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { DomainError } from './errors.js';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

// 32 bytes are 43⅔ base64 digits: the 43rd digit carries only 4 bits, so its low two
// bits are zero and only every fourth alphabet letter can appear there.
const KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isWireGuardKey(value: unknown): value is string {
  return typeof value === 'string' && KEY_PATTERN.test(value);
}

function decodeKey(value: string, field: string): Uint8Array {
  if (!isWireGuardKey(value)) {
    throw new DomainError('INVALID_KEY', `${field}: not a WireGuard key (44 characters of base64 encoding 32 bytes)`, { field });
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** Clamps like `wg genkey` so stored keys are byte-identical to what wg itself would make. */
function clampScalar(bytes: Uint8Array): Uint8Array {
  bytes[0] = (bytes[0] as number) & 248;
  bytes[31] = ((bytes[31] as number) & 127) | 64;
  return bytes;
}

export function publicKeyFromPrivate(privateKey: string): string {
  const publicKey = x25519.getPublicKey(decodeKey(privateKey, 'privateKey'));
  return Buffer.from(publicKey).toString('base64');
}

export function generateKeyPair(): KeyPair {
  const privateKey = Buffer.from(clampScalar(new Uint8Array(randomBytes(32)))).toString('base64');
  return { privateKey, publicKey: publicKeyFromPrivate(privateKey) };
}

export function generatePresharedKey(): string {
  return randomBytes(32).toString('base64');
}
