// Bench: hub failover with redundant hubs (issue 15), in the network lab of
// server/test/lab/hub-redundancy.lab.test.ts (two hubs, three spokes, a CGNAT client, every site
// from its downloaded Linux bundle: wireguard-go + BIRD with BFD in network namespaces). A
// continuous probe (ping every 100 ms, receive times from `ping -D`) runs from spoke 2's LAN host
// to spoke 3's LAN host, a path through hub 1. Per repetition:
//   failover: hub 1's WireGuard interfaces go down at t0; the time from t0 to the first answer
//             after the last gap in the probe's answers (0 when nothing was lost);
//   return:   they come up again at t1; the time from t1 until both spokes route the path through
//             hub 1 again (ip route get, polled every 100 ms), and what the probe lost meanwhile.
// The same with hub 1's namespace removed (a dead machine) and rebuilt from its bundle (a reboot);
// there t1 is when `sh bundle start` has returned.
// Needs root, wireguard-go and bird2, like the lab; measures, never asserts.
import os from 'node:os';
import { Lab, type LabProcess } from '../server/test/lab/harness.js';
import { buildRedundantLab, HUB1, allPaths, probe, renderedRoute, siteDef, towardsHub } from '../server/test/lab/hub-redundancy-scenario.js';
import { BIRD_NEEDS, labWithUnavailableReason } from '../server/test/lab/require-lab.js';
import { percentile, report, round, sleep, withTimeout, type Metric } from './lib.js';

const REPETITIONS = 5;
const FROM = 'spoke2';
const TO = 'spoke3';
const TARGET = siteDef(TO).host as string;
const STEADY_S = 3;

interface Reply { at: number; seq: number }

function replies(probeProcess: LabProcess): Reply[] {
  const out: Reply[] = [];
  for (const match of probeProcess.output().matchAll(/^\[(\d+\.\d+)\] \d+ bytes from [\d.]+: icmp_seq=(\d+)/gm)) {
    out.push({ at: Number(match[1]), seq: Number(match[2]) });
  }
  return out;
}

/** Waits until the probe has answered without a gap for STEADY_S seconds after `since` (s). */
async function steadyAfter(probeProcess: LabProcess, since: number, what: string): Promise<Reply[]> {
  return withTimeout(what, 60_000, (async () => {
    for (;;) {
      const after = replies(probeProcess).filter((reply) => reply.at >= since);
      const lastGap = after.findLastIndex((reply, i) => i > 0 && reply.seq !== (after[i - 1] as Reply).seq + 1);
      const runStart = after[Math.max(0, lastGap)];
      const last = after.at(-1);
      if (runStart && last && last.at - runStart.at >= STEADY_S && Date.now() / 1000 - last.at < 0.5) return after;
      await sleep(100);
    }
  })());
}

/** Seconds from `since` to the first answer after the last gap, and how many probes were lost. */
function outage(after: Reply[], since: number, lastSeqBefore: number): { seconds: number; lost: number } {
  let lost = 0;
  let end: Reply | null = null;
  let previous = lastSeqBefore;
  for (const reply of after) {
    if (reply.seq > previous + 1) {
      lost += reply.seq - previous - 1;
      end = reply;
    }
    previous = Math.max(previous, reply.seq);
  }
  return { seconds: end ? end.at - since : 0, lost };
}

async function setLinks(lab: Lab, site: string, state: 'up' | 'down'): Promise<void> {
  await Promise.all([...lab.bundleInfo(site).interfaces.values()].map((name) => lab.exec(site, ['ip', 'link', 'set', name, state])));
}

async function routedThroughHub1(lab: Lab): Promise<boolean> {
  const [there, back] = await Promise.all([renderedRoute(lab, FROM, TARGET), renderedRoute(lab, TO, siteDef(FROM).host as string)]);
  return there === towardsHub(FROM, 1) && back === towardsHub(TO, 1);
}

function load(): string {
  return os.loadavg().map((value) => value.toFixed(2)).join(' ');
}

function summary(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: round(sorted[0] as number, 2), median: round(percentile(sorted, 50), 2), max: round(sorted.at(-1) as number, 2) };
}

const unavailable = labWithUnavailableReason(BIRD_NEEDS);
if (unavailable) {
  process.stderr.write(`failover bench needs the network lab: ${unavailable}\n`);
  process.exit(1);
}

interface Mode {
  name: string;
  repetitions: number;
  down(lab: Lab): Promise<void>;
  /** Returns when hub 1 has been brought back (the clock for the return starts after it). */
  up(lab: Lab, bundle: string): Promise<void>;
}

const MODES: Mode[] = [
  {
    name: 'hub 1 interfaces down',
    repetitions: REPETITIONS,
    down: (lab) => setLinks(lab, HUB1, 'down'),
    up: (lab) => setLinks(lab, HUB1, 'up'),
  },
  {
    // A dead machine: its namespace goes away; it comes back from the same bundle (a reboot).
    name: 'hub 1 namespace removed',
    repetitions: 3,
    down: (lab) => lab.removeSite(HUB1),
    up: async (lab, bundle) => {
      await lab.restoreSite(HUB1);
      await lab.upBundle(HUB1, bundle);
    },
  },
];

interface Measured { failover: number[]; failoverLost: number[]; back: number[]; backLost: number[] }

async function measure(lab: Lab, mode: Mode, bundle: string): Promise<Measured> {
  const measured: Measured = { failover: [], failoverLost: [], back: [], backLost: [] };
  for (let rep = 0; rep < mode.repetitions; rep++) {
    const ping = lab.spawn(FROM, ['ping', '-n', '-D', '-i', '0.1', TARGET], { where: 'lan' });
    try {
      await steadyAfter(ping, 0, 'probe steady before hub 1 goes down');
      const before = replies(ping).at(-1) as Reply;
      const down = Date.now() / 1000;
      await mode.down(lab);
      const lost = outage(await steadyAfter(ping, down, `probe steady after ${mode.name}`), down, before.seq);
      measured.failover.push(lost.seconds);
      measured.failoverLost.push(lost.lost);

      await mode.up(lab, bundle);
      const beforeUp = replies(ping).at(-1) as Reply;
      const up = Date.now() / 1000;
      await withTimeout('spokes route through hub 1 again', 90_000, (async () => {
        while (!(await routedThroughHub1(lab))) await sleep(100);
      })());
      measured.back.push(Date.now() / 1000 - up);
      measured.backLost.push(outage(await steadyAfter(ping, up, 'probe steady after hub 1 came back'), up, beforeUp.seq).lost);
      process.stderr.write(`${mode.name}, rep ${rep + 1}: failover ${lost.seconds.toFixed(2)} s (${lost.lost} lost), back on hub 1 after ${(measured.back.at(-1) as number).toFixed(2)} s (${measured.backLost.at(-1)} lost), load ${load()}\n`);
    } finally {
      await ping.kill();
    }
  }
  return measured;
}

const loadBefore = load();
const lab = await Lab.create();
const results = new Map<Mode, Measured>();
try {
  const { bundles } = await withTimeout('building the lab', 180_000, buildRedundantLab(lab));
  await withTimeout('all paths up', 60_000, (async () => {
    while (!(await Promise.all(allPaths().map((path) => probe(lab, path)))).every(Boolean)) await sleep(500);
  })());
  for (const mode of MODES) results.set(mode, await measure(lab, mode, bundles.get(HUB1) as string));
} finally {
  await lab.destroy();
}

const loads = `load ${loadBefore} -> ${load()}`;
const metrics: Metric[] = [];
for (const [mode, measured] of results) {
  const down = summary(measured.failover);
  const back = summary(measured.back);
  metrics.push(
    {
      bench: 'failover',
      name: `${mode.name} -> probe ${FROM} LAN -> ${TO} LAN answers again through hub 2, median of ${mode.repetitions}`,
      value: down.median,
      unit: 's',
      target: '<= 10 s',
      met: down.max <= 10,
      note: `min ${down.min} / median ${down.median} / max ${down.max} s; probes lost (100 ms apart) ${measured.failoverLost.join(', ')}; ${loads}`,
    },
    {
      bench: 'failover',
      name: `hub 1 back (${mode.name === MODES[0]?.name ? 'interfaces up' : 'namespace rebuilt, bundle started'}) -> both spokes route the path through hub 1 again, median of ${mode.repetitions}`,
      value: back.median,
      unit: 's',
      note: `min ${back.min} / median ${back.median} / max ${back.max} s; probes lost meanwhile ${measured.backLost.join(', ')}; ${loads}`,
    },
  );
}
report(metrics, { results: [...results].map(([mode, measured]) => ({ mode: mode.name, ...measured })), loadBefore, loadAfter: load() });
process.exit(0);
