// Dotted release numbers compared numerically ("24.10" > "24.7", "26.1.11" > "26.1.2"), for the
// simulators that decide behaviour by the version they emulate (pfSense, OPNsense, OpenWrt).
export function compareVersions(a: string, b: string): number {
  const parse = (text: string) => text.replace(/^v/, '').split('.').map((part) => Number.parseInt(part, 10) || 0);
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
