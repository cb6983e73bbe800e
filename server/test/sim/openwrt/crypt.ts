// crypt(3) for rpcd login hashes ($1$ MD5-crypt, $5$ SHA-256-crypt, $6$ SHA-512-crypt), by
// `openssl passwd` (argument array, password on stdin so it never shows in a process list).
// Verification recomputes with the hash's own salt, as rpcd's crypt(password, hash) does.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const SCHEMES = { '1': '-1', '5': '-5', '6': '-6' } as const;
type Scheme = keyof typeof SCHEMES;

function opensslPasswd(scheme: Scheme, salt: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['passwd', SCHEMES[scheme], '-salt', salt, '-stdin'], { timeout: 10_000 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout.trim());
    });
    child.stdin?.end(`${password}\n`);
  });
}

/** A fresh hash with a random salt (`$5$` by default, as `openssl passwd -5` on the Meshplane host). */
export function cryptHash(password: string, scheme: Scheme = '5'): Promise<string> {
  return opensslPasswd(scheme, randomBytes(6).toString('base64').replace(/[+=]/g, '.'), password);
}

const verified = new Map<string, boolean>();

/** Whether `password` hashes to `hash`; schemes other than $1$/$5$/$6$ (or `rounds=`) never match. */
export async function cryptMatches(hash: string, password: string): Promise<boolean> {
  const parts = /^\$([156])\$([^$]*)\$[./0-9A-Za-z]+$/.exec(hash);
  if (parts === null || parts[2]!.startsWith('rounds=')) return false;
  const key = `${hash}\0${password}`;
  const known = verified.get(key);
  if (known !== undefined) return known;
  const matches = (await opensslPasswd(parts[1] as Scheme, parts[2]!, password)) === hash;
  verified.set(key, matches);
  return matches;
}
