/**
 * Can the network lab run here? It needs root, `ip netns`, /dev/net/tun, wg, wg-quick, wireguard-go
 * (or a kernel WireGuard), ping, iptables, sysctl and flock.
 *
 * `describeLab(name, fn)`: a `describe` that runs when the lab can; otherwise, outside CI, skips the
 * suite and prints "lab tests skipped: <reason>"; in CI (`CI=true`) it registers a failing test
 * carrying the reason, so a CI image without the packages cannot pass silently.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';

// sysctl (procps): rendered confs turn forwarding on in PostUp. flock (util-linux): lab lock.
const TOOLS = ['ip', 'wg', 'wg-quick', 'ping', 'iptables', 'sysctl', 'flock', 'tee'] as const;
const APT =
  'apt-get install -y --no-install-recommends wireguard-tools wireguard-go iproute2 iputils-ping iptables procps';

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

let cached: string | null | undefined;

/** null when the lab can run, else why not. */
export function labUnavailableReason(): string | null {
  if (cached !== undefined) return cached;
  cached = probe();
  return cached;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tun devices)';
  const missing = TOOLS.filter((t) => !onPath(t));
  if (missing.length) return `missing ${missing.join(', ')} (${APT})`;
  const kernelWg = fs.existsSync('/sys/module/wireguard');
  if (!kernelWg && !onPath('wireguard-go')) {
    return `no WireGuard kernel module and no wireguard-go (${APT})`;
  }
  try {
    fs.accessSync('/dev/net/tun', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    if (!kernelWg) return '/dev/net/tun is missing or not accessible (wireguard-go needs it)';
  }
  try {
    execFileSync('ip', ['netns', 'list'], { timeout: 5_000, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    return `\`ip netns list\` failed: ${(e as Error).message.split('\n')[0]}`;
  }
  return null;
}

/** Throws with the reason when the lab cannot run (for use inside a test). */
export function requireLab(): void {
  const reason = labUnavailableReason();
  if (reason) throw new Error(`network lab unavailable: ${reason}`);
}

export interface LabNeeds {
  /** Further commands the suite runs, e.g. bird and birdc. */
  commands: readonly string[];
  /** How to get them, for the skip (or CI failure) message, e.g. the apt-get line. */
  install: string;
}

/** BIRD 2 (redundant hubs' routing engine on Linux). */
export const BIRD_NEEDS: LabNeeds = { commands: ['bird', 'birdc'], install: 'apt-get install -y --no-install-recommends bird2' };

/** null when the lab and `needs` are there, else why not. */
export function labWithUnavailableReason(needs: LabNeeds): string | null {
  return labUnavailableReason() ?? missingCommands(needs);
}

function missingCommands(needs: LabNeeds | undefined): string | null {
  const missing = needs?.commands.filter((command) => !onPath(command)) ?? [];
  return missing.length === 0 ? null : `missing ${missing.join(', ')} (${needs?.install})`;
}

export function describeLab(name: string, fn: () => void, needs?: LabNeeds): void {
  const reason = needs ? labWithUnavailableReason(needs) : labUnavailableReason();
  if (!reason) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the network lab prerequisites', () => {
        throw new Error(`network lab required in CI but unavailable: ${reason}`);
      });
    });
    return;
  }
  console.warn(`lab tests skipped: ${reason}`);
  describe.skip(name, fn);
}
