// Hands secrets to `wg` as files. Not /dev/stdin: Node gives a child a socketpair as its
// stdin, and `wg` cannot fopen("/dev/stdin") on a socket (ENXIO, verified with
// wireguard-tools v1.0.20210914). So each secret goes into a fresh 0700 directory as a 0600
// file that exists only while the command runs.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function withSecretFiles<T>(
  secrets: readonly string[],
  use: (paths: string[]) => Promise<T>,
  baseDir: string = os.tmpdir(),
): Promise<T> {
  if (secrets.length === 0) return use([]);
  // mkdtemp creates the directory with mode 0700.
  const dir = await fs.mkdtemp(path.join(baseDir, 'meshplane-keys-'));
  try {
    const paths: string[] = [];
    for (const [index, secret] of secrets.entries()) {
      const file = path.join(dir, `key${index}`);
      await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      paths.push(file);
    }
    return await use(paths);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
