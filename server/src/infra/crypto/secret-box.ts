// Encryption at rest for private keys, preshared keys and device credentials:
// AES-256-GCM (node:crypto) under a master key from MESHPLANE_MASTER_KEY or a key file
// generated in the data directory. Each ciphertext names the key it was sealed with
// ("v1:<keyId>:<iv>:<tag>:<data>"), so the master key can be rotated later.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { readOrCreateSecretFile } from './secret-file.js';

const ALGORITHM = 'aes-256-gcm';

export class SecretBox {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes (base64 or hex encoded)');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
  }

  /** A key for another purpose (HKDF from the master key): nothing more to store or back up. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `meshplane:${purpose}`, 32));
  }

  open(sealed: string): string {
    const [version, keyId, iv, tag, data] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a Meshplane ciphertext');
    if (keyId !== this.keyId) throw new Error(`secret was sealed with master key ${keyId}, not the current ${this.keyId}`);
    const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }
}

/** The key id a ciphertext names ("v1:<keyId>:..."), or null when it is not one of ours. */
export function sealedKeyId(sealed: string): string | null {
  const [version, keyId] = sealed.split(':');
  return version === 'v1' && keyId ? keyId : null;
}

export function decodeKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('MESHPLANE_MASTER_KEY must encode 32 bytes (64 hex characters or 44 base64 characters)');
  return key;
}

export function masterKeyFile(dataDir: string): string {
  return path.join(dataDir, 'master.key');
}

/** The master key from the environment, else from `<dataDir>/master.key`, created (0600) on first start. */
export function loadSecretBox(env: NodeJS.ProcessEnv, dataDir: string, log: Logger): SecretBox {
  if (env.MESHPLANE_MASTER_KEY) return new SecretBox(decodeKey(env.MESHPLANE_MASTER_KEY));
  const file = masterKeyFile(dataDir);
  const { text, created } = readOrCreateSecretFile(file, () => randomBytes(32).toString('base64') + '\n');
  if (created) log.warn({ file }, 'generated a new master key: back it up; losing it loses every stored private key and device password');
  // scripts/rotate-master-key.ts writes the new key here first and renames it over the key file last.
  const pending = `${file}.new`;
  if (fs.existsSync(pending)) {
    log.warn({ file: pending }, `a master key rotation did not finish: stored secrets may be sealed with the key in ${pending}; stop and run npm run rotate-master-key -- --new-key-file ${pending}`);
  }
  return new SecretBox(decodeKey(text));
}
