// Version numbers as devices print them ("2.8.1", "v2.9.0", "24.7.1", "26.1.11_2"): compared
// numerically part by part, a missing part counting as 0, a build suffix after "_" ignored.

function parts(version: string): number[] {
  return version.trim().replace(/^v/i, '').split('_')[0]!.split('.').map((part) => Number.parseInt(part, 10) || 0);
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const [left, right] = [parts(a), parts(b)];
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function versionAtLeast(version: string, than: string): boolean {
  return compareVersions(version, than) >= 0;
}
