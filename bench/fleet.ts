// Starts sim-fleet.ts as a child process and talks to it.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { benchDir, withTimeout } from './lib.js';

export interface FleetRouter { host: string; apiPort: number; restPort: number; username: string; password: string }

export interface Fleet {
  routers: FleetRouter[];
  pid: number;
  counts(): Promise<Array<{ commands: number; writes: number }>>;
  reset(): Promise<void>;
  handshake(sim: number, publicKey: string, secondsAgo: number): Promise<void>;
  seed(sim: number, interfaceName: string, publicKeys: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startFleet(count: number, upOnAdd: boolean): Promise<Fleet> {
  const child: ChildProcess = fork(path.join(benchDir, 'sim-fleet.ts'), [String(count), upOnAdd ? 'up' : ''], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const routers = await withTimeout('simulator fleet start', 60_000, new Promise<FleetRouter[]>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulator fleet exited (${code})`)));
    child.on('message', (message: { ready?: FleetRouter[]; id?: number; result?: unknown; error?: string }) => {
      if (message.ready) resolve(message.ready);
      const waiter = message.id === undefined ? undefined : waiting.get(message.id);
      if (!waiter) return;
      waiting.delete(message.id as number);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
  }));
  const call = <T>(message: Record<string, unknown>) => withTimeout(`fleet ${String(message.op)}`, 30_000, new Promise<T>((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
    child.send({ ...message, id });
  }));
  return {
    routers,
    pid: child.pid as number,
    counts: () => call({ op: 'counts' }),
    reset: () => call({ op: 'reset' }),
    handshake: (sim, publicKey, secondsAgo) => call({ op: 'handshake', sim, publicKey, secondsAgo }),
    seed: (sim, interfaceName, publicKeys) => call({ op: 'seed', sim, interfaceName, publicKeys }),
    async stop() {
      if (child.exitCode !== null) return;
      await call({ op: 'stop' }).catch(() => child.kill('SIGKILL'));
    },
  };
}
