// The RouterOS version the simulator emulates. Behaviour that changed between releases
// (`!empty` since 7.18, peer `name` since 7.15, …) asks `atLeast` instead of comparing strings.

export interface RouterOsVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** As given, e.g. `7.18.2`. */
  readonly text: string;
}

export function parseVersion(text: string): RouterOsVersion {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`RouterOS version must look like 7.18 or 7.18.2, got "${text}"`);
  const [, major = '0', minor = '0', patch = '0'] = match;
  return { major: Number(major), minor: Number(minor), patch: Number(patch), text: text.trim() };
}

export function atLeast(version: RouterOsVersion, minimum: string): boolean {
  const min = parseVersion(minimum);
  if (version.major !== min.major) return version.major > min.major;
  if (version.minor !== min.minor) return version.minor > min.minor;
  return version.patch >= min.patch;
}

/** What `/system/resource` prints, e.g. `7.18.2 (stable)`. */
export function versionDisplay(version: RouterOsVersion): string {
  return `${version.text} (stable)`;
}

/** RouterOS 7.18 added `!empty` for queries that return nothing (routeros.md §1.5). */
export function sendsEmptyReply(version: RouterOsVersion): boolean {
  return atLeast(version, '7.18');
}
