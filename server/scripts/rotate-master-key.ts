// Rotates the master key that seals private keys, preshared keys and device credentials.
//
//   Stop Meshplane first (a running server keeps sealing with the old key), then, at the
//   repository root (README "Rotating the master key"):
//
//     npm run rotate-master-key -- --generate                # key file: make a new random key
//     npm run rotate-master-key -- --new-key-file new.key    # a key you made (32 bytes, hex or base64)
//     MESHPLANE_NEW_MASTER_KEY=<key> npm run rotate-master-key
//
//   The old key is the one the server uses: MESHPLANE_MASTER_KEY, else <data dir>/master.key.
//   The database is the server's (DATABASE_URL, else the SQLite file in MESHPLANE_DATA_DIR).
//
//   What happens:
//     1. with a key file: the new key is written to master.key.new (0600) before anything else,
//        so it cannot be lost whatever happens next;
//     2. every sealed value is re-sealed with the new key in ONE database transaction
//        (src/infra/crypto/rekey.ts): all or nothing; re-running after a failure is safe;
//     3. with a key file: master.key is kept as master.key.<old key id>.bak (0600) and
//        master.key.new is renamed over master.key (atomic).
//        With MESHPLANE_MASTER_KEY: put the new key into the server's environment yourself
//        and keep the old one until the new one is confirmed working.
//   Then start Meshplane again. Keep the backup until you have checked a config download.
//
//   A crash between 2 and 3 leaves the database sealed with the key in master.key.new while
//   master.key still holds the old one. Finish with `--new-key-file <data dir>/master.key.new`:
//   nothing is left to re-seal, so it only does step 3. Any other new key is refused while
//   master.key.new exists (--generate would overwrite the only copy of the key in use).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../src/infra/db/client.js';
import { databaseUrl, dataDir as defaultDataDir } from '../src/infra/db/url.js';
import { SecretBox, decodeKey, masterKeyFile } from '../src/infra/crypto/secret-box.js';
import { resealAllSecrets } from '../src/infra/crypto/rekey.js';

function fail(message: string): never {
  console.error(`rotate-master-key: ${message}`);
  process.exit(1);
}

function argValue(name: string): string | null {
  const index = process.argv.indexOf(name);
  return index >= 0 ? (process.argv[index + 1] ?? fail(`${name} needs a value`)) : null;
}

const env = process.env;
const dataDir = defaultDataDir(env);
const keyFile = masterKeyFile(dataDir);
const fromEnv = Boolean(env.MESHPLANE_MASTER_KEY);
if (!fromEnv && !fs.existsSync(keyFile)) fail(`no current master key: neither MESHPLANE_MASTER_KEY nor ${keyFile}`);
const oldBox = new SecretBox(decodeKey(fromEnv ? env.MESHPLANE_MASTER_KEY! : fs.readFileSync(keyFile, 'utf8')));

// npm/pnpm run the script in server/: a relative path means one relative to where the operator typed it.
const newKeyArg = argValue('--new-key-file');
const newKeyPath = newKeyArg ? path.resolve(env.INIT_CWD ?? process.cwd(), newKeyArg) : null;
const generate = process.argv.includes('--generate');
if ([newKeyPath, generate || null, env.MESHPLANE_NEW_MASTER_KEY || null].filter(Boolean).length !== 1) {
  fail('give exactly one of --generate, --new-key-file FILE or MESHPLANE_NEW_MASTER_KEY');
}
if (generate && fromEnv) fail('--generate writes a key file; with MESHPLANE_MASTER_KEY give the new key yourself');
function readKeyFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`cannot read the new key: ${(error as Error).message}`);
  }
}
const newKeyText = generate ? randomBytes(32).toString('base64') : newKeyPath ? readKeyFile(newKeyPath) : env.MESHPLANE_NEW_MASTER_KEY!;
const newBox = new SecretBox(decodeKey(newKeyText));
if (newBox.keyId === oldBox.keyId) fail('the new master key is the current one');

const pendingFile = `${keyFile}.new`;
const resuming = newKeyPath === path.resolve(pendingFile);
if (!fromEnv && fs.existsSync(pendingFile) && !resuming) {
  fail(`${pendingFile} exists: an earlier rotation did not finish and the database may already be sealed with that key. Finish it with --new-key-file ${pendingFile}`);
}
if (!fromEnv && !resuming) fs.writeFileSync(pendingFile, `${newKeyText.trim()}\n`, { mode: 0o600 });

const database = await openDatabase(databaseUrl(env));
try {
  const report = await resealAllSecrets(database.prisma, oldBox, newBox);
  console.log(`re-sealed with master key ${newBox.keyId} (was ${oldBox.keyId}): ${report.peers} private keys, ${report.presharedKeys} preshared keys, ${report.devices} device secrets, ${report.deployments} deployments, ${report.sessions} OIDC sessions, ${report.webhooks} webhook secrets`);
} catch (error) {
  await database.close();
  fail(`${(error as Error).message}${fromEnv ? '' : ` (the new key stays in ${pendingFile}; the old key is still ${keyFile})`}`);
}
await database.close();

if (fromEnv) {
  console.log('now set MESHPLANE_MASTER_KEY to the new key and start Meshplane; keep the old key until a config download works');
} else {
  // The name carries the key id, so an existing backup (a crash after the copy) holds this very key.
  const backup = `${keyFile}.${oldBox.keyId}.bak`;
  if (!fs.existsSync(backup)) fs.copyFileSync(keyFile, backup, fs.constants.COPYFILE_EXCL);
  fs.chmodSync(backup, 0o600);
  fs.renameSync(pendingFile, keyFile);
  console.log(`${keyFile} now holds the new key; the old one is kept as ${backup}`);
}
