// testConnection for a Linux host: are the tools there, may we change the network, and is
// there a WireGuard implementation (kernel module or wireguard-go)?
import fs from 'node:fs';
import os from 'node:os';
import type { ConnectionReport } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { CommandRunner } from './exec.js';
import type { WireGuardImplementation } from './link-lifecycle.js';

const CAP_NET_ADMIN = 12n;
const APT = 'apt-get install -y --no-install-recommends wireguard-tools wireguard-go iproute2 iptables procps';

/** Whether a /proc/<pid>/status text grants CAP_NET_ADMIN in the effective set. */
export function hasNetAdmin(status: string): boolean {
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return match !== null && ((BigInt(`0x${match[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

export interface ProbeOptions {
  implementation: WireGuardImplementation;
  wireguardGo: string;
  manageFirewall: boolean;
}

async function firstLine(runner: CommandRunner, argv: string[]): Promise<string> {
  const { stdout, stderr } = await runner.run(argv);
  const line = (stdout.trim() || stderr.trim()).split('\n')[0]?.trim();
  if (!line) throw new DeviceError('PROTOCOL', `${argv.join(' ')} printed nothing`);
  return line;
}

async function wireguardSupport(runner: CommandRunner, options: ProbeOptions): Promise<{ ok: boolean; version: string | null; note: string }> {
  const kernel = fs.existsSync('/sys/module/wireguard');
  if (kernel && options.implementation !== 'userspace') return { ok: true, version: null, note: 'kernel WireGuard' };
  if (options.implementation === 'kernel') return { ok: false, version: null, note: 'no WireGuard kernel module (implementation "kernel" was requested)' };
  try {
    const version = await firstLine(runner, [options.wireguardGo, '--version']);
    return { ok: true, version, note: 'wireguard-go (no kernel module)' };
  } catch (error) {
    return { ok: false, version: null, note: `no WireGuard kernel module and no working wireguard-go: ${(error as Error).message} (${APT})` };
  }
}

export async function probeLinuxHost(runner: CommandRunner, options: ProbeOptions): Promise<ConnectionReport> {
  const identity = runner.netns === null ? os.hostname() : `${os.hostname()} (netns ${runner.netns})`;
  const versions: string[] = [];
  try {
    versions.push(await firstLine(runner, ['wg', '--version']));
    versions.push((await firstLine(runner, ['ip', '-V'])).replace(/^ip utility, /, ''));
    if (options.manageFirewall) versions.push(await firstLine(runner, ['iptables', '-V']));
  } catch (error) {
    return { reachable: false, loggedIn: false, version: versions.join('; ') || null, identity, message: `${(error as Error).message} (${APT})` };
  }
  const privileged = process.getuid?.() === 0 || hasNetAdmin(fs.readFileSync('/proc/self/status', 'utf8'));
  const wireguard = await wireguardSupport(runner, options);
  if (wireguard.version) versions.push(wireguard.version);
  const problems = [
    ...(privileged ? [] : ['Meshplane lacks CAP_NET_ADMIN (run it as root or grant the capability)']),
    ...(wireguard.ok ? [] : [wireguard.note]),
  ];
  return {
    reachable: true,
    loggedIn: problems.length === 0,
    version: versions.join('; '),
    identity,
    message: problems.length === 0 ? `ready: ${wireguard.note}` : problems.join('; '),
  };
}
