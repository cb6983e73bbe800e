// A server killed (SIGKILL) in the middle of a deploy: on the next start the job is
// INTERRUPTED, never left RUNNING; rerunJob runs it again and it converges with no duplicate
// managed resources. The server is a real child process (`node --import tsx src/main.ts`).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, inject } from 'vitest';
import type { CommandRequest } from '../sim/routeros/index.js';
import { GraphQLTestClient } from '../support/graphql.js';
import {
  buildOverlay, finishedJob, MENU, managedRows, startCountedSimulator, startLiveApp, unmanagedSnapshot, verify, withCompetingRouteDemoted,
  type CountedSimulator, type JobView, type LiveApp,
} from './harness.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts `src/main.ts` on an ephemeral loopback port and resolves with its GraphQL URL. */
function spawnServer(dataDir: string): Promise<{ child: ChildProcess; graphqlUrl: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: {
      ...process.env, MESHPLANE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '', MESHPLANE_MASTER_KEY: '', MESHPLANE_CONFIG: '',
      REDIS_URL: '', MESHPLANE_LOG_LEVEL: 'warn', MESHPLANE_MONITOR_INTERVAL_MS: '3600000', MESHPLANE_HANDSHAKE_PROBE_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL: (http:\/\/127\.0\.0\.1:\d+\/\S+?)\)/.exec(output);
      if (match) resolve({ child, graphqlUrl: match[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('a deploy interrupted by a crash', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-restart-'));
  let counted: CountedSimulator | undefined;
  let server: ChildProcess | undefined;
  let live: LiveApp | undefined;

  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      process.kill(server.pid, 'SIGKILL');
      await exited(server);
    }
    await live?.stop();
    await counted?.sim.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is INTERRUPTED after the restart and converges when re-run', async () => {
    fs.copyFileSync(inject('sqliteTemplate'), path.join(dataDir, 'meshplane.db'));
    counted = await startCountedSimulator();
    const { sim } = counted;
    const unmanaged = unmanagedSnapshot(sim);
    const spawned = await spawnServer(dataDir);
    server = spawned.child;
    const overlay = await buildOverlay(spawned.graphqlUrl, sim);

    // Kill the server the moment the router executes the third write of the deploy: its
    // reply is never read, two writes before it are done, the rest never happen.
    let writes = 0;
    const execute = sim.model.execute.bind(sim.model);
    sim.model.execute = (request: CommandRequest) => {
      if (/\/(add|set|remove)$/.test(request.command) && ++writes === 3) process.kill(server!.pid!, 'SIGKILL');
      return execute(request);
    };
    const { deployPeer } = await overlay.admin.ok<{ deployPeer: { id: string } }>(`mutation ($peerId: ID!) { deployPeer(peerId: $peerId, approve: true) { id } }`, { peerId: overlay.branchId });
    await exited(server);
    expect(server.signalCode).toBe('SIGKILL');
    expect(writes).toBe(3);

    live = await startLiveApp({ dataDir, monitorIntervalMs: 3_600_000 });
    const admin = new GraphQLTestClient(live.graphqlUrl, overlay.token);
    const interrupted = (await admin.ok<{ job: JobView }>(`query ($id: ID!) { job(id: $id) { status error steps { name status } } }`, { id: deployPeer.id })).job;
    expect(interrupted.status).toBe('INTERRUPTED');
    expect(interrupted.error).toMatch(/server stopped while this job was running/);
    expect(interrupted.steps.at(-1)).toMatchObject({ name: 'Apply', status: 'RUNNING' });
    const partial = managedRows(sim, MENU.interface).length + managedRows(sim, MENU.peers).length + managedRows(sim, MENU.address).length;
    expect(partial).toBeGreaterThan(0);

    const { rerunJob } = await admin.ok<{ rerunJob: { id: string; kind: string } }>(`mutation ($id: ID!) { rerunJob(jobId: $id) { id kind } }`, { id: deployPeer.id });
    expect(rerunJob.kind).toBe('DEPLOY');
    const rerun = await finishedJob(admin, rerunJob.id);
    expect(rerun.status, rerun.error ?? '').toBe('SUCCEEDED');
    expect((await verify(admin, overlay.branchId)).drift).toEqual([]);
    const tags = Object.values(MENU).flatMap((menu) => managedRows(sim, menu).map((row) => row.comment));
    expect(new Set(tags).size).toBe(tags.length);
    expect(managedRows(sim, MENU.interface)).toHaveLength(1);
    expect(managedRows(sim, MENU.peers)).toHaveLength(2);
    expect(unmanagedSnapshot(sim)).toEqual(withCompetingRouteDemoted(unmanaged));
    // An unknown job cannot be re-run.
    expect(await admin.errorCodes(`mutation { rerunJob(jobId: "nope") { id } }`)).toEqual(['NOT_FOUND']);
  });
});
