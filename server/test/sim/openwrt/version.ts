// The OpenWrt release the simulator plays, and what follows from it (ref §9): the defaults of
// the release-dependent switches.
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
