// How audit entries and counts read: sentences that name the target, changes as before → after
// with secrets only as "changed", and nouns in the right number.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { actorName, changeText, otherDetails, phraseOf, shownTarget } from '../../src/routes/(app)/audit/audit-text.js';
import { count } from '../../src/lib/format.js';

const entry = (action: string, details: Record<string, unknown> = {}, targetName: string | null = 'laptop') =>
  ({ action, actorLabel: 'grace@example.net (session)', targetType: 'Peer', targetName, details: JSON.stringify(details) });

describe('audit sentences', () => {
  it('names who did what to which target', () => {
    const download = entry('peer.downloadConfig', { format: 'WG_QUICK', targetName: 'laptop' });
    const phrase = phraseOf(download);
    expect(`${actorName(download.actorLabel)} ${phrase.verb} ${shownTarget(download)}${phrase.after}`).toBe('grace@example.net downloaded the private key of laptop (.conf)');
    const deleted = entry('peer.delete', { name: 'office' }, 'office');
    expect(`${phraseOf(deleted).verb} ${shownTarget(deleted)}`).toBe('deleted peer office');
    expect(shownTarget(entry('auth.login', {}, 'grace@example.net'))).toBeNull();
    expect(phraseOf(entry('device.somethingNew')).verb).toBe('ran somethingNew on');
    expect(phraseOf(entry('mutation.createWan', { codes: ['FORBIDDEN'] }))).toEqual({ verb: 'was refused: createWan', after: ' (FORBIDDEN)' });
  });

  it('has a sentence for every action the server records', () => {
    const serverSrc = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'server', 'src');
    const sources = (fs.readdirSync(serverSrc, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.startsWith('generated'));
    const actions = new Set(sources.flatMap((file) => [...fs.readFileSync(path.join(serverSrc, file), 'utf8').matchAll(/action: '([a-z][A-Za-z]*\.[A-Za-z.]+)'/g)].map((match) => match[1]!)));
    expect(actions.size).toBeGreaterThan(25);
    expect([...actions].filter((action) => phraseOf(entry(action)).verb === action).sort()).toEqual([]);
    const qr = entry('peer.qr.view', { targetName: 'laptop' });
    expect(`${phraseOf(qr).verb} ${shownTarget(qr)}`).toBe('viewed the QR code (private key) of laptop');
    // The person registering is the actor; the sentence does not name them twice.
    const registered = entry('user.register', {}, 'grace@example.net');
    expect([phraseOf(registered).verb, shownTarget(registered)]).toEqual(['registered', null]);
  });

  it('lists changes as before → after, absent values in words, secrets only as changed', () => {
    expect(changeText({ field: 'listenPort', before: '51820', after: '51821', secret: false, valuesRecorded: true })).toBe('listen port 51820 → 51821');
    expect(changeText({ field: 'endpointHost', before: null, after: 'vpn.example.net', secret: false, valuesRecorded: true })).toBe('endpoint absent → vpn.example.net');
    expect(changeText({ field: 'privateKey', before: null, after: null, secret: true, valuesRecorded: false })).toBe('private key changed');
    expect(changeText({ field: 'portForwarded', before: 'false', after: 'true', secret: false, valuesRecorded: true })).toBe('port forwarded off → on');
    expect(changeText({ field: 'keepalive', before: null, after: null, secret: false, valuesRecorded: false })).toBe('keepalive changed');
    expect(changeText({ field: 'listenPort', before: null, after: '51821', secret: false, valuesRecorded: true }, 'peer.update')).toBe('listen port WAN default → 51821');
  });

  it('shows only details the sentence does not say', () => {
    expect(otherDetails(entry('peer.create', { wanId: 'w1', name: 'laptop', targetName: 'laptop', tunnelIp: '10.0.0.3', byoKey: false }))).toEqual(['tunnel IP: 10.0.0.3', 'own key: false']);
  });
});

describe('count', () => {
  it('puts the noun in the right number', () => {
    expect([0, 1, 2].map((n) => count(n, 'operation'))).toEqual(['0 operations', '1 operation', '2 operations']);
    expect(count(1, 'peer')).toBe('1 peer');
    expect(count(3, 'LAN')).toBe('3 LANs');
    expect(count(2, 'entry', 'entries')).toBe('2 entries');
  });
});
