import { describe, expect, it } from 'vitest';
import { renderWgAllDump, renderWgDump, wgEndpoint, type WgDumpInterface } from './wg-dump-text.js';

const PRIV = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PUB = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';
const PEER_A = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PEER_B = 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=';
const PSK = 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=';

const wg0: WgDumpInterface = {
  ifname: 'wg0',
  privateKey: PRIV,
  publicKey: PUB,
  port: 51820,
  fwmark: null,
  peers: [
    { publicKey: PEER_A, psk: null, endpoint: wgEndpoint('203.0.113.1', 51820), allowedIps: ['10.99.0.1/32', '172.16.0.0/24'], latestHandshake: 1786432210, rx: 10112, tx: 9284, keepalive: 25 },
    { publicKey: PEER_B, psk: PSK, endpoint: null, allowedIps: [], latestHandshake: 0, rx: 0, tx: 0, keepalive: null },
  ],
};

describe('wg dump text', () => {
  it('prints `wg show <if> dump` byte for byte: 4 fields, then 8 per peer, private key included', () => {
    expect(renderWgDump(wg0)).toBe(
      `${PRIV}\t${PUB}\t51820\toff\n` +
        `${PEER_A}\t(none)\t203.0.113.1:51820\t10.99.0.1/32,172.16.0.0/24\t1786432210\t10112\t9284\t25\n` +
        `${PEER_B}\t${PSK}\t(none)\t(none)\t0\t0\t0\toff\n`,
    );
  });

  it('prints `wg show all dump` with the interface name leading every line (5 and 9 fields)', () => {
    const wg1: WgDumpInterface = { ifname: 'wg_b', privateKey: null, publicKey: null, port: 0, fwmark: 0xca6c, peers: [] };
    const text = renderWgAllDump([wg0, wg1]);
    expect(text).toBe(
      `wg0\t${PRIV}\t${PUB}\t51820\toff\n` +
        `wg0\t${PEER_A}\t(none)\t203.0.113.1:51820\t10.99.0.1/32,172.16.0.0/24\t1786432210\t10112\t9284\t25\n` +
        `wg0\t${PEER_B}\t${PSK}\t(none)\t(none)\t0\t0\t0\toff\n` +
        `wg_b\t(none)\t(none)\t0\t0xca6c\n`,
    );
    const fields = text.trimEnd().split('\n').map((line) => line.split('\t').length);
    expect(fields).toEqual([5, 9, 9, 5]);
  });

  it('brackets IPv6 endpoints and prints counters past 2^53 exactly', () => {
    expect(wgEndpoint('2001:db8::1', 51820)).toBe('[2001:db8::1]:51820');
    const big = renderWgDump({ ...wg0, peers: [{ ...wg0.peers[0]!, rx: 2n ** 64n - 1n, tx: 9007199254740993n }] });
    expect(big.split('\n')[1]!.split('\t').slice(5, 7)).toEqual(['18446744073709551615', '9007199254740993']);
  });

  it('prints nothing for no interfaces (wg show all dump on a router without WireGuard)', () => {
    expect(renderWgAllDump([])).toBe('');
  });
});
