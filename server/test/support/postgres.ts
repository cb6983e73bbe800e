// A private, throwaway PostgreSQL cluster for tests and scripts: `initdb` into a temporary
// folder, the server started directly (no shell, argument arrays only) on a free loopback
// port with its socket inside that folder, and everything removed again by stop().
//
// Server binaries: $MESHPLANE_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin
// (Debian: `apt-get install -y --no-install-recommends postgresql`). PostgreSQL refuses to
// run as root, so under root the cluster belongs to the `postgres` system user when it
// exists, otherwise to a dedicated unprivileged user created once with useradd; the
// processes are started through `setpriv` with that user's ids.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const DEDICATED_USER = 'meshplane-pg';
const SUPERUSER = 'meshplane';

export interface PostgresCluster {
  /** Connection URL of the database created at start. */
  url: string;
  /** Creates another empty database on the cluster and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export type PostgresAvailability = { available: true; binDir: string } | { available: false; reason: string };

/** Where the server binaries are, or why they are not usable. */
export function findPostgres(): PostgresAvailability {
  const required = ['initdb', 'postgres'];
  const usable = (dir: string) => required.every((bin) => isExecutable(path.join(dir, bin)));
  const explicit = process.env.MESHPLANE_PG_BIN;
  if (explicit) {
    return usable(explicit)
      ? { available: true, binDir: explicit }
      : { available: false, reason: `MESHPLANE_PG_BIN=${explicit} lacks ${required.join('/')}` };
  }
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs.readdirSync(base).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const dir = path.join(base, version, 'bin');
    if (usable(dir)) return { available: true, binDir: dir };
  }
  return {
    available: false,
    reason: `no PostgreSQL server binaries under ${base}/<version>/bin (Debian: apt-get install -y --no-install-recommends postgresql; or set MESHPLANE_PG_BIN)`,
  };
}

/**
 * For test files: the binaries' folder, or null after announcing the skip. On CI
 * (CI=true) missing binaries are an error, so a broken machine never passes by skipping.
 */
export function postgresOrSkip(what: string): string | null {
  const found = findPostgres();
  if (found.available) return found.binDir;
  if (process.env.CI === 'true') throw new Error(`${what}: PostgreSQL is required on CI: ${found.reason}`);
  console.warn(`SKIPPING ${what}: ${found.reason}`);
  return null;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

interface RunAs {
  uid: number;
  gid: number;
}

function passwdEntry(user: string): RunAs | null {
  for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === user && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

/** Under root: an unprivileged account to own the cluster. Otherwise: null (run as ourselves). */
async function unprivilegedUser(): Promise<RunAs | null> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const existing = passwdEntry('postgres') ?? passwdEntry(DEDICATED_USER);
  if (existing) return existing;
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', DEDICATED_USER]);
  } catch (error) {
    // Another test process may have created it at the same moment.
    if (!passwdEntry(DEDICATED_USER)) throw new Error(`cannot create the unprivileged user ${DEDICATED_USER} for PostgreSQL: ${String(error)}`);
  }
  const created = passwdEntry(DEDICATED_USER);
  if (!created) throw new Error(`useradd ${DEDICATED_USER} did not create the user`);
  return created;
}

/** The program and arguments that run `file args` as the given user (setpriv keeps it one process). */
function asUser(user: RunAs | null, file: string, args: string[]): [string, string[]] {
  if (!user) return [file, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', file, ...args]];
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Polls until the server accepts connections, or fails with its log when it exits or times out. */
async function waitReady(child: ChildProcess, config: pg.ClientConfig, logFile: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const client = new pg.Client(config);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-4000) : '(no log)';
  throw new Error(`PostgreSQL did not become ready (${String(lastError)}):\n${log}`);
}

export interface StartOptions {
  /** Name of the database created at start (default "meshplane"). */
  database?: string;
  binDir?: string;
}

export async function startPostgres(options: StartOptions = {}): Promise<PostgresCluster> {
  const binDir = options.binDir ?? (() => {
    const found = findPostgres();
    if (!found.available) throw new Error(found.reason);
    return found.binDir;
  })();
  const user = await unprivilegedUser();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-pg-'));
  let child: ChildProcess | null = null;
  let stopped = false;

  // If the process exits without stop() (a crashed test run), do not leave a server behind.
  const onExit = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    fs.rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // fast shutdown: disconnect clients, checkpoint, exit
      if (!(await waitForExit(child, 15_000))) {
        child.kill('SIGQUIT'); // immediate shutdown
        await waitForExit(child, 5_000);
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
  };

  try {
    const dataDir = path.join(root, 'data');
    const socketDir = path.join(root, 'socket');
    const logFile = path.join(root, 'postgres.log');
    const pwFile = path.join(root, 'pw');
    const password = randomBytes(18).toString('base64url');
    fs.mkdirSync(socketDir);
    fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    if (user) {
      for (const entry of [root, socketDir, pwFile]) fs.chownSync(entry, user.uid, user.gid);
    }

    // Password authentication on TCP (other local users cannot walk in); the socket lives
    // in our private folder.
    const [initFile, initArgs] = asUser(user, path.join(binDir, 'initdb'), [
      '--pgdata', dataDir, '--username', SUPERUSER, '--pwfile', pwFile,
      '--auth-host', 'scram-sha-256', '--auth-local', 'trust',
      '--encoding', 'UTF8', '--locale', 'C', '--no-sync', '--no-instructions',
    ]);
    try {
      await run(initFile, initArgs, { cwd: root, timeout: 120_000 });
    } catch (error) {
      const failed = error as { stderr?: string; message: string };
      throw new Error(`initdb failed: ${(failed.stderr || failed.message).trim()}`);
    }
    fs.rmSync(pwFile);

    const database = options.database ?? 'meshplane';
    for (let attempt = 1; ; attempt++) {
      const port = await freeLoopbackPort();
      const [file, args] = asUser(user, path.join(binDir, 'postgres'), [
        '-D', dataDir, '-p', String(port), '-k', socketDir,
        '-c', 'listen_addresses=127.0.0.1',
        // A test cluster: durability does not matter, speed does.
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=100', '-c', 'shared_buffers=32MB',
      ]);
      const logFd = fs.openSync(logFile, 'a');
      child = spawn(file, args, { cwd: root, stdio: ['ignore', logFd, logFd] });
      fs.closeSync(logFd);
      const admin: pg.ClientConfig = { host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' };
      try {
        await waitReady(child, admin, logFile, 30_000);
      } catch (error) {
        const exited = child.exitCode !== null || child.signalCode !== null;
        if (!exited) child.kill('SIGQUIT');
        await waitForExit(child, 5_000);
        // Someone else may have taken the port between our probe and the bind: try another.
        if (attempt < 3 && /could not bind|Address already in use/i.test(String(error))) continue;
        throw error;
      }
      const urlFor = (name: string) =>
        `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(name)}`;
      const createDatabase = async (name: string) => {
        const client = new pg.Client(admin);
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
        } finally {
          await client.end();
        }
        return urlFor(name);
      };
      const url = await createDatabase(database);
      return { url, createDatabase, stop };
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
