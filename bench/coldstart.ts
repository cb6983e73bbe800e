// Bench 6: cold start to the first answered query. Spawns the server with a fresh data
// directory (creates and migrates the SQLite database, generates nothing else: the master
// key comes from the environment) and times until `{ health }` answers; then once more on
// the now-existing data directory (a restart).
import fs from 'node:fs';
import { spawnServer } from './server-process.js';
import { percentile, report, round, tempDir, type Metric } from './lib.js';

const RUNS = 3;
const fresh: number[] = [];
const restart: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dataDir = tempDir('cold');
  try {
    const first = await spawnServer({ dataDir });
    fresh.push(first.readyMs);
    await first.stop();
    const second = await spawnServer({ dataDir });
    restart.push(second.readyMs);
    await second.stop();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
fresh.sort((a, b) => a - b);
restart.sort((a, b) => a - b);
const metrics: Metric[] = [
  { bench: 'coldstart', name: 'spawn to first { health } answer, fresh data dir (migrates)', value: round(percentile(fresh, 50)), unit: 'ms', note: `median of ${RUNS}: ${fresh.map((ms) => round(ms, 0)).join(', ')} ms` },
  { bench: 'coldstart', name: 'spawn to first { health } answer, existing data dir', value: round(percentile(restart, 50)), unit: 'ms', note: `median of ${RUNS}: ${restart.map((ms) => round(ms, 0)).join(', ')} ms` },
];
report(metrics);
process.exit(0);
