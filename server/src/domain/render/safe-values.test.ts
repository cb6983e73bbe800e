import { describe, expect, it } from 'vitest';
import { safeInteger, safeInterfaceAddress, safeIp } from './safe-values.js';

describe('safeInterfaceAddress', () => {
  // What the renderers did before: split on "/", check both halves.
  const bySplit = (address: string): string => {
    const [ip, prefix] = address.split('/');
    return `${safeIp(ip ?? '')}/${safeInteger(Number(prefix), 'prefix length')}`;
  };
  const outcome = (render: (address: string) => string, address: string): string => {
    try {
      return render(address);
    } catch (error) {
      return `error: ${(error as Error).message}`;
    }
  };

  it.each([
    '10.0.0.1/24', '10.0.5.10/32', '10.0.0.1/024', '10.0.0.1/24/7', '10.0.0.1', '10.0.0.1/', '10.0.0.1/ 8', '10.0.0.1/x',
    '10.0.0.1/-1', '10.0.0.1/1.5', '10.0.0.01/24', '/24', '', '10.0.0.1;reboot/24', '10.0.0.1/24"', '10.0.0.1//24',
  ])('%j as the split-based check gave it', (address) => {
    expect(outcome(safeInterfaceAddress, address)).toBe(outcome(bySplit, address));
  });
});
