import { describe, expect, it } from 'vitest';
import { compareVersions, versionAtLeast } from './versions.js';

describe('compareVersions', () => {
  it.each([
    ['24.7', '24.7.0', 0], ['24.7.1', '24.7', 1], ['24.1.10', '24.1.6', 1], ['v2.9.0', '2.10.0', -1], ['26.1.11_2', '26.1.11', 0], ['25.7', '26.7.2', -1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });

  it('versionAtLeast is inclusive', () => {
    expect(versionAtLeast('24.1.6', '24.1.6')).toBe(true);
    expect(versionAtLeast('24.1.5', '24.1.6')).toBe(false);
  });
});
