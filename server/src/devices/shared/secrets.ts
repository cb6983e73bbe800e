// Keys never appear in plan properties, logs or command lines. A plan carries a key's
// fingerprint; the driver that computed the plan keeps the key itself in memory and hands
// it to the device only while it writes (Linux: `wg` reads it from a 0600 file).
import { createHash } from 'node:crypto';
import { DeviceError } from '../driver.js';

/** "sha256:" + 128 bits of SHA-256 of the base64 key. Keys are 256 random bits: no guessing back. */
export function keyFingerprint(key: string): string {
  return `sha256:${createHash('sha256').update(key.trim(), 'utf8').digest('hex').slice(0, 32)}`;
}

export class SecretStore {
  private readonly byFingerprint = new Map<string, string>();

  /** Keeps the key for a later apply and returns its fingerprint. */
  remember(key: string): string {
    const fingerprint = keyFingerprint(key);
    this.byFingerprint.set(fingerprint, key.trim());
    return fingerprint;
  }

  has(fingerprint: string): boolean {
    return this.byFingerprint.has(fingerprint);
  }

  reveal(fingerprint: string): string {
    const key = this.byFingerprint.get(fingerprint);
    if (key === undefined) {
      throw new DeviceError('PROTOCOL', `no key with fingerprint ${fingerprint} is known to this driver: plan and apply with the same driver instance`);
    }
    return key;
  }

  clear(): void {
    this.byFingerprint.clear();
  }
}
