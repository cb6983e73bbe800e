// Bench 4: 50 RouterOS simulators on loopback (binary API, in a child process), one per site of a 50-site mesh
// WAN; every site deployed through GraphQL deployPeer at once. Measures the time until
// every deploy job has finished, device commands per router, and the writes (add / set /
// remove) of a second deploy of the unchanged WAN, which must be zero. A simulated tunnel
// comes up as soon as its peer is added, so the post-deploy handshake probe passes.
import { startFleet, type Fleet } from './fleet.js';
import { createWan, sql, startBenchApp, type BenchApp } from './app.js';
import { percentile, report, round, withTimeout, type Metric } from './lib.js';

const ROUTERS = 50;
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

async function deployAll(bench: BenchApp, peerIds: string[]): Promise<{ seconds: number; failed: string[]; steps: string; statements: number }> {
  const started = performance.now();
  const statementsBefore = sql.statements;
  const jobs = await Promise.all(peerIds.map(async (peerId) => (await bench.admin.ok<{ deployPeer: { id: string } }>(
    `mutation ($peerId: ID!) { deployPeer(peerId: $peerId, approve: true) { id } }`, { peerId },
  )).deployPeer.id));
  await withTimeout('deploy jobs', 120_000, bench.app.services.jobs.drain());
  const seconds = (performance.now() - started) / 1000;
  const statements = sql.statements - statementsBefore;
  const rows = await bench.app.database.prisma.deployJob.findMany({ where: { id: { in: jobs } }, select: { status: true, error: true, steps: true, createdAt: true, startedAt: true } });
  return { seconds, statements, steps: stepBreakdown(rows), failed: rows.filter((row) => row.status !== 'SUCCEEDED').map((row) => `${row.status}: ${row.error ?? ''}`.slice(0, 120)) };
}

let fleet: Fleet | null = null;
let bench: BenchApp | null = null;
const metrics: Metric[] = [];
try {
  fleet = await startFleet(ROUTERS, true);
  bench = await startBenchApp();
  const wanId = await createWan(bench.admin, 'deploy-50', { topology: 'MESH' });
  const peerIds: string[] = [];
  for (const [i, sim] of fleet.routers.entries()) {
    const { createDevice } = await bench.admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: `router-${i}`, kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, tls: false, username: sim.username, secret: sim.password },
    });
    const { addPeer } = await bench.admin.ok<{ addPeer: { peer: { id: string } } }>(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, {
      wanId, input: { name: `router-${i}`, role: 'SITE', endpointHost: `router${i}.example.net`, endpointPort: 51820, deviceId: createDevice.id },
    });
    peerIds.push(addPeer.peer.id);
  }

  const first = await deployAll(bench, peerIds);
  const counters = await fleet.counts();
  const perRouter = counters.map((c) => c.commands).sort((a, b) => a - b);
  const firstWrites = counters.reduce((sum, c) => sum + c.writes, 0);
  await fleet.reset();
  const again = await deployAll(bench, peerIds);
  const countersAgain = await fleet.counts();
  const redeployWrites = countersAgain.reduce((sum, c) => sum + c.writes, 0);
  const perRouterAgain = countersAgain.map((c) => c.commands).sort((a, b) => a - b);
  metrics.push(
    { bench: 'deploy', name: `deploy ${ROUTERS} routers (50-site mesh, deployPeer each)`, value: round(first.seconds, 2), unit: 's', target: '< 10 s', met: first.seconds < 10 && first.failed.length === 0, note: `${first.failed.length ? `${first.failed.length} failed: ${first.failed[0]}` : 'all succeeded'}; mean per job: ${first.steps}` },
    { bench: 'deploy', name: 'SQL statements per deploy job (first deploy)', value: round(first.statements / ROUTERS), unit: 'stmts' },
    { bench: 'deploy', name: 'device commands per router (first deploy)', value: percentile(perRouter, 50), unit: 'cmds', note: `min ${perRouter[0]}, max ${perRouter[perRouter.length - 1]}; ${firstWrites} writes in all` },
    { bench: 'deploy', name: 'redeploy unchanged WAN', value: round(again.seconds, 2), unit: 's', note: `${again.failed.length ? `${again.failed.length} failed: ${again.failed[0]}` : 'all succeeded'}; mean per job: ${again.steps}` },
    { bench: 'deploy', name: 'device commands per router (unchanged redeploy)', value: percentile(perRouterAgain, 50), unit: 'cmds', note: `min ${perRouterAgain[0]}, max ${perRouterAgain[perRouterAgain.length - 1]}` },
    { bench: 'deploy', name: 'writes on unchanged redeploy (all routers)', value: redeployWrites, unit: 'writes', target: '0', met: redeployWrites === 0 },
  );
} finally {
  await bench?.stop();
  await fleet?.stop();
}
report(metrics);
process.exit(0);
