// Password hashing with argon2id (@node-rs/argon2: maintained, prebuilt, no node-gyp).
import { hash, verify } from '@node-rs/argon2';

export const MIN_PASSWORD_LENGTH = 10;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Verifying against a fixed hash when the account does not exist keeps the response time
// from telling an attacker which e-mail addresses are registered.
let decoyHash: Promise<string> | null = null;
export async function verifyAgainstDecoy(password: string): Promise<false> {
  decoyHash ??= hash('meshplane-decoy-password');
  await verifyPassword(await decoyHash, password);
  return false;
}
