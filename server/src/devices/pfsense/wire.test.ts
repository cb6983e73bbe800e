// Wire details: query encoding, counters beyond 2^53, statistics parsing, tags, auth choice, error codes.
import { describe, expect, it } from 'vitest';
import { authOf, encodeQuery } from './client.js';
import { quoteCounters } from '../shared/json-counters.js';
import { replyError } from './errors.js';
import { transportError } from '../shared/http-transport.js';
import { COUNTER_FIELDS, parsePeerStatistics } from './stats.js';
import { interfaceKeyForTunnel, parseDescr, peerDescr, pskFingerprint } from './tags.js';
import type { DeviceTarget } from '../driver.js';

const target = (overrides: Partial<DeviceTarget>): DeviceTarget => ({
  id: 'd', name: 'd', kind: 'PFSENSE', host: 'h', port: null, username: null, secret: 's', tls: true, tlsVerify: true, caPem: null, timeoutMs: 1, concurrency: 1, ...overrides,
});

describe('pfSense wire helpers', () => {
  it('percent-encodes + / = so pfSense form decoding keeps base64 keys intact', () => {
    expect(encodeQuery({ publickey: 'ab+c/d=', id: 3 })).toBe('publickey=ab%2Bc%2Fd%3D&id=3');
  });

  it('keeps counters above 2^53 exact by quoting them before JSON.parse', () => {
    const text = '{"data":[{"name":"tun_wg0","transfer_rx":18446744073709551615,"peers":[{"latest_handshake":0,"transfer_tx":9007199254740993}]}]}';
    const parsed = JSON.parse(quoteCounters(text, COUNTER_FIELDS));
    expect(parsed.data[0].transfer_rx).toBe('18446744073709551615');
    expect(parsed.data[0].peers[0].transfer_tx).toBe('9007199254740993');
  });

  it('reads statistics of the tunnel named by device name or by Meshplane tag only', () => {
    const tunnels = [
      { name: 'tun_wg0', descr: 'hand-made', peers: [{ public_key: 'x', latest_handshake: '5', transfer_rx: '1', transfer_tx: '2', endpoint: '1.2.3.4:5' }] },
      { name: 'tun_wg1', descr: 'meshplane:wan1:tunnel:wg-mesh', peers: [{ public_key: 'k', latest_handshake: '0', transfer_rx: '007', transfer_tx: null, endpoint: '(none)' }] },
    ];
    expect(parsePeerStatistics(tunnels, 'wg-mesh', 'meshplane')).toEqual([{ publicKey: 'k', rxBytes: '7', txBytes: '0', lastHandshake: null, currentEndpoint: null }]);
    expect(parsePeerStatistics(tunnels, 'tun_wg0', 'meshplane')[0]).toMatchObject({ publicKey: 'x', lastHandshake: new Date(5000), currentEndpoint: '1.2.3.4:5' });
  });

  it('parses tags with a PSK fingerprint and ignores foreign descriptions', () => {
    const descr = peerDescr('meshplane:wan1:peer:b', 'secret');
    expect(descr).toBe(`meshplane:wan1:peer:b psk:${pskFingerprint('secret')}`);
    expect(descr).not.toContain('secret');
    expect(parseDescr(descr, 'meshplane')).toEqual({ tag: 'meshplane:wan1:peer:b', key: 'wan1:peer:b', pskFingerprint: pskFingerprint('secret') });
    expect(parseDescr('meshplane is great', 'meshplane').key).toBeNull();
    expect(parseDescr('meshplane:wan1:bogus:x', 'meshplane').key).toBeNull();
    expect(interfaceKeyForTunnel('wan1:tunnel:wg-mesh')).toBe('wan1:iface:wg-mesh');
  });

  it('uses Basic auth with a username and an API key without one (or when told)', () => {
    expect(authOf(target({ username: 'admin' }))).toEqual({ kind: 'basic', username: 'admin', password: 's' });
    expect(authOf(target({}))).toEqual({ kind: 'key', key: 's' });
    expect(authOf(target({ username: 'admin', secretKind: 'API_KEY' }))).toEqual({ kind: 'key', key: 's' });
  });

  it('maps replies and transport failures to device error codes', () => {
    expect(replyError(401, 'AUTH_AUTHENTICATION_FAILED', 'Authentication failed.', true).message).toContain('KeyAuth');
    expect(replyError(400, 'FIELD_MUST_BE_UNIQUE', 'x', false)).toMatchObject({ code: 'REFUSED', status: 400, responseId: 'FIELD_MUST_BE_UNIQUE' });
    expect(replyError(500, 'ENDPOINT_RECEIVED_UNEXPECTED_ERROR', 'x', false).code).toBe('PROTOCOL');
    expect(transportError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'd').code).toBe('TIMEOUT');
    expect(transportError(Object.assign(new Error('x'), { cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } }), 'd').code).toBe('TLS');
    expect(transportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'd').code).toBe('UNREACHABLE');
  });
});
