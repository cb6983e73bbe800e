// X25519 keys as RouterOS shows them: base64 private key in, derived public key out.
import { createHash, randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';

export function publicKeyOf(privateKeyBase64: string): string {
  return Buffer.from(x25519.getPublicKey(Buffer.from(privateKeyBase64, 'base64'))).toString('base64');
}

export function randomPrivateKey(): string {
  return clamp(randomBytes(32)).toString('base64');
}

/** A stable private key for seeded rows, so fixtures read the same on every run. */
export function privateKeyFromLabel(label: string): string {
  return clamp(createHash('sha256').update(`meshplane-routeros-sim:${label}`).digest()).toString('base64');
}

export function keyPairFromLabel(label: string): { privateKey: string; publicKey: string } {
  const privateKey = privateKeyFromLabel(label);
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

/** Curve25519 clamping, as `wg genkey` does. */
function clamp(bytes: Buffer): Buffer {
  const key = Buffer.from(bytes);
  key[0] = key[0]! & 248;
  key[31] = (key[31]! & 127) | 64;
  return key;
}
