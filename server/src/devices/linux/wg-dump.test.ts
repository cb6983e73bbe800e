import { describe, expect, it } from 'vitest';
import { DeviceError } from '../driver.js';
import { keyFingerprint } from './secrets.js';
import { parseWgInterfaceDump, toPeerStatistics } from './wg-dump.js';

const PRIVATE = 'OBdrS1KCo+LvmvqPm8xaJQwOaw/PZ5hDRjenRQx7mkU=';
const PUBLIC = 'DVxt9j4X99SwSm0RaV8P0GcjfuX5yxnBv73w7rpWmV0=';
const PEER1 = 'U3NCWimCCfl1rzD1smkY3HOve5gClNgbfBhQyDr/yGc=';
const PEER2 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PSK = 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=';

const dump = [
  `${PRIVATE}\t${PUBLIC}\t51820\toff`,
  `${PEER1}\t${PSK}\t100.64.0.3:51820\t10.0.0.2/32,192.168.2.0/24\t1763774400\t18446744073709551615\t92\toff`,
  `${PEER2}\t(none)\t(none)\t(none)\t0\t0\t0\t25`,
  '',
].join('\n');

describe('parseWgInterfaceDump', () => {
  it('reads the interface and its peers, with keys only as fingerprints', () => {
    const parsed = parseWgInterfaceDump(dump);
    expect(parsed).toEqual({
      privateKeyFingerprint: keyFingerprint(PRIVATE),
      publicKey: PUBLIC,
      listenPort: 51820,
      fwmark: null,
      peers: [
        {
          publicKey: PEER1, presharedKeyFingerprint: keyFingerprint(PSK), endpoint: '100.64.0.3:51820',
          allowedIps: ['10.0.0.2/32', '192.168.2.0/24'], latestHandshake: 1763774400, rxBytes: '18446744073709551615', txBytes: '92', persistentKeepalive: null,
        },
        { publicKey: PEER2, presharedKeyFingerprint: null, endpoint: null, allowedIps: [], latestHandshake: 0, rxBytes: '0', txBytes: '0', persistentKeepalive: 25 },
      ],
    });
    const text = JSON.stringify(parsed);
    expect(text).not.toContain(PRIVATE);
    expect(text).not.toContain(PSK);
  });

  it('reads an interface without a key or peers', () => {
    expect(parseWgInterfaceDump('(none)\t(none)\t0\t0x1234\n')).toEqual({ privateKeyFingerprint: null, publicKey: null, listenPort: 0, fwmark: '0x1234', peers: [] });
  });

  it('refuses malformed output without quoting it (line 1 holds the private key)', () => {
    const malformed = [`${PRIVATE}\t${PUBLIC}\t51820`, `${PEER1}\t(none)`];
    for (const text of [malformed[0]!, `${PRIVATE}\t${PUBLIC}\t51820\toff\n${malformed[1]}`, '', `${PRIVATE}\t${PUBLIC}\tport\toff`]) {
      let error: unknown;
      try {
        parseWgInterfaceDump(text);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DeviceError);
      expect((error as DeviceError).code).toBe('PROTOCOL');
      expect((error as DeviceError).message).not.toContain(PRIVATE);
    }
  });
});

describe('toPeerStatistics', () => {
  it('keeps byte counters as decimal strings, turns a handshake of 0 into null', () => {
    expect(toPeerStatistics(parseWgInterfaceDump(dump))).toEqual([
      { publicKey: PEER1, rxBytes: '18446744073709551615', txBytes: '92', lastHandshake: new Date(1763774400 * 1000), currentEndpoint: '100.64.0.3:51820' },
      { publicKey: PEER2, rxBytes: '0', txBytes: '0', lastHandshake: null, currentEndpoint: null },
    ]);
  });
});
