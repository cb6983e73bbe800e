// Bench 4: RouterOS simulators on loopback (binary API, in a child process), one per peer of a
// WAN; every peer deployed through GraphQL deployPeer at once. Measures the time until every
// deploy job has finished, where a job spends it, device commands per router, SQL statements
// per job, and the writes (add / set / remove) of a second deploy of the unchanged WAN, which
// must be zero. A simulated tunnel comes up as soon as its peer is added, so the
// post-deploy handshake probe passes.
//
// Two WANs. The issue's 200 routers as hub-and-spoke (1 hub + 199 spokes): a WAN of 200
// routers is a hub (or a few) and branches, not a full mesh, whose 200 x 199 peers nobody runs
// (each router would hold 199 tunnels); the hub is the heavy router (199 peers, 199 routes),
// each spoke light. And the 50-site full mesh of the earlier runs (49 peers on every router).
//
// Each device allows 16 requests in flight (its `concurrency`; the default 1 sends one command
// at a time, as before pipelining). DEPLOY_DEVICE_CONCURRENCY, DEPLOY_PIPELINE_WINDOW (default:
// the driver's) and DEPLOY_JOB_CONCURRENCY (default: the server's) are for before/after
// comparisons; DEPLOY_SCENARIOS=hub-spoke runs one WAN.
import fs from 'node:fs';
import { startFleet, type Fleet } from './fleet.js';
import { createWan, sql, startBenchApp, type BenchApp } from './app.js';
import { loadAverage, percentile, report, round, withTimeout, type Metric } from './lib.js';
import { DeviceLimiters } from '../server/src/devices/limits.js';
import { createDriverFactory } from '../server/src/devices/factory.js';
import { createRouterOsDriver } from '../server/src/devices/routeros/index.js';

interface Scenario { name: string; routers: number; topology: 'HUB_SPOKE' | 'MESH'; label: string }
const SCENARIOS: Scenario[] = [
  { name: 'hub-spoke', routers: 200, topology: 'HUB_SPOKE', label: '200 routers (hub-and-spoke: 1 hub + 199 spokes)' },
  { name: 'mesh', routers: 50, topology: 'MESH', label: '50 routers (50-site full mesh)' },
];
const only = process.env.DEPLOY_SCENARIOS?.split(',');
const pipelineWindow = process.env.DEPLOY_PIPELINE_WINDOW ? Number(process.env.DEPLOY_PIPELINE_WINDOW) : undefined;
const jobConcurrency = process.env.DEPLOY_JOB_CONCURRENCY ? Number(process.env.DEPLOY_JOB_CONCURRENCY) : undefined;
const deviceConcurrency = Number(process.env.DEPLOY_DEVICE_CONCURRENCY ?? 16);
const JOBS_TIMEOUT_MS = 120_000;

interface StepRow { name: string; startedAt: string; finishedAt: string | null }

/** Mean seconds per job step (and queued time), to show where a deploy spends its time. */
function stepBreakdown(rows: Array<{ steps: string; createdAt: Date; startedAt: Date | null }>): string {
  const totals = new Map<string, number>();
  for (const row of rows) {
    if (row.startedAt) totals.set('queued', (totals.get('queued') ?? 0) + (row.startedAt.getTime() - row.createdAt.getTime()));
    for (const step of JSON.parse(row.steps) as StepRow[]) {
      if (!step.finishedAt) continue;
      totals.set(step.name, (totals.get(step.name) ?? 0) + (Date.parse(step.finishedAt) - Date.parse(step.startedAt)));
    }
  }
  return [...totals].map(([name, ms]) => `${name} ${round(ms / rows.length / 1000, 2)} s`).join(', ');
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function deployAll(bench: BenchApp, peerIds: string[], fleetPid: number): Promise<{ seconds: number; failed: string[]; steps: string; statements: number; load: string; cpu: string }> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const fleetCpuBefore = cpuSecondsOf(fleetPid);
  const statementsBefore = sql.statements;
  const jobs = await Promise.all(peerIds.map(async (peerId) => (await bench.admin.ok<{ deployPeer: { id: string } }>(
    `mutation ($peerId: ID!) { deployPeer(peerId: $peerId, approve: true) { id } }`, { peerId },
  )).deployPeer.id));
  await withTimeout('deploy jobs', JOBS_TIMEOUT_MS, bench.app.services.jobs.drain());
  const seconds = (performance.now() - started) / 1000;
  const load = loadAverage();
  const used = process.cpuUsage(cpuBefore);
  const cpu = `CPU used: server ${round((used.user + used.system) / 1e6, 1)} s, simulators ${round(cpuSecondsOf(fleetPid) - fleetCpuBefore, 1)} s`;
  const statements = sql.statements - statementsBefore;
  const rows = await bench.app.database.prisma.deployJob.findMany({ where: { id: { in: jobs } }, select: { status: true, error: true, steps: true, createdAt: true, startedAt: true } });
  return { seconds, statements, load, cpu, steps: stepBreakdown(rows), failed: rows.filter((row) => row.status !== 'SUCCEEDED').map((row) => `${row.status}: ${row.error ?? ''}`.slice(0, 120)) };
}

/** Creates one device per simulator and one peer on each (the first the hub of a hub-and-spoke WAN). */
async function buildWan(bench: BenchApp, fleet: Fleet, scenario: Scenario): Promise<string[]> {
  const wanId = await createWan(bench.admin, `deploy-${scenario.name}`, { topology: scenario.topology });
  const peerIds: string[] = new Array(fleet.routers.length);
  let next = 0;
  // A few at a time: addPeer allocates tunnel IPs in one WAN, which serialises anyway.
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < fleet.routers.length) {
      const i = next++;
      const sim = fleet.routers[i]!;
      const { createDevice } = await bench.admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
        input: { name: `router-${i}`, kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, tls: false, username: sim.username, secret: sim.password, concurrency: deviceConcurrency },
      });
      const role = scenario.topology === 'HUB_SPOKE' && i === 0 ? 'HUB' : 'SITE';
      const { addPeer } = await bench.admin.ok<{ addPeer: { peer: { id: string } } }>(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, {
        wanId, input: { name: `router-${i}`, role, endpointHost: `router${i}.example.net`, endpointPort: 51820, deviceId: createDevice.id },
      });
      peerIds[i] = addPeer.peer.id;
    }
  }));
  return peerIds;
}

async function runScenario(scenario: Scenario): Promise<Metric[]> {
  let fleet: Fleet | null = null;
  let bench: BenchApp | null = null;
  try {
    fleet = await startFleet(scenario.routers, true);
    const limiters = new DeviceLimiters();
    const plain = createDriverFactory(limiters);
    bench = await startBenchApp({
      ...(jobConcurrency ? { jobConcurrency } : {}),
      ...(pipelineWindow ? { driverFactory: async (target) => (target.kind === 'ROUTEROS_API' ? createRouterOsDriver(target, { limiter: limiters.forDevice(target), pipelineWindow }) : plain(target)) } : {}),
    });
    const peerIds = await buildWan(bench, fleet, scenario);
    await fleet.reset();
    const loadBefore = loadAverage();
    const first = await deployAll(bench, peerIds, fleet.pid);
    const counters = await fleet.counts();
    const perRouter = counters.map((c) => c.commands).sort((a, b) => a - b);
    const firstWrites = counters.reduce((sum, c) => sum + c.writes, 0);
    await fleet.reset();
    const again = await deployAll(bench, peerIds, fleet.pid);
    const countersAgain = await fleet.counts();
    const redeployWrites = countersAgain.reduce((sum, c) => sum + c.writes, 0);
    const perRouterAgain = countersAgain.map((c) => c.commands).sort((a, b) => a - b);
    const n = scenario.routers;
    const settings = `device concurrency ${deviceConcurrency}, pipeline window ${pipelineWindow ?? 'default (16)'}, jobs at once ${jobConcurrency ?? 'default (16)'}`;
    return [
      { bench: 'deploy', name: `deploy ${scenario.label}, deployPeer each, until all jobs ended`, value: round(first.seconds, 2), unit: 's', target: '< 10 s', met: first.seconds < 10 && first.failed.length === 0, note: `${first.failed.length ? `${first.failed.length} failed: ${first.failed[0]}` : 'all succeeded'}; mean per job: ${first.steps}; ${first.cpu}; ${settings}; load ${loadBefore} before, ${first.load} after` },
      { bench: 'deploy', name: `${n} routers: SQL statements per deploy job (first deploy)`, value: round(first.statements / n), unit: 'stmts' },
      { bench: 'deploy', name: `${n} routers: device commands per router (first deploy), median`, value: percentile(perRouter, 50), unit: 'cmds', note: `min ${perRouter[0]}, max ${perRouter[perRouter.length - 1]}; ${firstWrites} writes in all` },
      { bench: 'deploy', name: `${n} routers: redeploy unchanged WAN`, value: round(again.seconds, 2), unit: 's', note: `${again.failed.length ? `${again.failed.length} failed: ${again.failed[0]}` : 'all succeeded'}; mean per job: ${again.steps}; ${again.cpu}; load ${again.load} after` },
      { bench: 'deploy', name: `${n} routers: device commands per router (unchanged redeploy), median`, value: percentile(perRouterAgain, 50), unit: 'cmds', note: `min ${perRouterAgain[0]}, max ${perRouterAgain[perRouterAgain.length - 1]}` },
      { bench: 'deploy', name: `${n} routers: writes on unchanged redeploy (all routers)`, value: redeployWrites, unit: 'writes', target: '0', met: redeployWrites === 0 },
    ];
  } finally {
    await bench?.stop();
    await fleet?.stop();
  }
}

const metrics: Metric[] = [];
for (const scenario of SCENARIOS.filter((candidate) => !only || only.includes(candidate.name))) metrics.push(...await runScenario(scenario));
report(metrics);
process.exit(0);
