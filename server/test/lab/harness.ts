/**
 * Network lab: proves that rendered wg-quick configs actually carry packets.
 *
 * Layout of one lab (run id `R`, 6 chars [a-z0-9], unique per `Lab.create()`):
 *
 *   mp-R--underlay          a namespace holding bridge `br0`: the "internet" (100.64.0.0/24,
 *                           which only ever exists inside these namespaces)
 *   mp-R-<site>             the site's router: `ul0` on the underlay (100.64.0.<k+1>), `lan0` on
 *                           its LAN; wg-quick runs here. IPv4 forwarding is off unless asked for:
 *                           the rendered conf must turn it on (PostUp sysctl) when the peer routes
 *   mp-R-<site>-lan         one host on the site's LAN (`eth0` = lanHostIp, default route via the
 *                           router's LAN address), so a ping that answers from lanHostIp has really
 *                           been forwarded by the router onto its LAN. With `lanCidr6` the same
 *                           host also has an IPv6 address (and an IPv6 default route via the
 *                           router's IPv6 LAN address); IPv6 forwarding is off in the router too
 *   mp-R-<site>-nat         only for `behindNat` sites: a masquerading box between the site and
 *                           the underlay (CGNAT). The site then has no reachable address.
 *
 * `Lab.create({ underlay: 'ipv6' })` builds an IPv6-only underlay instead: `ul0` gets fd64::<k+1>/64
 * (a ULA) and no IPv4 address at all, so a tunnel between two sites can only run over IPv6 (the
 * LANs are whatever the sites ask for, either family). There is no NAT box for IPv6 (`behindNat` is refused): a site
 * that must dial out, like one behind CGNAT, is a peer without an endpoint.
 *
 * Tunnels are real wireguard-go interfaces (the kernel here has no WireGuard module) brought up by
 * `ip netns exec NS wg-quick up DIR/<ifname>.conf`. wg-quick names the interface after the file, so a
 * rendered conf is used verbatim and only its file name is chosen by the lab.
 *
 * Why unique interface names (`mpR<n>`) rather than a private /var/run/wireguard per wg-quick call
 * (`unshare -m`): userspace WireGuard's UAPI socket `/var/run/wireguard/<ifname>.sock` lives in the
 * filesystem, which every network namespace shares. A private mount namespace would also have to be
 * entered by every later `wg show`, `wg-quick down` and by cleanup (nsenter against the daemon's
 * PID), and it dies with its last process, which makes teardown after a crash guesswork. Names that
 * embed the run id cannot collide across namespaces, concurrent runs or other tools using `wg0`, and
 * every plain `wg`/`wg-quick` command keeps working. Consequence: `wg show all` inside one namespace
 * lists the userspace interfaces of *all* namespaces, so `wgShow()` filters to the site's own.
 *
 * wireguard-go: wg-quick falls back to it by itself when `ip link add … type wireguard` fails
 * (verified here). Left alone, wireguard-go daemonises and is re-parented to PID 1, which on some
 * machines (this one) never reaps it. So the lab points WG_QUICK_USERSPACE_IMPLEMENTATION at a tiny
 * script that asks the lab (via a marker file) to start `wireguard-go -f <ifname>` as a child of this
 * Node process and waits for its UAPI socket: the lab then knows every daemon's PID, reaps it, and
 * keeps its log (`DIR/<ifname>.log`) for failure messages. On a kernel with WireGuard the script is
 * never called and everything still works.
 *
 * Linux bundles (redundant hubs): `upBundle(site, text)` runs a downloaded bundle as a user would:
 * `sh bundle extract` into `DIR/<site>` (MESHPLANE_DIR), then renames each `wireguard/<name>.conf` to
 * a unique lab interface name (the UAPI sockets above; bird.conf names no interface, so nothing else
 * changes), then `sh bundle start` inside the site's namespace. MESHPLANE_BIRD points at a shim that,
 * like the wireguard-go one, asks the lab to start `bird -f <the bundle's own arguments>` as a child
 * of this process: every BIRD is known by PID, reaped, and its output kept in `DIR/<site>.bird.log`.
 * `removeSite()` deletes a site's namespaces (and kills what ran there, by PID); `restoreSite()`
 * builds them again with the same addresses, so the same bundle can be brought up there again.
 *
 * iptables: Debian's `iptables` is iptables-nft; it works inside the namespaces, including the xt
 * NETMAP/DNAT/MASQUERADE targets that PostUp rules use (verified here).
 *
 * Labs are serialised machine-wide by a flock (see acquireLabLock), so lab test files may run under
 * any runner configuration without overlapping.
 *
 * Hygiene: every command runs with a timeout and argument arrays (never a shell string); processes
 * are killed by PID, namespaces deleted by name (all names start with `mp-R-`), temp files live in
 * `$TMPDIR/meshplane-lab-R` (0700, confs 0600). `destroy()` is idempotent; a process 'exit' hook
 * destroys labs that a crashed test left behind, and `Lab.create()` sweeps the leftovers of runs
 * whose owning process is gone (identified by run id + the owner PID recorded in the temp dir).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { contains, formatAddress, hostRange, tryParseAddress, tryParseCidr } from '../../src/domain/ip.js';

// ---------------------------------------------------------------------------------------------
// Bounded command execution
// ---------------------------------------------------------------------------------------------

export interface RunResult {
  argv: readonly string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** Hard limit; the process is SIGKILLed when it expires. Default 15 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Throw LabCommandError unless the exit code is 0. Default true. */
  check?: boolean;
}

export class LabCommandError extends Error {
  constructor(readonly result: RunResult, extra = '') {
    const why = result.timedOut
      ? 'timed out'
      : result.signal
        ? `killed by ${result.signal}`
        : `exit code ${String(result.code)}`;
    super(
      `command failed (${why}): ${result.argv.join(' ')}\n` +
        (result.stderr.trim() ? `stderr:\n${result.stderr.trim()}\n` : '') +
        (result.stdout.trim() ? `stdout:\n${result.stdout.trim()}\n` : '') +
        extra,
    );
    this.name = 'LabCommandError';
  }
}

const MAX_OUTPUT = 1 << 20;

/** Run `file args…` without a shell, bounded by a timeout. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const argv = [file, ...args];
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A grandchild that inherited our pipes (a daemon started by a PostUp line) must not keep
      // us waiting: stop listening once the direct child is gone.
      child.stdout.destroy();
      child.stderr.destroy();
      const result: RunResult = { argv, code, signal, stdout, stderr, timedOut };
      if ((opts.check ?? true) && code !== 0) reject(new LabCommandError(result));
      else resolve(result);
    };
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot run ${argv.join(' ')}: ${err.message}`));
    });
    // 'exit' fires when the process ends; 'close' waits for its stdio. Prefer 'close' but do not
    // wait more than 300 ms after 'exit' for it.
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), 300).unref();
    });
    child.on('close', (code, signal) => finish(code, signal));
    child.stdin.on('error', () => {
      /* the child may exit before reading stdin */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** `wg genkey` / `wg pubkey`, keys passed on stdin (never on a command line). */
export async function wgKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = (await run('wg', ['genkey'], { timeoutMs: 5_000 })).stdout.trim();
  const publicKey = (await run('wg', ['pubkey'], { input: `${privateKey}\n`, timeoutMs: 5_000 })).stdout.trim();
  return { privateKey, publicKey };
}

export async function wgPresharedKey(): Promise<string> {
  return (await run('wg', ['genpsk'], { timeoutMs: 5_000 })).stdout.trim();
}

// ---------------------------------------------------------------------------------------------
// Small IPv4 helpers
// ---------------------------------------------------------------------------------------------

function ipToInt(ip: string): number {
  if (!net.isIPv4(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function parseCidr(cidr: string): { network: number; prefix: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const prefix = Number(m[2]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (ipToInt(m[1]!) & mask) >>> 0, prefix };
}

function cidrContains(cidr: string, ip: string): boolean {
  const { network, prefix } = parseCidr(cidr);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === network;
}

/** A site's IPv6 LAN: the router's and the host's address, and the prefix length (domain/ip.ts does the maths). */
function lan6Addresses(cidr: string, host: string, router: string | undefined): { router: string; host: string; prefix: number } {
  const lan = tryParseCidr(cidr);
  if (!lan || lan.family !== 6) throw new Error(`not an IPv6 CIDR: ${cidr}`);
  if (lan.prefix > 126) throw new Error(`LAN ${cidr} too small`);
  const inLan = (text: string): bigint => {
    const position = tryParseAddress(text);
    if (position === null || !contains(lan, hostRange(position))) throw new Error(`${text} not in ${cidr}`);
    return position;
  };
  const hostAt = inLan(host);
  // Not the subnet-router anycast address (the prefix itself): the first one after it.
  let routerAt = router !== undefined ? inLan(router) : lan.start + 1n;
  if (router === undefined && routerAt === hostAt) routerAt += 1n;
  return { router: formatAddress(routerAt), host: formatAddress(hostAt), prefix: lan.prefix };
}

// ---------------------------------------------------------------------------------------------
// wg show dump
// ---------------------------------------------------------------------------------------------

export interface WgPeerDump {
  publicKey: string;
  presharedKey: boolean;
  endpoint: string | null;
  allowedIps: string[];
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  persistentKeepalive: number | null;
}

export interface WgInterfaceDump {
  name: string;
  publicKey: string;
  listenPort: number;
  fwmark: string | null;
  peers: WgPeerDump[];
}

/** Parse `wg show all dump` (tab separated; interface lines have 5 fields, peer lines 9). */
export function parseWgDump(text: string): WgInterfaceDump[] {
  const byName = new Map<string, WgInterfaceDump>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split('\t');
    if (f.length === 5) {
      byName.set(f[0]!, {
        name: f[0]!,
        publicKey: f[2]!,
        listenPort: Number(f[3]),
        fwmark: f[4] === 'off' ? null : f[4]!,
        peers: [],
      });
    } else if (f.length === 9) {
      const iface = byName.get(f[0]!);
      if (!iface) throw new Error(`wg dump: peer line before its interface: ${line}`);
      iface.peers.push({
        publicKey: f[1]!,
        presharedKey: f[2] !== '(none)',
        endpoint: f[3] === '(none)' ? null : f[3]!,
        allowedIps: f[4] === '(none)' ? [] : f[4]!.split(','),
        latestHandshake: Number(f[5]),
        rxBytes: Number(f[6]),
        txBytes: Number(f[7]),
        persistentKeepalive: f[8] === 'off' ? null : Number(f[8]),
      });
    } else {
      throw new Error(`wg dump: unexpected line: ${line}`);
    }
  }
  return [...byName.values()];
}

// ---------------------------------------------------------------------------------------------
// The lab
// ---------------------------------------------------------------------------------------------

export interface SiteOptions {
  /** The site's LAN, e.g. 192.168.1.0/24. Omit for a roaming client without a LAN. */
  lanCidr?: string;
  /** The LAN host's address (in its own namespace behind the router). */
  lanHostIp?: string;
  /** The router's own address on the LAN (default: first host address that is not lanHostIp). */
  lanRouterIp?: string;
  /**
   * The site's IPv6 LAN, e.g. 2001:db8:1::/64, beside the IPv4 one or alone: the same LAN host
   * (and the same router port) gets an address of each family, with a default route of each.
   */
  lanCidr6?: string;
  /** The LAN host's IPv6 address. */
  lanHostIp6?: string;
  /** The router's IPv6 address on the LAN (default: first address after the subnet-router anycast that is not lanHostIp6). */
  lanRouterIp6?: string;
  /** Put the site behind a masquerading NAT box (CGNAT): it gets no reachable address. */
  behindNat?: boolean;
  /**
   * Turn IPv4 forwarding on in the router up front (and IPv6 forwarding, when the site has an IPv6
   * LAN). Default false, like a freshly installed Linux host: a rendered conf for a peer that
   * routes (LAN, hub, services) must enable it itself, for each family it routes.
   */
  forwarding?: boolean;
}

export type Where = 'router' | 'lan';

interface Site {
  name: string;
  index: number;
  ns: string;
  lanNs: string | null;
  natNs: string | null;
  underlayIp: string;
  publicIp: string;
  lanCidr: string | null;
  lanHostIp: string | null;
  lanRouterIp: string | null;
  lanHostIp6: string | null;
  lanRouterIp6: string | null;
  interfaces: string[];
  opts: SiteOptions;
  /** Its namespaces were deleted by removeSite(). */
  removed: boolean;
  bundle: SiteBundle | null;
}

interface SiteBundle {
  /** The bundle script as downloaded (0600). */
  script: string;
  /** MESHPLANE_DIR of the site. */
  dir: string;
  /** Rendered interface name (wg0, wg0h2, ...) -> the lab's unique name. */
  names: Map<string, string>;
  bird: ChildProcess | null;
  birdLog: string;
  /** The control socket the bundle gave BIRD (-s). */
  birdSocket: string | null;
}

export interface BundleInfo {
  /** MESHPLANE_DIR the bundle was extracted to. */
  dir: string;
  /** Rendered interface name -> the lab's unique interface name. */
  interfaces: Map<string, string>;
  /** PID of the site's BIRD, or null when the bundle runs none. */
  birdPid: number | null;
}

interface Iface {
  name: string;
  site: string;
  confPath: string;
  logPath: string;
  daemon: ChildProcess | null;
  up: boolean;
}

export interface LabProcess {
  pid: number;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface PingOptions {
  /** Echo replies required (default 1). */
  count?: number;
  /** Deadline for the whole ping (default 5 s). */
  timeoutSec?: number;
  /** Ping from the site's LAN host instead of its router. */
  from?: Where;
  /** Source address (ping -I). */
  source?: string;
}

const UNDERLAY_CIDR = '100.64.0.0/24';
const UNDERLAY6_PREFIX = 'fd64::';
const UNDERLAY6_LENGTH = 64;

export type UnderlayFamily = 'ipv4' | 'ipv6';

export interface LabOptions {
  /** The underlay's address family (default 'ipv4': 100.64.0.0/24; 'ipv6': fd64::/64 only). */
  underlay?: UnderlayFamily;
}
const SITE_NAME = /^[a-z][a-z0-9]{0,15}$/;
const NS_RUN = /^mp-([a-z0-9]{6})-/;
const WG_RUN_DIR = '/var/run/wireguard';
const STATE_PREFIX = 'meshplane-lab-';

const live = new Set<Lab>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.destroySync();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `problems()` every half second until it returns none, or throws after `timeoutMs` with
 * the last ones and what `explain()` says. A bounded wait for paths that need a first handshake.
 */
export async function converge(what: string, problems: () => Promise<string[]>, explain: () => Promise<string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await problems();
    if (found.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${what}: not converged within ${timeoutMs / 1000} s:\n  ${found.join('\n  ')}\n${await explain()}`);
    await sleep(500);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie has exited; only its parent's wait() is missing.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function running(child: ChildProcess | null): child is ChildProcess {
  return child !== null && child.exitCode === null && child.signalCode === null;
}

function syncQuiet(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { timeout: 5_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function listNamespacesSync(): string[] {
  return syncQuiet('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

function namespacePidsSync(ns: string): number[] {
  return syncQuiet('ip', ['netns', 'pids', ns])
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid);
}

/** Live (non-zombie) processes whose command line names this run's interfaces or namespaces. */
function runProcessesSync(runId: string): number[] {
  const marks = [`mp${runId}`, `mp-${runId}-`];
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (args.some((a) => marks.some((m) => a === m || a.startsWith(m))) && pidAlive(pid)) out.push(pid);
  }
  return out;
}

function killSync(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Synchronous teardown of everything named after `runId` (used by the exit hook and the sweeper). */
function teardownRunSync(runId: string, stateDir: string): void {
  const prefix = `mp-${runId}-`;
  for (const ns of listNamespacesSync().filter((n) => n.startsWith(prefix))) {
    killSync(namespacePidsSync(ns));
    syncQuiet('ip', ['netns', 'del', ns]);
  }
  // wireguard-go keeps its tun (and thus the namespace) alive after `ip netns del`.
  killSync(runProcessesSync(runId));
  removeRunSockets(runId);
  fs.rmSync(stateDir, { recursive: true, force: true });
}

function removeRunSockets(runId: string): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync(WG_RUN_DIR);
  } catch {
    return;
  }
  const re = new RegExp(`^mp${runId}\\d+\\.(sock|name)$`);
  for (const n of names) if (re.test(n)) fs.rmSync(path.join(WG_RUN_DIR, n), { force: true });
}

/** Remove what runs whose owning process no longer exists left behind. */
function sweepStaleRuns(): void {
  const runs = new Set<string>();
  for (const ns of listNamespacesSync()) {
    const m = NS_RUN.exec(ns);
    if (m) runs.add(m[1]!);
  }
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (entry.startsWith(STATE_PREFIX)) runs.add(entry.slice(STATE_PREFIX.length));
  }
  for (const runId of runs) {
    if (!/^[a-z0-9]{6}$/.test(runId)) continue;
    const stateDir = path.join(os.tmpdir(), `${STATE_PREFIX}${runId}`);
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(stateDir, 'owner'), 'utf8').trim());
    } catch {
      // No state dir: cannot prove the namespaces are ours and dead; leave them.
      continue;
    }
    if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) continue;
    teardownRunSync(runId, stateDir);
  }
}

/** Shell lines: wait (10 s at most) until the lab took `marker` away and `socket` exists. */
function waitForLab(marker: string, socket: string, failure: string): string {
  return [
    'i=0',
    `while [ -e ${marker} ] || [ ! -S ${socket} ]; do`,
    '  i=$((i + 1))',
    `  if [ "$i" -gt 200 ]; then echo "${failure}" >&2; exit 1; fi`,
    '  sleep 0.05',
    'done',
    '',
  ].join('\n');
}

const USERSPACE_SCRIPT = `#!/bin/sh
# Called by wg-quick as "$WG_QUICK_USERSPACE_IMPLEMENTATION <ifname>" when the kernel has no
# WireGuard. Ask the Meshplane lab (a Node process) to start wireguard-go as its own child, then
# wait until the daemon's UAPI socket exists, as wireguard-go's own daemon mode would.
set -eu
case "$1" in *[!a-z0-9]*|'') echo "bad interface name" >&2; exit 1;; esac
: > "$MESHPLANE_LAB_DIR/$1.want"
# The lab takes the marker away once a daemon of this name that may still be going down (after a
# restart) has exited and a new one is started, so a stale socket cannot pass for the new one.
${waitForLab('"$MESHPLANE_LAB_DIR/$1.want"', `"${WG_RUN_DIR}/$1.sock"`, 'wireguard-go for $1 did not start')}`;

const BIRD_SHIM = `#!/bin/sh
# MESHPLANE_BIRD in the lab: instead of letting BIRD daemonise (re-parented to PID 1, never
# reaped here), ask the Meshplane lab to start "bird -f" with these very arguments as its own
# child, then wait for BIRD's control socket (the argument after -s) as BIRD's own start would.
set -eu
case "\${MESHPLANE_LAB_SITE:-}" in *[!a-z0-9]*|'') echo "bad lab site" >&2; exit 1;; esac
want="$MESHPLANE_LAB_DIR/$MESHPLANE_LAB_SITE.bird"
printf '%s\\n' "$@" > "$want.tmp"
mv "$want.tmp" "$want.want"
socket=""
previous=""
for arg in "$@"; do
  if [ "$previous" = "-s" ]; then socket="$arg"; fi
  previous="$arg"
done
${waitForLab('"$want.want"', '"$socket"', 'BIRD did not open its control socket $socket')}`;

/**
 * Labs never run concurrently, whatever the test runner's parallelism: each lab holds an exclusive
 * flock(1) on $TMPDIR/meshplane-lab.lock for its lifetime. The lock is held by a `flock FILE cat`
 * child whose stdin is ours, so the kernel releases it when we close stdin or when this process
 * dies in any way: no stale lock files. Nested labs in one process share the lock.
 */
const LOCK_FILE = path.join(os.tmpdir(), 'meshplane-lab.lock');
let lockHolder: ChildProcess | null = null;
let lockDepth = 0;

async function acquireLabLock(timeoutMs = 600_000): Promise<void> {
  if (lockDepth > 0) {
    lockDepth++;
    return;
  }
  const child = spawn('flock', ['--exclusive', '--timeout', String(Math.ceil(timeoutMs / 1000)), LOCK_FILE, 'cat'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  // cat runs (and echoes) only once the lock is held.
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`cannot lock ${LOCK_FILE} (flock exit ${String(code)}): ${stderr.trim()}`)));
    child.once('error', (e) => reject(new Error(`cannot run flock: ${e.message}`)));
    child.stdin.write('locked\n');
  });
  child.stdout.resume();
  lockHolder = child;
  lockDepth = 1;
}

/** Resolves once the lock holder has exited (so it is reaped, not left as a zombie). */
function releaseLabLock(): Promise<void> {
  if (lockDepth === 0) return Promise.resolve();
  lockDepth--;
  const holder = lockHolder;
  if (lockDepth > 0 || !holder) return Promise.resolve();
  lockHolder = null;
  if (holder.exitCode !== null || holder.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => holder.once('exit', () => r()));
  holder.stdin?.end();
  holder.unref();
  return Promise.race([exited, sleep(2_000)]);
}

export class Lab {
  readonly runId: string;
  readonly dir: string;
  readonly underlayNs: string;
  readonly underlay: UnderlayFamily;
  private readonly sites = new Map<string, Site>();
  private readonly ifaces = new Map<string, Iface>();
  private readonly children = new Set<ChildProcess>();
  private ifaceCounter = 0;
  private destroying: Promise<void> | null = null;
  private destroyed = false;
  private holdsLock = true;

  private constructor(runId: string, dir: string, underlay: UnderlayFamily) {
    this.runId = runId;
    this.dir = dir;
    this.underlay = underlay;
    this.underlayNs = `mp-${runId}--underlay`;
  }

  static async create(opts: LabOptions = {}): Promise<Lab> {
    await acquireLabLock();
    try {
      return await Lab.createLocked(opts.underlay ?? 'ipv4');
    } catch (e) {
      await releaseLabLock();
      throw e;
    }
  }

  private static async createLocked(underlay: UnderlayFamily): Promise<Lab> {
    sweepStaleRuns();
    let runId = '';
    let dir = '';
    for (;;) {
      runId = [...randomBytes(6)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
      dir = path.join(os.tmpdir(), `${STATE_PREFIX}${runId}`);
      try {
        fs.mkdirSync(dir, { mode: 0o700 });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    fs.writeFileSync(path.join(dir, 'owner'), `${process.pid}\n`);
    fs.writeFileSync(path.join(dir, 'wg-userspace.sh'), USERSPACE_SCRIPT, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'bird-shim.sh'), BIRD_SHIM, { mode: 0o700 });
    const lab = new Lab(runId, dir, underlay);
    live.add(lab);
    installExitHook();
    try {
      await lab.addNs(lab.underlayNs);
      await lab.ip(['-n', lab.underlayNs, 'link', 'add', 'br0', 'type', 'bridge']);
      await lab.ip(['-n', lab.underlayNs, 'link', 'set', 'br0', 'up']);
    } catch (e) {
      lab.holdsLock = false; // create() releases it
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  // -- topology ---------------------------------------------------------------------------------

  async addSite(name: string, opts: SiteOptions = {}): Promise<void> {
    this.assertLive();
    if (!SITE_NAME.test(name)) throw new Error(`site name must match ${SITE_NAME}: ${name}`);
    if (this.sites.has(name)) throw new Error(`site ${name} exists`);
    if ((opts.lanCidr == null) !== (opts.lanHostIp == null)) {
      throw new Error('lanCidr and lanHostIp go together');
    }
    if ((opts.lanCidr6 == null) !== (opts.lanHostIp6 == null)) {
      throw new Error('lanCidr6 and lanHostIp6 go together');
    }
    if (opts.behindNat && this.underlay === 'ipv6') {
      throw new Error('behindNat needs the IPv4 underlay: on IPv6 a site that dials out is a peer without an endpoint');
    }
    const index = this.sites.size + 1;
    if (index > 200) throw new Error('at most 200 sites');
    const ns = `mp-${this.runId}-${name}`;
    const underlayIp = this.underlay === 'ipv6' ? `${UNDERLAY6_PREFIX}${(index + 1).toString(16)}` : intToIp(parseCidr(UNDERLAY_CIDR).network + index + 1);
    const site: Site = {
      name,
      index,
      ns,
      lanNs: null,
      natNs: null,
      underlayIp,
      publicIp: underlayIp,
      lanCidr: opts.lanCidr ?? null,
      lanHostIp: opts.lanHostIp ?? null,
      lanRouterIp: null,
      lanHostIp6: null,
      lanRouterIp6: null,
      interfaces: [],
      opts: { ...opts },
      removed: false,
      bundle: null,
    };
    this.sites.set(name, site);
    await this.buildSite(site);
  }

  /** Creates the site's namespaces and links (again, after removeSite, with the same addresses). */
  private async buildSite(site: Site): Promise<void> {
    const { name, index, ns, opts } = site;
    await this.addNs(ns);
    if (opts.forwarding) await this.setForwarding(ns);

    if (opts.behindNat) {
      // site ul0 (100.100.k.2) -> nat in0 (100.100.k.1) | nat ul0 (underlay) -> br0
      const natNs = `mp-${this.runId}-${name}-nat`;
      site.natNs = natNs;
      site.underlayIp = `100.100.${index}.2`;
      await this.addNs(natNs);
      await this.setForwarding(natNs);
      await this.plugIntoUnderlay(natNs, index, site.publicIp);
      await this.ip(['-n', ns, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'in0', 'netns', natNs]);
      await this.ip(['-n', natNs, 'addr', 'add', `100.100.${index}.1/24`, 'dev', 'in0']);
      await this.ip(['-n', natNs, 'link', 'set', 'in0', 'up']);
      await this.ip(['-n', ns, 'addr', 'add', `${site.underlayIp}/24`, 'dev', 'ul0']);
      await this.ip(['-n', ns, 'link', 'set', 'ul0', 'up']);
      await this.ip(['-n', ns, 'route', 'add', 'default', 'via', `100.100.${index}.1`]);
      await this.nsExec(natNs, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'ul0', '-j', 'MASQUERADE']);
    } else {
      await this.plugIntoUnderlay(ns, index, site.underlayIp);
    }

    const lan6 = opts.lanCidr6 && opts.lanHostIp6 ? lan6Addresses(opts.lanCidr6, opts.lanHostIp6, opts.lanRouterIp6) : null;
    if ((opts.lanCidr && opts.lanHostIp) || lan6) {
      const lanNs = `mp-${this.runId}-${name}-lan`;
      site.lanNs = lanNs;
      await this.addNs(lanNs);
      await this.ip(['-n', ns, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lanNs]);
    }
    if (opts.lanCidr && opts.lanHostIp) {
      const { network: lanNet, prefix } = parseCidr(opts.lanCidr);
      if (prefix > 30) throw new Error(`LAN ${opts.lanCidr} too small`);
      if (!cidrContains(opts.lanCidr, opts.lanHostIp)) throw new Error(`${opts.lanHostIp} not in ${opts.lanCidr}`);
      let routerIp = opts.lanRouterIp ?? intToIp(lanNet + 1);
      if (!opts.lanRouterIp && routerIp === opts.lanHostIp) routerIp = intToIp(lanNet + 2);
      site.lanRouterIp = routerIp;
      const lanNs = site.lanNs as string;
      await this.ip(['-n', ns, 'addr', 'add', `${routerIp}/${prefix}`, 'dev', 'lan0']);
      await this.ip(['-n', ns, 'link', 'set', 'lan0', 'up']);
      await this.ip(['-n', lanNs, 'addr', 'add', `${opts.lanHostIp}/${prefix}`, 'dev', 'eth0']);
      await this.ip(['-n', lanNs, 'link', 'set', 'eth0', 'up']);
      await this.ip(['-n', lanNs, 'route', 'add', 'default', 'via', routerIp]);
    }
    if (lan6) {
      const lanNs = site.lanNs as string;
      site.lanRouterIp6 = lan6.router;
      site.lanHostIp6 = lan6.host;
      if (opts.forwarding) await this.nsExec(ns, ['tee', '/proc/sys/net/ipv6/conf/all/forwarding'], { input: '1\n' });
      await this.ip(['-n', ns, 'link', 'set', 'lan0', 'up']);
      await this.ip(['-n', lanNs, 'link', 'set', 'eth0', 'up']);
      // nodad: usable at once instead of "tentative" for a second or more.
      await this.ip(['-n', ns, '-6', 'addr', 'add', `${lan6.router}/${lan6.prefix}`, 'dev', 'lan0', 'nodad']);
      await this.ip(['-n', lanNs, '-6', 'addr', 'add', `${lan6.host}/${lan6.prefix}`, 'dev', 'eth0', 'nodad']);
      await this.ip(['-n', lanNs, '-6', 'route', 'add', 'default', 'via', lan6.router, 'dev', 'eth0']);
    }
  }

  /** The site router's own underlay address (the endpoint host other peers dial). */
  underlayIp(site: string): string {
    return this.site(site).underlayIp;
  }

  /** The address the site's packets appear from on the underlay (its NAT box's, if behind NAT). */
  publicIp(site: string): string {
    return this.site(site).publicIp;
  }

  lanRouterIp(site: string): string {
    const s = this.site(site);
    if (!s.lanRouterIp) throw new Error(`site ${site} has no LAN`);
    return s.lanRouterIp;
  }

  /** The LAN host's IPv6 address (RFC 5952 form). */
  lanHostIp6(site: string): string {
    const s = this.site(site);
    if (!s.lanHostIp6) throw new Error(`site ${site} has no IPv6 LAN`);
    return s.lanHostIp6;
  }

  /** The router's IPv6 address on the LAN. */
  lanRouterIp6(site: string): string {
    const s = this.site(site);
    if (!s.lanRouterIp6) throw new Error(`site ${site} has no IPv6 LAN`);
    return s.lanRouterIp6;
  }

  /** Interfaces brought up in the site with up(), in order. */
  interfacesOf(site: string): string[] {
    return [...this.site(site).interfaces];
  }

  namespaceOf(site: string, where: Where = 'router'): string {
    const s = this.site(site);
    if (where === 'router') return s.ns;
    if (!s.lanNs) throw new Error(`site ${site} has no LAN host`);
    return s.lanNs;
  }

  /** All namespaces of this run that currently exist (from `ip netns list`). */
  async namespaces(): Promise<string[]> {
    const out = (await run('ip', ['netns', 'list'], { timeoutMs: 5_000 })).stdout;
    return out
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((n) => n.startsWith(`mp-${this.runId}-`));
  }

  // -- WireGuard --------------------------------------------------------------------------------

  /**
   * Write `confText` as `<unique ifname>.conf` (0600) and `wg-quick up` it inside the site's router
   * namespace. Returns the interface name.
   */
  async up(site: string, confText: string): Promise<string> {
    this.assertLive();
    const s = this.site(site);
    const name = `mp${this.runId}${this.ifaceCounter++}`;
    const confPath = path.join(this.dir, `${name}.conf`);
    const logPath = path.join(this.dir, `${name}.log`);
    fs.writeFileSync(confPath, confText, { mode: 0o600 });
    fs.chmodSync(confPath, 0o600);
    const iface: Iface = { name, site, confPath, logPath, daemon: null, up: false };
    this.ifaces.set(name, iface);
    s.interfaces.push(name);

    const upPromise = run('ip', ['netns', 'exec', s.ns, 'wg-quick', 'up', confPath], {
      timeoutMs: 30_000,
      check: false,
      env: this.helperEnv(s),
    });
    const res = await this.serveWhile(upPromise, s, [iface]);
    if (res.code !== 0) {
      throw new LabCommandError(res, `conf (${confPath}):\n${redactConf(confText)}\n${this.daemonLog(iface)}`);
    }
    iface.up = true;
    return name;
  }

  /** `wg-quick down` one interface (and reap its wireguard-go). */
  async down(ifname: string): Promise<void> {
    const iface = this.ifaces.get(ifname);
    if (!iface) throw new Error(`unknown interface ${ifname}`);
    if (iface.up) {
      iface.up = false;
      const ns = this.site(iface.site).ns;
      await run('ip', ['netns', 'exec', ns, 'wg-quick', 'down', iface.confPath], { timeoutMs: 15_000, check: false });
    }
    if (iface.daemon) await this.stopChild(iface.daemon, 3_000);
  }

  // -- Linux bundles (WireGuard interfaces + BIRD, one script per peer) --------------------------

  /**
   * Brings a site up from its downloaded bundle: `sh bundle extract` (MESHPLANE_DIR = DIR/<site>,
   * emptied first), each wireguard/<name>.conf renamed to a unique lab interface name, then
   * `sh bundle start` inside the site's namespace (wg-quick up of every conf, then BIRD).
   */
  async upBundle(site: string, script: string): Promise<BundleInfo> {
    this.assertLive();
    const s = this.site(site);
    if (s.removed) throw new Error(`site ${site} was removed: restoreSite() first`);
    if (s.bundle) await this.stopBundleProcesses(s);
    const dir = path.join(this.dir, site);
    fs.rmSync(dir, { recursive: true, force: true });
    const scriptPath = path.join(this.dir, `${site}.bundle.sh`);
    fs.writeFileSync(scriptPath, script, { mode: 0o600 });
    fs.chmodSync(scriptPath, 0o600);
    const extracted = await run('sh', [scriptPath, 'extract'], { timeoutMs: 10_000, check: false, env: { ...process.env, MESHPLANE_DIR: dir } });
    if (extracted.code !== 0) throw new LabCommandError(extracted);
    const names = new Map<string, string>();
    const wgDir = path.join(dir, 'wireguard');
    for (const file of fs.readdirSync(wgDir).filter((f) => f.endsWith('.conf')).sort()) {
      const name = `mp${this.runId}${this.ifaceCounter++}`;
      fs.renameSync(path.join(wgDir, file), path.join(wgDir, `${name}.conf`));
      names.set(file.slice(0, -'.conf'.length), name);
      const iface: Iface = { name, site, confPath: path.join(wgDir, `${name}.conf`), logPath: path.join(this.dir, `${name}.log`), daemon: null, up: false };
      this.ifaces.set(name, iface);
      s.interfaces.push(name);
    }
    s.bundle = { script: scriptPath, dir, names, bird: null, birdLog: path.join(this.dir, `${site}.bird.log`), birdSocket: null };
    await this.startBundle(site);
    return this.bundleInfo(site);
  }

  /** `sh bundle start` again (the bundle stops what runs first), e.g. to bring a site back. */
  async startBundle(site: string): Promise<BundleInfo> {
    const s = this.site(site);
    const bundle = s.bundle;
    if (!bundle) throw new Error(`site ${site} has no bundle`);
    const ifaces = [...bundle.names.values()].map((name) => this.ifaces.get(name) as Iface);
    const started = run('ip', ['netns', 'exec', s.ns, 'sh', bundle.script, 'start'], {
      timeoutMs: 60_000,
      check: false,
      env: { ...this.helperEnv(s), MESHPLANE_DIR: bundle.dir, MESHPLANE_BIRD: path.join(this.dir, 'bird-shim.sh') },
    });
    const res = await this.serveWhile(started, s, ifaces);
    if (res.code !== 0) {
      throw new LabCommandError(res, `${ifaces.map((i) => this.daemonLog(i)).join('\n')}\n${this.birdLog(site)}`);
    }
    for (const iface of ifaces) iface.up = true;
    return this.bundleInfo(site);
  }

  bundleInfo(site: string): BundleInfo {
    const bundle = this.site(site).bundle;
    if (!bundle) throw new Error(`site ${site} has no bundle`);
    return { dir: bundle.dir, interfaces: new Map(bundle.names), birdPid: running(bundle.bird) ? bundle.bird.pid ?? null : null };
  }

  /** The lab's name of the site's rendered interface `rendered` (e.g. wg0h2). */
  labInterface(site: string, rendered: string): string {
    const name = this.site(site).bundle?.names.get(rendered);
    if (!name) throw new Error(`site ${site} has no bundle interface ${rendered}`);
    return name;
  }

  /** `birdc -s <the bundle's socket> <args>` in the site's namespace. */
  async birdc(site: string, args: readonly string[]): Promise<string> {
    const socket = this.site(site).bundle?.birdSocket;
    if (!socket) throw new Error(`site ${site} runs no BIRD`);
    return (await this.exec(site, ['birdc', '-s', socket, ...args], { timeoutMs: 10_000 })).stdout;
  }

  /** What BIRD printed so far (for failure messages). */
  birdLog(site: string): string {
    const bundle = this.site(site).bundle;
    if (!bundle) return '';
    try {
      return `BIRD log of ${site} (${bundle.birdLog}):\n${fs.readFileSync(bundle.birdLog, 'utf8').split('\n').slice(-25).join('\n')}`;
    } catch {
      return '';
    }
  }

  /**
   * Removes the site entirely, as a machine that loses power: its link to the underlay goes first,
   * then its BIRD and wireguard-go daemons and everything else in its namespaces are SIGKILLed (by
   * PID; no BGP goodbye to the neighbours), then the namespaces are deleted (by name).
   */
  async removeSite(site: string): Promise<void> {
    this.assertLive();
    const s = this.site(site);
    if (s.removed) return;
    s.removed = true;
    // Deleting the underlay end now also lets restoreSite() plug the same port in again at once
    // (the kernel cleans a deleted namespace up asynchronously).
    await run('ip', ['-n', this.underlayNs, 'link', 'del', `p${s.index}`], { timeoutMs: 10_000, check: false });
    const ifaces = s.interfaces.splice(0).map((name) => this.ifaces.get(name)).filter((iface): iface is Iface => iface !== undefined);
    const daemons = [s.bundle?.bird ?? null, ...ifaces.map((iface) => iface.daemon)].filter(running);
    await Promise.all(daemons.map((child) => this.stopChild(child, 0)));
    for (const iface of ifaces) {
      iface.up = false;
      fs.rmSync(path.join(WG_RUN_DIR, `${iface.name}.sock`), { force: true });
    }
    for (const ns of [s.ns, s.lanNs, s.natNs]) {
      if (!ns) continue;
      killSync((await this.namespacePids(ns)).filter(pidAlive));
      await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000, check: false });
    }
  }

  /** Builds a removed site's namespaces again (same addresses); its bundle is not started. */
  async restoreSite(site: string): Promise<void> {
    this.assertLive();
    const s = this.site(site);
    if (!s.removed) throw new Error(`site ${site} was not removed`);
    s.removed = false;
    s.lanNs = null;
    s.natNs = null;
    if (s.bundle) s.bundle.names.clear();
    await this.buildSite(s);
  }

  /** The site's WireGuard interfaces as `wg show all dump` reports them. */
  async wgShow(site: string): Promise<WgInterfaceDump[]> {
    const s = this.site(site);
    const res = await run('ip', ['netns', 'exec', s.ns, 'wg', 'show', 'all', 'dump'], { timeoutMs: 10_000 });
    // Userspace UAPI sockets are shared by all namespaces: keep this site's interfaces only.
    return parseWgDump(res.stdout).filter((i) => s.interfaces.includes(i.name));
  }

  /** Poll until `ok(dump)` or the deadline; returns the last dump. */
  async waitForWg(
    site: string,
    ok: (ifaces: WgInterfaceDump[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<WgInterfaceDump[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dump = await this.wgShow(site);
      if (ok(dump) || Date.now() > deadline) return dump;
      await sleep(200);
    }
  }

  // -- probing ----------------------------------------------------------------------------------

  /**
   * True when `count` echo replies arrive within `timeoutSec`. Never throws for loss. An IPv6
   * address is pinged with `ping -6` (the source, if given, must be of the same family).
   */
  async ping(fromSite: string, ip: string, opts: PingOptions = {}): Promise<boolean> {
    const family = net.isIP(ip);
    if (family === 0) throw new Error(`not an IP address: ${ip}`);
    const count = opts.count ?? 1;
    const timeoutSec = opts.timeoutSec ?? 5;
    const args = [...(family === 6 ? ['-6'] : []), '-n', '-q', '-c', String(count), '-w', String(timeoutSec), '-i', '0.2'];
    if (opts.source) {
      if (net.isIP(opts.source) !== family) throw new Error(`not an IPv${family} address: ${opts.source}`);
      args.push('-I', opts.source);
    }
    args.push(ip);
    const res = await this.exec(fromSite, ['ping', ...args], {
      where: opts.from ?? 'router',
      check: false,
      timeoutMs: (timeoutSec + 5) * 1000,
    });
    return res.code === 0;
  }

  /** Run argv inside the site's router (or LAN host) namespace. */
  exec(site: string, argv: readonly string[], opts: RunOptions & { where?: Where } = {}): Promise<RunResult> {
    this.assertLive();
    if (argv.length === 0) throw new Error('empty argv');
    return run('ip', ['netns', 'exec', this.namespaceOf(site, opts.where), ...argv], opts);
  }

  /** Start a long-running process in a site namespace; killed (by PID) by destroy() at the latest. */
  spawn(site: string, argv: readonly string[], opts: { where?: Where } = {}): LabProcess {
    this.assertLive();
    if (argv.length === 0) throw new Error('empty argv');
    const child = spawn('ip', ['netns', 'exec', this.namespaceOf(site, opts.where), ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    let output = '';
    const waiters = new Set<() => void>();
    const onData = (d: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += d.toString('utf8');
      for (const w of waiters) w();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      for (const w of waiters) w();
    });
    return {
      pid: child.pid ?? -1,
      output: () => output,
      waitForOutput: (re, timeoutMs = 10_000) =>
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (re.test(output)) {
              cleanup();
              resolve();
            } else if (child.exitCode !== null || child.signalCode !== null) {
              cleanup();
              reject(new Error(`${argv.join(' ')} exited before printing ${re}: ${output}`));
            }
          };
          const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`${argv.join(' ')} did not print ${re} within ${timeoutMs} ms: ${output}`));
          }, timeoutMs);
          const cleanup = (): void => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        }),
      kill: () => this.stopChild(child, 3_000),
    };
  }

  /**
   * A TCP server in the site namespace (LAN host by default) that sends `banner` to every client;
   * with `opts.withPeer`, followed by a space and the client's address as the server sees it (so
   * a test can tell whether, and into what, the client's source address was translated).
   * Uses this very Node binary, addresses passed as argv (no string interpolation into code).
   */
  async tcpBanner(site: string, host: string, port: number, banner: string, where: Where = 'lan', opts: { withPeer?: boolean } = {}): Promise<LabProcess> {
    const code =
      "const [h,p,b,w]=process.argv.slice(1);" +
      "require('net').createServer(s=>{s.on('error',()=>{});s.end(b+(w?' '+s.remoteAddress:'')+'\\n')})" +
      ".listen(Number(p),h,()=>console.log('listening'))";
    const proc = this.spawn(site, [process.execPath, '-e', code, host, String(port), banner, opts.withPeer ? '1' : ''], { where });
    await proc.waitForOutput(/listening/);
    return proc;
  }

  /** Connect from a site namespace to host:port and return what the server sent (or throw). */
  async tcpRead(
    site: string,
    host: string,
    port: number,
    opts: { where?: Where; timeoutMs?: number; localAddress?: string } = {},
  ): Promise<string> {
    const timeoutMs = opts.timeoutMs ?? 5_000;
    const code =
      "const [h,p,t,l]=process.argv.slice(1);let d='';" +
      "const o={host:h,port:Number(p)};if(l)o.localAddress=l;" +
      "const s=require('net').connect(o);s.setEncoding('utf8');" +
      "s.on('data',c=>d+=c);s.on('end',()=>{process.stdout.write(d);process.exit(0)});" +
      "s.on('error',e=>{console.error(e.message);process.exit(1)});" +
      "setTimeout(()=>{console.error('timeout');process.exit(2)},Number(t)).unref()";
    const res = await this.exec(
      site,
      [process.execPath, '-e', code, host, String(port), String(timeoutMs), opts.localAddress ?? ''],
      { where: opts.where ?? 'lan', timeoutMs: timeoutMs + 5_000 },
    );
    return res.stdout;
  }

  /**
   * What a failure message needs to explain a site's packets, both families: the site's WireGuard
   * interfaces, addresses, routes, forwarding switches and firewall/NAT rules of its router, and
   * the addresses and routes of its LAN host. Commands that fail are shown with their error.
   */
  async explain(site: string): Promise<string> {
    const s = this.site(site);
    const router: string[][] = [
      // Not `wg show` alone: userspace interfaces of every namespace would be listed.
      ...s.interfaces.map((i) => ['wg', 'show', i]),
      ['ip', 'addr'],
      ['ip', '-4', 'route'],
      ['ip', '-6', 'route'],
      ['cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'],
      ['iptables-save'],
      ['ip6tables-save'],
    ];
    const lan: string[][] = s.lanNs ? [['ip', 'addr', 'show', 'eth0'], ['ip', '-4', 'route'], ['ip', '-6', 'route']] : [];
    const show = (where: Where) => async (argv: string[]): Promise<string> => {
      const res = await this.exec(site, argv, { where, check: false }).catch((e: Error) => ({ stdout: '', stderr: e.message }));
      return `$ ${where === 'lan' ? '(LAN host) ' : ''}${argv.join(' ')}\n${res.stdout}${res.stderr}`;
    };
    const outs = await Promise.all([...router.map(show('router')), ...lan.map(show('lan'))]);
    return `===== ${site}\n${outs.join('\n')}`;
  }

  // -- teardown ---------------------------------------------------------------------------------

  /** Tear everything down. Safe to call more than once. */
  destroy(): Promise<void> {
    if (!this.destroying) this.destroying = this.doDestroy();
    return this.destroying;
  }

  private async doDestroy(): Promise<void> {
    // 1. wg-quick down (runs PreDown/PostDown, deletes the link, wireguard-go then exits).
    for (const iface of this.ifaces.values()) {
      if (!iface.up) continue;
      iface.up = false;
      const s = this.sites.get(iface.site);
      if (s) await run('ip', ['netns', 'exec', s.ns, 'wg-quick', 'down', iface.confPath], { timeoutMs: 15_000, check: false }).catch(() => undefined);
    }
    // 2. Our children (wireguard-go daemons, spawned servers), by PID.
    const daemons = [...this.ifaces.values()].map((i) => i.daemon).filter((c): c is ChildProcess => c !== null);
    await Promise.all([...daemons, ...this.children].map((c) => this.stopChild(c, 3_000)));
    // 3. Anything else still running inside our namespaces, by PID; then the namespaces, by name.
    const nsList = await this.namespaces().catch(() => [] as string[]);
    for (const ns of nsList) {
      await this.killPids(await this.namespacePids(ns));
      await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000, check: false });
    }
    // 4. Stragglers that outlived their namespace name (e.g. a wireguard-go not started by us).
    await this.killPids(runProcessesSync(this.runId));
    removeRunSockets(this.runId);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.destroyed = true;
    live.delete(this);
    await this.unlock();
  }

  private unlock(): Promise<void> {
    if (!this.holdsLock) return Promise.resolve();
    this.holdsLock = false;
    return releaseLabLock();
  }

  /** Synchronous best-effort teardown for the process 'exit' hook. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const daemons = [...this.ifaces.values()].map((i) => i.daemon).filter((c): c is ChildProcess => c !== null);
    for (const c of [...daemons, ...this.children]) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    teardownRunSync(this.runId, this.dir);
    live.delete(this);
    void this.unlock();
  }

  // -- internals --------------------------------------------------------------------------------

  private site(name: string): Site {
    const s = this.sites.get(name);
    if (!s) throw new Error(`unknown site ${name}`);
    return s;
  }

  private assertLive(): void {
    if (this.destroying || this.destroyed) throw new Error('lab destroyed');
  }

  private ip(args: string[]): Promise<RunResult> {
    return run('ip', args, { timeoutMs: 10_000 });
  }

  private nsExec(ns: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', ns, ...argv], { timeoutMs: 10_000, ...opts });
  }

  private async addNs(ns: string): Promise<void> {
    await this.ip(['netns', 'add', ns]);
    await this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  private async setForwarding(ns: string): Promise<void> {
    // /proc/sys/net is per network namespace: write it from inside (no sysctl binary needed).
    await this.nsExec(ns, ['tee', '/proc/sys/net/ipv4/ip_forward'], { input: '1\n' });
  }

  private async plugIntoUnderlay(ns: string, index: number, ip: string): Promise<void> {
    const port = `p${index}`;
    await this.ip(['-n', ns, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', port, 'netns', this.underlayNs]);
    await this.ip(['-n', this.underlayNs, 'link', 'set', port, 'master', 'br0']);
    await this.ip(['-n', this.underlayNs, 'link', 'set', port, 'up']);
    if (this.underlay === 'ipv6') {
      // nodad: the address is usable at once instead of "tentative" for a second or more.
      await this.ip(['-n', ns, '-6', 'addr', 'add', `${ip}/${UNDERLAY6_LENGTH}`, 'dev', 'ul0', 'nodad']);
    } else {
      await this.ip(['-n', ns, 'addr', 'add', `${ip}/${parseCidr(UNDERLAY_CIDR).prefix}`, 'dev', 'ul0']);
    }
    await this.ip(['-n', ns, 'link', 'set', 'ul0', 'up']);
  }

  private helperEnv(s: Site): NodeJS.ProcessEnv {
    return {
      ...process.env,
      WG_QUICK_USERSPACE_IMPLEMENTATION: path.join(this.dir, 'wg-userspace.sh'),
      MESHPLANE_LAB_DIR: this.dir,
      MESHPLANE_LAB_SITE: s.name,
    };
  }

  /**
   * While `work` (a wg-quick or bundle command) runs, start the wireguard-go daemons and the BIRD
   * its helper scripts ask for (marker files), as children of this process.
   */
  private async serveWhile(work: Promise<RunResult>, s: Site, ifaces: readonly Iface[]): Promise<RunResult> {
    let done = false;
    const markDone = (): void => {
      done = true;
    };
    work.then(markDone, markDone);
    const birdWant = path.join(this.dir, `${s.name}.bird.want`);
    while (!done) {
      for (const iface of ifaces) {
        const want = path.join(this.dir, `${iface.name}.want`);
        if (!fs.existsSync(want)) continue;
        // A daemon of this name still going down (the bundle restarts what runs) goes first.
        if (running(iface.daemon)) continue;
        fs.rmSync(path.join(WG_RUN_DIR, `${iface.name}.sock`), { force: true });
        iface.daemon = this.startDaemon(s.ns, iface.name, iface.logPath);
        fs.rmSync(want, { force: true });
      }
      if (s.bundle && fs.existsSync(birdWant) && !running(s.bundle.bird)) {
        const args = fs.readFileSync(birdWant, 'utf8').split('\n').filter(Boolean);
        this.startBird(s, s.bundle, args);
        fs.rmSync(birdWant, { force: true });
      }
      await sleep(20);
    }
    return work;
  }

  /** `bird -f` with the arguments the bundle passed (-c conf -s socket -P pidfile, all in its dir). */
  private startBird(s: Site, bundle: SiteBundle, args: string[]): void {
    const [c, conf, so, socket, p, pidFile, ...rest] = args;
    const inside = (file: string | undefined): file is string => file !== undefined && path.dirname(file) === bundle.dir;
    if (c !== '-c' || so !== '-s' || p !== '-P' || rest.length > 0 || !inside(conf) || !inside(socket) || !inside(pidFile)) {
      throw new Error(`the bundle of ${s.name} started BIRD with unexpected arguments: ${args.join(' ')}`);
    }
    fs.rmSync(socket, { force: true }); // a stale one would pass for the new BIRD's in the shim
    const fd = fs.openSync(bundle.birdLog, 'a', 0o600);
    try {
      const child = spawn('ip', ['netns', 'exec', s.ns, 'bird', '-f', '-c', conf, '-s', socket, '-P', pidFile], { stdio: ['ignore', fd, fd] });
      child.on('error', () => undefined);
      this.children.add(child);
      child.on('exit', () => this.children.delete(child));
      bundle.bird = child;
      bundle.birdSocket = socket;
    } finally {
      fs.closeSync(fd);
    }
  }

  private async stopBundleProcesses(s: Site): Promise<void> {
    if (s.bundle?.bird) await this.stopChild(s.bundle.bird, 3_000);
  }

  private startDaemon(ns: string, ifname: string, logPath: string): ChildProcess {
    const fd = fs.openSync(logPath, 'a', 0o600);
    try {
      const child = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', '-f', ifname], {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, LOG_LEVEL: 'verbose' },
      });
      child.on('error', () => undefined);
      return child;
    } finally {
      fs.closeSync(fd);
    }
  }

  private daemonLog(iface: Iface): string {
    try {
      const log = fs.readFileSync(iface.logPath, 'utf8');
      const lines = log.split('\n').filter((l) => !l.includes('Routine:'));
      return `wireguard-go log (${iface.logPath}):\n${lines.slice(-25).join('\n')}`;
    } catch {
      return '';
    }
  }

  private async namespacePids(ns: string): Promise<number[]> {
    return (await run('ip', ['netns', 'pids', ns], { timeoutMs: 5_000, check: false })).stdout
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs` (at once when 0). */
  private async stopChild(child: ChildProcess, graceMs: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (graceMs > 0) child.kill('SIGTERM');
    const t = await Promise.race([exited.then(() => 'exited'), sleep(graceMs).then(() => 'timeout')]);
    if (t === 'timeout') {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(2_000)]);
    }
  }

  private async killPids(pids: number[]): Promise<void> {
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline && pids.some(pidAlive)) await sleep(50);
    killSync(pids.filter(pidAlive));
  }
}

/**
 * Leftovers of a (destroyed) run: its namespaces, live processes (inside them or naming the run),
 * UAPI sockets and temp dir.
 */
export function leftovers(runId: string): { namespaces: string[]; pids: number[]; sockets: string[]; tempDir: boolean } {
  let sockets: string[] = [];
  try {
    sockets = fs.readdirSync(WG_RUN_DIR).filter((n) => n.startsWith(`mp${runId}`));
  } catch {
    /* no dir */
  }
  const namespaces = listNamespacesSync().filter((n) => n.startsWith(`mp-${runId}-`));
  const pids = new Set(runProcessesSync(runId));
  for (const ns of namespaces) for (const pid of namespacePidsSync(ns)) if (pidAlive(pid)) pids.add(pid);
  return {
    namespaces,
    pids: [...pids].sort((a, b) => a - b),
    sockets,
    tempDir: fs.existsSync(path.join(os.tmpdir(), `${STATE_PREFIX}${runId}`)),
  };
}

/** A conf with its private and preshared keys replaced by `<redacted>` (for failure messages). */
export function redactConf(text: string): string {
  return text.replace(/^(\s*(PrivateKey|PresharedKey)\s*=\s*).*$/gim, '$1<redacted>');
}
