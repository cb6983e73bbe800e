// A private Redis server for tests: redis-server on a free loopback port, no persistence,
// started with an argument array and stopped by PID. Debian: apt-get install redis-server.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CANDIDATES = [process.env.MESHPLANE_REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].filter((file): file is string => Boolean(file));

export function findRedisServer(): string | null {
  return CANDIDATES.find((file) => fs.existsSync(file)) ?? null;
}

/** The redis-server binary, or null after announcing the skip; on CI a missing binary is an error. */
export function redisOrSkip(what: string): string | null {
  const found = findRedisServer();
  if (found) return found;
  const reason = 'redis-server is not installed (Debian: apt-get install -y --no-install-recommends redis-server)';
  if (process.env.CI === 'true') throw new Error(`${what}: Redis is required on CI: ${reason}`);
  console.warn(`SKIPPING ${what}: ${reason}`);
  return null;
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(binary: string): Promise<RedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  child.removeAllListeners('exit');
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
