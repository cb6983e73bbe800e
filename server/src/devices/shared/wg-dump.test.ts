import { describe, expect, it } from 'vitest';
import { DeviceError } from '../driver.js';
import { keyFingerprint } from './secrets.js';
import { parseWgAllDump, parseWgAllKeys, parseWgInterfaceDump, parseWgInterfaceKeys, toPeerStatistics } from './wg-dump.js';

const PRIVATE = 'OBdrS1KCo+LvmvqPm8xaJQwOaw/PZ5hDRjenRQx7mkU=';
const PUBLIC = 'DVxt9j4X99SwSm0RaV8P0GcjfuX5yxnBv73w7rpWmV0=';
const PEER1 = 'U3NCWimCCfl1rzD1smkY3HOve5gClNgbfBhQyDr/yGc=';
const PEER2 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PSK = 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (caught) {
    return caught;
  }
  return undefined;
}

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
      const error = thrown(() => parseWgInterfaceDump(text));
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

describe('parseWgAllDump (`wg show all dump`: the interface name in front of every line)', () => {
  const prefixed = (name: string, text: string) => text.split('\n').filter(Boolean).map((line) => `${name}\t${line}`).join('\n');
  const other = `${PRIVATE}\t${PUBLIC}\t51821\t0x10`;
  const all = `${prefixed('wg0', dump)}\n${prefixed('wg_site', other)}\n`;

  it('reads each interface as `wg show <if> dump` would', () => {
    const parsed = parseWgAllDump(all);
    expect([...parsed.keys()]).toEqual(['wg0', 'wg_site']);
    expect(parsed.get('wg0')).toEqual(parseWgInterfaceDump(dump));
    expect(parsed.get('wg_site')).toEqual(parseWgInterfaceDump(other));
    expect(JSON.stringify([...parsed])).not.toContain(PRIVATE);
    expect(JSON.stringify([...parsed])).not.toContain(PSK);
  });

  it('gives the keys as they are only through parseWgAllKeys', () => {
    expect(parseWgAllKeys(all).get('wg0')).toEqual(parseWgInterfaceKeys(dump));
    expect(parseWgAllKeys(all).get('wg0')?.privateKey).toBe(PRIVATE);
  });

  it('reads no interfaces from empty output', () => {
    expect(parseWgAllDump('').size).toBe(0);
  });

  it('refuses a peer without its interface line, a repeated interface or a wrong field count, naming the line only', () => {
    const cases: Array<[string, number]> = [
      [`wg1\t${PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\toff`, 1],
      [`${prefixed('wg0', other)}\n${prefixed('wg0', other)}`, 2],
      [`${prefixed('wg0', other)}\nwg0\t${PRIVATE}\t${PUBLIC}`, 2],
      [`${prefixed('wg0', other)}\n\nwg1\t${PEER1}\t(none)\t(none)\t(none)\t0\t0\t0\toff`, 3],
    ];
    for (const [text, line] of cases) {
      const error = thrown(() => parseWgAllDump(text));
      expect(error).toBeInstanceOf(DeviceError);
      expect((error as DeviceError).message).toContain(`line ${line}`);
      expect((error as DeviceError).message).not.toContain(PRIVATE);
    }
  });
});
