// The leak search after a device's whole lifecycle (runLifecycle): the same checks for every
// driver, simulated (secrets-leak.test.ts) or real (Linux in the lab), and the helpers that
// record what clients read and read back what the database holds.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.js';
import type { DriverFactory } from '../../src/devices/factory.js';
import { startTestApp, type TestApp } from './app.js';
import { GraphQLTestClient, registerAdmin, type GraphQLResult } from './graphql.js';
import { leaks as leaksIn } from './leaks.js';
import { runLifecycle, type LifecycleRun, type SimulatedDevice } from './device-run.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';
export const VIEWER_PASSWORD = 'viewer-secret-Passw0rd';

/** A client that keeps every response it got (but those to `unrecorded` queries), to search them for secrets afterwards. */
export class RecordingClient extends GraphQLTestClient {
  constructor(url: string, readonly responses: string[], private readonly unrecorded?: RegExp) {
    super(url);
  }

  override async request<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResult<T>> {
    const result = await super.request<T>(query, variables);
    if (!this.unrecorded?.test(query)) this.responses.push(JSON.stringify(result));
    return result;
  }
}

/** Every row of every table, as text. */
export function dumpTables(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>;
    return tables.map(({ name }) => `${name}: ${JSON.stringify(db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all())}`).join('\n');
  } finally {
    db.close();
  }
}

/** The raw bytes of the database and its WAL (freed pages included). */
export function rawDatabaseFiles(dataDir: string): Buffer {
  return Buffer.concat(fs.readdirSync(dataDir).filter((name) => name.startsWith('meshplane.db')).map((name) => fs.readFileSync(path.join(dataDir, name))));
}


/**
 * A test app whose log (at trace level) goes into `logLines` (deploys probe handshakes for
 * `probeMs`), with its first user registered: the admin's password and session go into `secrets`.
 */
export async function startTracedApp(logLines: string[], probeMs: number, secrets: Map<string, string>, driverFactory?: DriverFactory): Promise<{ t: TestApp; admin: GraphQLTestClient }> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const t = await startTestApp({ logger: createLogger('trace', sink), env: { MESHPLANE_HANDSHAKE_PROBE_MS: String(probeMs) }, ...(driverFactory ? { driverFactory } : {}) });
  const admin = await registerAdmin(t.graphqlUrl);
  secrets.set('admin password', ADMIN_PASSWORD);
  secrets.set('admin session', admin.sessionCookie!.split('=')[1]!);
  return { t, admin };
}

export interface StartedDevice {
  device: SimulatedDevice;
  /** How the app reaches it, when not as any server would (the Linux lab: inside a namespace). */
  driverFactory?: DriverFactory;
  stop(): Promise<void>;
}

/**
 * Registers, inside the caller's describe, the lifecycle run on the device `startDevice` gives
 * and the checks that no secret of it (each generation of keys and preshared keys, the key set
 * on the device behind Meshplane's back, the device credential, passwords, sessions) is in the
 * trace log, a database row, the raw database files, or any recorded response (the admin's,
 * config downloads aside, and a viewer's reads of every job with log, result, steps, drift).
 */
export function lifecycleLeakSuite(kind: SimulatedDevice['kind'], startDevice: () => Promise<StartedDevice>): void {
  let t: TestApp;
  const logLines: string[] = [];
  const responses: string[] = [];
  const secrets = new Map<string, string>();
  let started: StartedDevice | undefined;
  let run: LifecycleRun;

  beforeAll(async () => {
    started = await startDevice();
    let first: GraphQLTestClient;
    ({ t, admin: first } = await startTracedApp(logLines, 200, secrets, started.driverFactory));
    const { createInvite } = await first.ok<{ createInvite: { token: string } }>(`mutation { createInvite(input: { email: "viewer@example.net", role: VIEWER }) { token } }`);
    secrets.set('invite token', createInvite.token);
    secrets.set('viewer password', VIEWER_PASSWORD);
    // Everything below is recorded and searched, but the config downloads meant to carry keys.
    const admin = new RecordingClient(t.graphqlUrl, responses, /downloadPeerConfig/);
    await admin.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email: 'admin@example.net', password: ADMIN_PASSWORD } });
    secrets.set('second admin session', admin.sessionCookie!.split('=')[1]!);
    const viewer = new RecordingClient(t.graphqlUrl, responses);
    await viewer.ok(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, {
      input: { email: 'viewer@example.net', name: 'Viewer', password: VIEWER_PASSWORD, inviteToken: createInvite.token },
    });
    secrets.set('viewer session', viewer.sessionCookie!.split('=')[1]!);
    run = await runLifecycle(admin, viewer, started.device, kind.toLowerCase());
    for (const [name, value] of run.secrets) secrets.set(name, value);
    await viewer.ok(`{ jobs(first: 50) { edges { node { status error log result warnings steps { name status detail } drift { detail } } } } }`);
    await admin.ok(`{ auditLog(first: 500) { edges { node { action details actorLabel targetId } } } }`);
    expect(await viewer.errorCodes(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content } }`, { peerId: run.branchId })).toEqual(['FORBIDDEN']);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await started?.device.close();
    await started?.stop();
  });

  function leaks(haystack: string | Buffer): string[] {
    return leaksIn(haystack, secrets);
  }

  it('ran every operation and collected each generation of keys', () => {
    const refused = started?.device.refuseQuoting ? ['DEPLOY FAILED'] : [];
    expect(run.jobs.map((job) => `${job.kind} ${job.status}`)).toEqual([
      'DEPLOY SUCCEEDED', 'VERIFY SUCCEEDED', 'DEPLOY SUCCEEDED', 'DEPLOY SUCCEEDED', ...refused, 'DEPLOY SUCCEEDED',
      'VERIFY SUCCEEDED', 'REVERT SUCCEEDED', 'CLEAR SUCCEEDED',
    ]);
    expect(new Set([...secrets.entries()].filter(([name]) => name.startsWith('branch private key')).map(([, key]) => key)).size).toBe(3);
    expect(new Set([...secrets.entries()].filter(([name]) => name.startsWith('preshared key')).map(([, key]) => key)).size).toBe(3);
    for (const value of secrets.values()) expect(value.length).toBeGreaterThanOrEqual(10);
  });

  it('issue 13: the plan after rotatePeerKey shows that the private key changes, not the key', () => {
    expect(run.rotationPlan.filter((line) => /^~ update \S+ \S+: .*private[-_]?key (∅|‹secret›) → ‹new secret›/.test(line))).toHaveLength(1);
    expect(leaks(run.rotationPlan.join('\n'))).toEqual([]);
  });

  it('issue 13: a viewer reads the rotating deploy\'s log and result, with the change and without the key', () => {
    const rotating = run.viewerJobs[2]!;
    // The job log names the change in words: the key the device hides is 'not readable' (or masked), the new one 'new secret'.
    expect(rotating).toMatch(/private[-_]?key (not readable|‹secret›) → new secret/);
    expect(leaks(rotating)).toEqual([]);
    // The refused deploy: the device quoted the key, the job says it was cut out.
    if (started?.device.refuseQuoting) expect(run.viewerJobs[4]).toMatch(/‹redacted›/);
    expect(run.drift.some((item) => /≠ ‹wanted secret›/.test(item.detail))).toBe(true);
    expect(leaks(run.viewerJobs.join('\n'))).toEqual([]);
  });

  it('keeps them out of the trace log', () => {
    const log = logLines.join('');
    expect(logLines.length).toBeGreaterThan(10);
    for (const line of logLines) if (leaks(line).length) console.log('LEAK', line.slice(0, 1500));
    expect(leaks(log)).toEqual([]);
  });

  it('keeps them out of every database row, the raw database files and every recorded response', async () => {
    await t.app.database.prisma.$queryRawUnsafe('PRAGMA wal_checkpoint(PASSIVE)');
    const dump = dumpTables(path.join(t.dataDir, 'meshplane.db'));
    for (const action of ['device.deploy', 'device.verify', 'device.revert', 'device.clear', 'device.plan']) expect(dump).toContain(`"action":"${action}"`);
    expect(dump).toMatch(/private[-_]?key (not readable|‹secret›) → new secret/);
    expect(leaks(dump)).toEqual([]);
    expect(leaks(rawDatabaseFiles(t.dataDir))).toEqual([]);
    expect(responses.length).toBeGreaterThan(20);
    expect(leaks(responses.join('\n'))).toEqual([]);
  });
}
