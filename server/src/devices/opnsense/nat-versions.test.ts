// Translated LANs on OPNsense: not written yet on any version, so a peer with a natCidr is
// refused before any write (never deployed with its translation silently left out).
import { describe, expect, it } from 'vitest';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import { DeviceError } from '../driver.js';
import { desiredOpnSenseResources, opnSenseRefusal } from './mapping.js';
import { stateFor } from './test-fixtures.js';

const translated = () => stateFor(overlay([
  peer('pf', '10.0.0.1', { subnets: [subnet('lanPf', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
  peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
]));

describe('OPNsense translated LANs', () => {
  it('are refused with the reason and the way out, before any write', () => {
    expect(opnSenseRefusal(translated())).toMatch(/192\.168\.1\.0\/24 as 172\.16\.1\.0\/24.*need the WireGuard device assigned.*Remove the translation/);
    expect(() => desiredOpnSenseResources(translated())).toThrow(DeviceError);
  });
});
