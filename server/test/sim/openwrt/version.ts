// The OpenWrt release the simulator plays, and what follows from it (ref §9): the defaults of
// the release-dependent switches, and what `system board` reports.
import { compareVersions } from '../shared/version.js';
import type { OpenWrtFaults } from './faults.js';

export const RELEASE_PATTERN = /^(\d{2}\.\d{2}(\.\d+)?(-rc\d+)?|SNAPSHOT)$/;

/** Whether `release` is `minimum` ("23.05") or later; SNAPSHOT (the main branch) is later than every release. */
export function releaseAtLeast(release: string, minimum: string): boolean {
  if (release === 'SNAPSHOT') return true;
  return compareVersions(release.replace(/-rc\d+$/, ''), minimum) >= 0;
}

/** The switches a release decides unless a test sets them. */
export function releaseDefaults(release: string): Pick<OpenWrtFaults, 'nftPrefixNat' | 'handler'> {
  return {
    // 22.03 ships nft 1.0.2: whether it loads `prefix` NAT is unverified (ref Q5), so the simulator says no.
    nftPrefixNat: releaseAtLeast(release, '23.05'),
    // The 2026 WireGuard handler rewrite (renew, syncconf) is on the main branch only (ref Q2).
    handler: release === 'SNAPSHOT' ? 'renew' : 'classic',
  };
}

const KERNELS: Array<[string, string]> = [['SNAPSHOT', '6.12.40'], ['25.12', '6.12.33'], ['24.10', '6.6.93'], ['23.05', '5.15.167'], ['22.03', '5.10.221'], ['21.02', '5.4.238']];

/** `system board` as procd answers it (ref §5.3), for a router called `hostname`. */
export function boardInfo(release: string, hostname: string): Record<string, unknown> {
  const kernel = KERNELS.find(([prefix]) => release.startsWith(prefix))?.[1] ?? '6.6.93';
  return {
    kernel,
    hostname,
    system: 'ARMv8 Processor rev 4',
    model: 'Meshplane OpenWrt simulator',
    board_name: 'meshplane,sim',
    rootfs_type: 'squashfs',
    release: {
      distribution: 'OpenWrt',
      version: release,
      revision: release === 'SNAPSHOT' ? 'r31400-0000000000' : 'r28739-0000000000',
      target: 'armsr/armv8',
      description: `OpenWrt ${release} ${release === 'SNAPSHOT' ? 'r31400-0000000000' : 'r28739-0000000000'}`,
      builddate: '1767225600',
    },
  };
}
