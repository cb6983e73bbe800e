// The job runner when its surroundings fail: the device lease cannot be taken (Redis down,
// another holder for the whole wait), the lease is lost mid-job (taken by another holder,
// Redis stopped), and the database refuses the outcome. Every time the job ends FAILED with
// a message saying what happened, or (database gone) is logged and left for the restart
// recovery, and nothing escapes as an unhandled rejection, which would stop the server. The
// recovery marks only the jobs of runners (servers) that died, never those of live ones.
// Real parts: the JobRunner, a migrated SQLite database, LocalLocks, and a real redis-server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../../src/infra/db/client.js';
import { createLogger } from '../../src/infra/logger.js';
import { LocalLocks, RedisLocks, type LockManager } from '../../src/infra/locks.js';
import { createTopics } from '../../src/infra/pubsub/topics.js';
import { JobRunner, type DeviceLeaseTimings, type JobContext } from '../../src/services/deploy/jobs.js';
import { redisOrSkip, startRedis, type RedisServer } from '../support/redis.js';

const redisBinary = redisOrSkip('job runner lease tests with Redis');

describe('job runner failures', () => {
  let dir: string;
  let database: Database;
  let deviceId: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let logLines: string[] = [];
  const logger = createLogger('warn', new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  }));

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-jobs-'));
    const file = path.join(dir, 'meshplane.db');
    fs.copyFileSync(inject('sqliteTemplate'), file);
    database = await openDatabase(`file:${file}`);
    deviceId = (await database.prisma.device.create({ data: { name: 'edge', kind: 'ROUTEROS_API', host: '127.0.0.1' } })).id;
  });
  beforeEach(() => {
    logLines = [];
  });
  afterEach(async () => {
    await database.prisma.$executeRawUnsafe('DROP TRIGGER IF EXISTS refuse_job_end');
    expect(unhandled).toEqual([]);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await database?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const runnerWith = (locks: LockManager, lease: Partial<DeviceLeaseTimings> = {}, runnerLeaseMs?: number) =>
    new JobRunner(database.prisma, createTopics(), logger, locks, 4, () => undefined, lease, runnerLeaseMs);

  const start = (runner: JobRunner, work: (ctx: JobContext) => Promise<unknown>) =>
    runner.start(null, { kind: 'DEPLOY', wanId: null, peerId: null, deviceId }, work);

  const job = (id: string) => database.prisma.deployJob.findUniqueOrThrow({ where: { id } });

  /** Resolves once the job has started the named step (bounded polling). */
  async function reachedStep(id: string, name: string): Promise<void> {
    for (let poll = 0; poll < 400; poll++) {
      if ((JSON.parse((await job(id)).steps) as Array<{ name: string }>).some((step) => step.name === name)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`job ${id} never started step ${name}`);
  }

  /** Starts a job that must fail before its work runs; its error. */
  async function refusedStart(runner: JobRunner): Promise<string | null> {
    let ran = false;
    const id = await start(runner, async () => {
      ran = true;
    });
    const ended = await runner.wait(id, 20);
    await runner.drain();
    expect(ended.status).toBe('FAILED');
    expect(ended.startedAt).toBeNull();
    expect(ran).toBe(false);
    return ended.error;
  }

  /** Work that starts step "Hold", waits there until `open()`, then would run step "After". */
  function heldWork() {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const ran: string[] = [];
    const work = async (ctx: JobContext) => {
      await ctx.step('Hold', async () => {
        await gate;
        ran.push('Hold');
      });
      await ctx.step('After', async () => {
        ran.push('After');
      });
      return { done: true };
    };
    return { work, ran, open: () => open() };
  }

  it('fails the job, without running it, when another holder keeps the device for the whole wait', async () => {
    const locks = new LocalLocks();
    const other = await locks.tryAcquire(`device:${deviceId}`, 60_000);
    const error = await refusedStart(runnerWith(locks, { maxWaitMs: 200, pollMs: 50 }));
    expect(error).toMatch(/^Could not start: another job \(possibly on another replica\) kept this device busy/);
    await other?.release();
  });

  it('fails the job with "the work finished but its outcome could not be saved" when the database refuses the success', async () => {
    await database.prisma.$executeRawUnsafe(
      `CREATE TRIGGER refuse_job_end BEFORE UPDATE OF status ON DeployJob WHEN NEW.status = 'SUCCEEDED' BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END`,
    );
    const runner = runnerWith(new LocalLocks());
    const id = await start(runner, async () => ({ applied: 1 }));
    const ended = await runner.wait(id, 20);
    await runner.drain();
    expect(ended.status).toBe('FAILED');
    // The database's own words, on one line (not Prisma's call site and source excerpt).
    expect(ended.error).toMatch(/^The work finished but its outcome could not be saved \([^\n]+\)\. Check the device/);
  });

  it('logs and leaves the job for the restart recovery when the database refuses every end, and the server keeps running', async () => {
    await database.prisma.$executeRawUnsafe(
      `CREATE TRIGGER refuse_job_end BEFORE UPDATE OF status ON DeployJob WHEN NEW.status IN ('SUCCEEDED', 'FAILED') BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END`,
    );
    const runner = runnerWith(new LocalLocks());
    const id = await start(runner, async () => {
      throw new Error('the device refused');
    });
    await runner.drain();
    expect((await job(id)).status).toBe('RUNNING');
    expect(logLines.join('')).toMatch(/could not record the end of a job/);
    // The device queue moved on: the next job of the same device runs.
    await database.prisma.$executeRawUnsafe('DROP TRIGGER refuse_job_end');
    const next = await start(runner, async () => 'ok');
    expect((await runner.wait(next, 20)).status).toBe('SUCCEEDED');
    // The next start (a new process: its own leases) marks it.
    const restarted = runnerWith(new LocalLocks());
    expect(await restarted.recoverInterrupted()).toBe(1);
    expect((await job(id)).status).toBe('INTERRUPTED');
    await restarted.close();
  });

  it('a runner that starts leaves the jobs of live runners alone and marks those of dead ones INTERRUPTED, also once they die later', async () => {
    // Two runners on one lease store: two replicas sharing Redis.
    const locks = new LocalLocks();
    const a = runnerWith(locks);
    await a.recoverInterrupted();
    const held = heldWork();
    const running = await start(a, held.work);
    await reachedStep(running, 'Hold');
    // A runner alive when the second one starts, whose lease then lapses (its process died).
    const dying = await locks.tryAcquire('runner:dying', 60_000);
    const row = (runnerId: string | null) => database.prisma.deployJob.create({ data: { kind: 'DEPLOY', status: 'RUNNING', deviceId, runnerId, startedAt: new Date() } });
    const [ofDying, ofDead, withoutRunner] = await Promise.all([row('dying'), row('long-gone'), row(null)]);

    const b = runnerWith(locks, {}, 50);
    await b.recoverInterrupted();
    expect((await job(running)).status).toBe('RUNNING');
    expect((await job(ofDying.id)).status).toBe('RUNNING');
    expect((await job(ofDead.id)).status).toBe('INTERRUPTED');
    expect((await job(withoutRunner.id)).status).toBe('INTERRUPTED');

    await dying!.release();
    for (let poll = 0; poll < 400 && (await job(ofDying.id)).status === 'RUNNING'; poll++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect((await job(ofDying.id)).status).toBe('INTERRUPTED');
    // b's checks since then left a's job alone: it ends as it would have.
    expect((await job(running)).status).toBe('RUNNING');
    held.open();
    expect((await a.wait(running, 20)).status).toBe('SUCCEEDED');
    await Promise.all([a.close(), b.close()]);
  });

  describe.skipIf(!redisBinary)('with device leases in Redis', () => {
    let redisServer: RedisServer;
    let client: Redis;
    /** Short leases: renewed every 200 ms, lost when unconfirmed for 400 ms. */
    const lease = { ttlMs: 600, maxWaitMs: 2000, pollMs: 50 };

    beforeEach(async () => {
      redisServer = await startRedis(redisBinary!);
      // As the app's client: a command fails after its retries instead of queueing forever.
      client = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
      // Connection errors are expected once the server is stopped; the commands report them.
      client.on('error', () => undefined);
    });
    afterEach(async () => {
      client.disconnect();
      await redisServer.stop();
    });

    it('fails the job, without running it, when Redis is down and the lease cannot be taken', async () => {
      await client.ping();
      await redisServer.stop();
      const error = await refusedStart(runnerWith(new RedisLocks(client), lease));
      expect(error).toMatch(/^Could not start: the device lease could not be taken because the lease store \(Redis\) failed: /);
    });

    it('stops a job whose lease another holder took, and records nothing its abandoned work does afterwards', async () => {
      const runner = runnerWith(new RedisLocks(client), lease);
      const held = heldWork();
      const id = await start(runner, held.work);
      await reachedStep(id, 'Hold');
      // Another replica's lease replaces ours (as after an expiry): the next renewal sees it.
      await client.set(`meshplane:lock:device:${deviceId}`, 'another-replica', 'PX', 60_000);
      const ended = await runner.wait(id, 20);
      expect(ended.status).toBe('FAILED');
      expect(ended.error).toMatch(/^Stopped: this job lost its lease on the device \(another holder has taken it\)/);
      held.open();
      await runner.drain();
      expect(held.ran).toEqual(['Hold']);
      const final = await job(id);
      expect(final.status).toBe('FAILED');
      expect((JSON.parse(final.steps) as Array<{ name: string }>).map((step) => step.name)).toEqual(['Hold']);
      // Ours was not released over the other holder's.
      expect(await client.get(`meshplane:lock:device:${deviceId}`)).toBe('another-replica');
    });

    it('stops a job when Redis goes away mid-job (the lease can no longer be renewed), then lets go of the device', async () => {
      const runner = runnerWith(new RedisLocks(client), lease);
      const held = heldWork();
      const id = await start(runner, held.work);
      await reachedStep(id, 'Hold');
      await redisServer.stop();
      const ended = await runner.wait(id, 20);
      expect(ended.status).toBe('FAILED');
      expect(ended.error).toMatch(/^Stopped: this job lost its lease on the device \(it could not be renewed/);
      held.open();
      // The release fails too (Redis is down): logged, the lease expires by itself.
      await runner.drain();
      expect(held.ran).toEqual(['Hold']);
      expect(logLines.join('')).toMatch(/could not release the device lease/);
    });
  });
});
