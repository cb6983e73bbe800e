// Meshplane as a child process (`node server/dist/main.js`, what `npm start` runs; dist/ is
// rebuilt from the sources first), so its start-up time and memory are its own: a fresh data
// directory, a free port.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { benchDir, serverDir, sleep, tempDir } from './lib.js';

export const MASTER_KEY = 'b'.repeat(64);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  graphqlUrl: string;
  dataDir: string;
  /** Milliseconds from spawn until `{ health }` answered ok. */
  readyMs: number;
  /** Resident set size now, from /proc (MB). */
  rssMb(): number;
  /** The end of the server's stderr, and its exit code or signal once it has exited: for a bench's failure message. */
  lastWords(): string;
  /** SQL statements the server has run so far; only with `countSql` (otherwise rejects). */
  sqlStatements(): Promise<number>;
  stop(): Promise<void>;
}

export async function health(graphqlUrl: string): Promise<boolean> {
  try {
    const response = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health }' }) });
    const body = (await response.json()) as { data?: { health?: string } };
    return body.data?.health === 'ok';
  } catch {
    return false;
  }
}

let built = false;
const SQL_COUNTER = path.join('dist', 'bench-sql-counter.mjs');

/** Transpiles server/src to server/dist once per bench process, so a bench never runs stale code. */
function buildServer(): void {
  if (built) return;
  execFileSync(process.execPath, ['--import', 'tsx', path.join('scripts', 'build.ts')], { cwd: serverDir, stdio: 'ignore', timeout: 120_000 });
  // The statement counter beside the build, so its package imports resolve to the server's own
  // copies of the Prisma adapters (the ones it instruments).
  execFileSync(path.join('node_modules', '.bin', 'esbuild'), [path.join(benchDir, 'sql-counter.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', '--log-level=warning', `--outfile=${SQL_COUNTER}`], { cwd: serverDir, stdio: 'ignore', timeout: 60_000 });
  built = true;
}

type SpawnOptions = { dataDir?: string; env?: Record<string, string>; timeoutMs?: number; countSql?: boolean };

export async function spawnServer(options: SpawnOptions = {}): Promise<ServerProcess> {
  // The free port is found before the server binds it: on a shared machine another process can
  // take it in between, which is retried on another port, not counted as the server failing.
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(options);
    } catch (error) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

async function spawnOnce(options: SpawnOptions): Promise<ServerProcess> {
  buildServer();
  const dataDir = options.dataDir ?? tempDir('server');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const graphqlUrl = `${url}/graphql`;
  let stderr = '';
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.countSql ? ['--import', `./${SQL_COUNTER}`] : []), path.join('dist', 'main.js')], {
    cwd: serverDir,
    env: {
      // NODE_ENV as npm start sets it (graphql-js skips its development-only checks).
      NODE_ENV: 'production',
      ...process.env, PORT: String(port), HOST: '127.0.0.1', MESHPLANE_DATA_DIR: dataDir, MESHPLANE_MASTER_KEY: MASTER_KEY,
      DATABASE_URL: '', REDIS_URL: '', MESHPLANE_CONFIG: '', MESHPLANE_LOG_LEVEL: 'warn', ...options.env,
    },
    stdio: options.countSql ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = started + (options.timeoutMs ?? 60_000);
  while (!(await health(graphqlUrl))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(`server did not answer { health } (exit ${child.exitCode}): ${stderr}`);
    }
    await sleep(10);
  }
  const readyMs = performance.now() - started;
  return {
    child, pid: child.pid as number, url, graphqlUrl, dataDir, readyMs,
    rssMb() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
    },
    lastWords() {
      const ended = child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode}); ` : 'running; ';
      return `${ended}stderr: ${stderr.trim().split('\n').slice(-15).join('\n')}`;
    },
    sqlStatements() {
      if (!options.countSql) return Promise.reject(new Error('spawnServer: countSql was not set'));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no SQL statement count from the server')), 5000);
        child.once('message', (message: { sqlStatements?: number }) => { clearTimeout(timer); resolve(Number(message.sqlStatements)); });
        child.send('sql-statements');
      });
    },
    stop,
  };
}
