// The last line of defence at the write: a job told which secrets it handles (ctx.conceal)
// stores none of them, whichever column a message carried one to (log, steps, result, error),
// nor logs one when it fails; an audit entry stores neither a concealed secret inside a message
// nor a text under a secret's name. Real parts: the JobRunner, recordAudit and a migrated
// SQLite database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateKeyPair, generatePresharedKey } from '../../src/domain/keys.js';
import { openDatabase, type Database } from '../../src/infra/db/client.js';
import { createLogger } from '../../src/infra/logger.js';
import { LocalLocks } from '../../src/infra/locks.js';
import { createTopics } from '../../src/infra/pubsub/topics.js';
import { recordAudit } from '../../src/services/audit.js';
import { JobRunner } from '../../src/services/deploy/jobs.js';

const privateKey = generateKeyPair().privateKey;
const presharedKey = generatePresharedKey();
const password = 'dev"ice/Pass word';

describe('secrets a job or an audit entry was told about are never written', () => {
  let dir: string;
  let database: Database;
  let runner: JobRunner;
  let deviceId: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-redaction-'));
    const file = path.join(dir, 'meshplane.db');
    fs.copyFileSync(inject('sqliteTemplate'), file);
    database = await openDatabase(`file:${file}`);
    deviceId = (await database.prisma.device.create({ data: { name: 'edge', kind: 'ROUTEROS_API', host: '127.0.0.1' } })).id;
    const logger = createLogger('trace', new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }));
    runner = new JobRunner(database.prisma, createTopics(), logger, new LocalLocks(), 2);
  });
  afterAll(async () => {
    await runner?.close();
    await database?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const row = (id: string) => database.prisma.deployJob.findUniqueOrThrow({ where: { id } });
  const stored = (job: Record<string, unknown>) => JSON.stringify([job.log, job.steps, job.result, job.error]);

  it('a succeeding job: log lines, step details and the result', async () => {
    const id = await runner.start(null, { kind: 'VERIFY', wanId: null, peerId: null, deviceId }, async (ctx) => {
      ctx.conceal(privateKey, presharedKey, password, null);
      await ctx.log(`device said: bad value ${privateKey}`);
      await ctx.step('Read', async () => presharedKey, (value) => `read ${value}`);
      return { drift: [{ detail: `password ${password} refused` }] };
    });
    const job = await runner.wait(id);
    expect(job.status).toBe('SUCCEEDED');
    const text = stored(job);
    for (const secret of [privateKey, presharedKey, password, JSON.stringify(password).slice(1, -1)]) expect(text).not.toContain(secret);
    expect(job.log).toContain('device said: bad value ‹redacted›');
    expect(job.steps).toContain('read ‹redacted›');
    expect(JSON.parse(job.result!)).toEqual({ drift: [{ detail: 'password ‹redacted› refused' }] });
  });

  it('a failing job: the failed step, the error and the "job failed" log line', async () => {
    const id = await runner.start(null, { kind: 'DEPLOY', wanId: null, peerId: null, deviceId }, async (ctx) => {
      ctx.conceal(privateKey);
      await ctx.step('Apply', async () => {
        throw new Error(`failure: invalid value ${privateKey} of private-key`);
      });
    });
    const job = await row((await runner.wait(id)).id);
    expect(job.status).toBe('FAILED');
    expect(job.error).toBe('failure: invalid value ‹redacted› of private-key');
    expect(stored(job)).not.toContain(privateKey);
    const failedLine = logLines.find((line) => line.includes(id) && line.includes('job failed'));
    expect(failedLine).toContain('‹redacted›');
    expect(logLines.join('')).not.toContain(privateKey);
  });

  it('a job told nothing keeps its text as it is', async () => {
    const id = await runner.start(null, { kind: 'VERIFY', wanId: null, peerId: null, deviceId }, async (ctx) => {
      await ctx.log(`line with ${presharedKey}`);
      return null;
    });
    expect((await runner.wait(id)).log).toContain(presharedKey);
  });

  it('an audit entry: concealed secrets inside messages, and texts under secret names at any depth', async () => {
    await recordAudit(database.prisma, null, {
      action: 'device.deploy',
      details: { message: `refused ${password} and ${presharedKey}`, nested: { privatekey: 'anything', 'api-key': 'k', list: [{ password: 'p' }] }, secretChanged: true },
      conceal: [password, presharedKey],
    });
    const entry = await database.prisma.auditLog.findFirstOrThrow({ where: { action: 'device.deploy' } });
    expect(JSON.parse(entry.details)).toEqual({
      message: 'refused ‹redacted› and ‹redacted›',
      nested: { privatekey: '‹secret›', 'api-key': '‹secret›', list: [{ password: '‹secret›' }] },
      secretChanged: true,
    });
  });
});
