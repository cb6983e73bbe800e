// `npm run bench`: runs every bench in its own process (bounded in time), prints one table
// and writes bench/results/latest.json. Measures, never fails on a missed target.
// `npm run bench -- render api` runs only the named benches.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDir, loadAverage as load, type Metric } from './lib.js';

const BENCHES: Array<{ name: string; file: string; what: string; timeoutS: number }> = [
  { name: 'render', file: 'render.ts', what: 'render all configs vs plain concatenation', timeoutS: 240 },
  { name: 'api', file: 'api.ts', what: 'WAN page latency and SQL statements per request', timeoutS: 240 },
  { name: 'peer-search', file: 'peer-search.ts', what: 'peer table search/filter/sort/second page at 500 and 5,000 peers: latency and SQL statements', timeoutS: 300 },
  { name: 'alloc', file: 'alloc.ts', what: '1,000 concurrent addPeer, SQLite and PostgreSQL', timeoutS: 420 },
  { name: 'deploy', file: 'deploy.ts', what: '200 RouterOS simulators (hub-and-spoke) and 50 (full mesh), deploy and unchanged redeploy', timeoutS: 420 },
  { name: 'live', file: 'live.ts', what: 'handshake to 200 and 1,000 subscribers, server RSS', timeoutS: 600 },
  { name: 'previews', file: 'previews.ts', what: '5 configPreview lists + 20 such subscriptions on one socket, 201-peer WAN', timeoutS: 180 },
  { name: 'coldstart', file: 'coldstart.ts', what: 'spawn to first answered query', timeoutS: 150 },
  { name: 'side-by-side', file: 'side-by-side.ts', what: "issue 21's wg-easy workload, one request at a time: create N peers, download every config, RSS (N = 250, 1,000)", timeoutS: 900 },
  { name: 'scale', file: 'scale.ts', what: '10,000-peer hub-and-spoke: download (unchanged, after a change, after an add), WAN page first view, addPeer, RSS', timeoutS: 900 },
  { name: 'failover', file: 'failover.ts', what: 'redundant hubs in the network lab: hub 1 down and up under a 100 ms probe', timeoutS: 600 },
];

interface Outcome { name: string; seconds: number; loadBefore: string; loadAfter: string; metrics: Metric[]; error?: string }

function runOne(bench: (typeof BENCHES)[number]): Promise<Outcome> {
  const loadBefore = load();
  const started = performance.now();
  return new Promise((resolve) => {
    // Production mode, as `npm start` runs the server: the in-process benches (api, alloc,
    // deploy) build the app in the bench process itself.
    const env = { NODE_ENV: 'production', ...process.env };
    const child = spawn(process.execPath, [...process.execArgv, path.join(benchDir, bench.file)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-3000); });
    // Bounded: the bench and everything it started (its process group) end at the deadline.
    const timer = setTimeout(() => { try { process.kill(-(child.pid as number), 'SIGKILL'); } catch { /* gone */ } }, bench.timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH-RESULT '));
      const parsed = line ? (JSON.parse(line.slice('BENCH-RESULT '.length)) as { metrics: Metric[] }) : null;
      // The error line itself, not the last lines of a stack trace or an object dump.
      const lines = stderr.trim().split('\n');
      const errorLine = lines.filter((l) => /^\w*(Error|Exception)\b|Error: /.test(l.trim())).pop();
      const error = parsed ? undefined : signal === 'SIGKILL' ? `stopped after ${bench.timeoutS} s` : `exit ${code}: ${errorLine ? `${errorLine.trim()} | ` : ''}${lines.slice(-3).join(' | ')}`;
      resolve({ name: bench.name, seconds, loadBefore, loadAfter: load(), metrics: parsed?.metrics ?? [], ...(error ? { error } : {}) });
    });
  });
}

function table(outcomes: Outcome[]): string {
  const rows: string[][] = [['bench', 'metric', 'value', 'target', 'met', 'note']];
  for (const outcome of outcomes) {
    if (outcome.error) rows.push([outcome.name, '(failed)', '', '', '', outcome.error]);
    for (const m of outcome.metrics) {
      rows.push([m.bench, m.name, `${Number.isFinite(m.value) ? m.value : '-'} ${m.unit}`, m.target ?? '', m.met === undefined ? '' : m.met ? 'yes' : 'NO', m.note ?? '']);
    }
  }
  const widths = rows[0]!.map((_, column) => Math.min(column === 5 ? 200 : 70, Math.max(...rows.map((row) => row[column]!.length))));
  return rows.map((row, i) => {
    const text = row.map((cell, column) => cell.slice(0, widths[column]).padEnd(widths[column]!)).join(' | ');
    return i === 0 ? `${text}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}` : text;
  }).join('\n');
}

const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const selected = wanted.length ? BENCHES.filter((bench) => wanted.includes(bench.name)) : BENCHES;
const started = new Date();
const outcomes: Outcome[] = [];
for (const bench of selected) {
  process.stderr.write(`bench ${bench.name}: ${bench.what} (load ${load()}) ...\n`);
  const outcome = await runOne(bench);
  process.stderr.write(`bench ${bench.name}: ${outcome.error ?? 'done'} in ${outcome.seconds.toFixed(1)} s\n`);
  outcomes.push(outcome);
}
const result = {
  startedAt: started.toISOString(),
  finishedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAtEnd: load() },
  benches: outcomes,
};
const resultsDir = path.join(benchDir, 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, 'latest.json');
fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\n${table(outcomes)}\n`);
console.log(`load average (1/5/15 min) per bench: ${outcomes.map((o) => `${o.name} ${o.loadBefore} -> ${o.loadAfter}`).join('; ')}`);
console.log(`${os.cpus().length} CPUs, Node ${process.version}; results in ${path.relative(process.cwd(), file)}`);
