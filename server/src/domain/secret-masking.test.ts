import { describe, expect, it } from 'vitest';
import { generateKeyPair, generatePresharedKey } from './keys.js';
import { describePlan, diffResources, secretsOf, type ActualResource, type DesiredResource, type PlanOperation } from './plan.js';
import { describeChanges, isSecretProp, redactSecrets, SECRET_PROP_SPELLINGS } from './secret-masking.js';

const key = generateKeyPair().privateKey;
const nextKey = generateKeyPair().privateKey;
const psk = generatePresharedKey();

/** Each driver's spelling of a secret property, on the kind it belongs to. */
const SPELLINGS: Array<[driver: string, kind: string, prop: string]> = [
  ['RouterOS', '/interface/wireguard', 'private-key'],
  ['RouterOS', '/interface/wireguard/peers', 'preshared-key'],
  ['RouterOS', '/user', 'password'],
  ['pfSense', 'vpn/wireguard/tunnel', 'privatekey'],
  ['pfSense', 'vpn/wireguard/peer', 'presharedkey'],
  ['pfSense', 'auth', 'apikey'],
  ['pfSense', 'auth', 'api-key'],
  ['Linux', 'link', 'private-key'],
  ['Linux', 'wg-peer', 'preshared-key'],
  ['OPNsense', 'server', 'privkey'],
  ['OPNsense', 'client', 'psk'],
  ['Meshplane', 'peer', 'privateKey'],
  ['Meshplane', 'device', 'secret'],
];

describe('isSecretProp', () => {
  it.each(SPELLINGS)('%s %s %s is a secret', (_driver, _kind, prop) => {
    expect(isSecretProp(prop)).toBe(true);
  });

  it('every spelling the logger redacts by is a secret to the policy too', () => {
    for (const prop of SECRET_PROP_SPELLINGS) expect(isSecretProp(prop)).toBe(true);
  });

  it.each(['public-key', 'publickey', 'publicKey', 'descr', 'comment', 'allowed-address', 'endpoint', 'name', 'keepalive', 'persistent-keepalive', 'listen-port', 'pubkey', 'tunneladdress'])('%s is not a secret', (prop) => {
    expect(isSecretProp(prop)).toBe(false);
  });
});

describe('describePlan masks every secret for every operation', () => {
  const order = ['k'];
  it.each(SPELLINGS)('%s create, update, delete of %s %s', (_driver, kind, prop) => {
    const desired: DesiredResource[] = [{ kind, key: 'a', props: { [prop]: key, name: 'wg-a' } }, { kind, key: 'b', props: { [prop]: nextKey } }];
    const actual: ActualResource[] = [
      { kind, id: '*1', key: 'b', props: { [prop]: psk } },
      { kind, id: '*2', key: 'gone', props: { [prop]: psk, name: 'old' } },
    ];
    const plan = diffResources(desired, actual, { kindOrder: order });
    expect(plan.operations.map((operation) => operation.op).sort()).toEqual(['create', 'delete', 'update']);
    const lines = describePlan(plan);
    const text = lines.join('\n');
    for (const secret of [key, nextKey, psk]) expect(text).not.toContain(secret);
    // The reviewer still sees which secret is set or changes.
    expect(lines).toContain(`+ create ${kind} a: ${prop}=‹secret› name=wg-a`);
    expect(lines).toContain(`~ update ${kind} b: ${prop} ‹secret› → ‹new secret›`);
    expect(lines).toContain(`- delete ${kind} gone`);
  });

  it('a secret the device does not show reads ∅ → ‹new secret› (the issue-13 line); its removal ‹secret› → ∅', () => {
    const rotate = diffResources([{ kind: '/interface/wireguard', key: 'if', props: { 'private-key': nextKey, mtu: '1420' } }], [{ kind: '/interface/wireguard', id: '*1', key: 'if', props: { mtu: '1420' } }], { kindOrder: order });
    expect(describePlan(rotate)).toEqual(['~ update /interface/wireguard if: private-key ∅ → ‹new secret›']);
    const removed = diffResources([{ kind: 'wg-peer', key: 'p', props: { 'preshared-key': '(none)' } }], [{ kind: 'wg-peer', id: 'p', key: 'p', props: { 'preshared-key': 'sha256:0123' } }], { kindOrder: order });
    expect(describePlan(removed)).toEqual(['~ update wg-peer p: preshared-key ‹secret› → ∅']);
  });

  it('non-secret values are shown as before', () => {
    const plan = diffResources([{ kind: 'k', key: 'a', props: { endpoint: 'b2.example.net', 'public-key': 'PUB=' } }], [{ kind: 'k', id: '*1', key: 'a', props: { endpoint: '', 'public-key': 'OLD=' } }], { kindOrder: order });
    expect(describePlan(plan)).toEqual(['~ update k a: endpoint ∅ → b2.example.net, public-key OLD= → PUB=']);
  });
});

describe('drift details (verify)', () => {
  it.each(SPELLINGS)('%s %s %s: says the secret differs without either value', (_driver, _kind, prop) => {
    const [detail] = describeChanges({ [prop]: nextKey }, { [prop]: key }, '≠', '‹wanted secret›');
    expect(detail).toBe(`${prop}: ‹secret› ≠ ‹wanted secret›`);
  });

  it('say a secret differs without either value, beside plain values', () => {
    expect(describeChanges({ presharedkey: psk, mtu: '1420' }, { presharedkey: `fp:abcd`, mtu: '1380' }, '≠', '‹wanted secret›')).toEqual([
      'presharedkey: ‹secret› ≠ ‹wanted secret›',
      'mtu: 1380 ≠ 1420',
    ]);
  });
});

describe('secretsOf', () => {
  it('collects the secret values an operation writes and read back, nothing else', () => {
    const update: PlanOperation = { op: 'update', kind: 'k', key: 'a', id: '*1', changes: { 'private-key': key, mtu: '1420' }, before: { 'private-key': 'sha256:1234', mtu: '1380' } };
    expect(secretsOf(update).sort()).toEqual([key, 'sha256:1234'].sort());
    expect(secretsOf({ op: 'create', kind: 'k', key: 'a', props: { presharedkey: psk, descr: 'x', 'preshared-key': '(none)' } })).toEqual([psk]);
  });
});

describe('redactSecrets', () => {
  it('cuts a known secret out of free text as written, JSON-escaped and URL-encoded', () => {
    const password = 'pa"ss/w0rd?&';
    const text = `failure: invalid value ${key} for private-key; body {"password":${JSON.stringify(password)}} url ?p=${encodeURIComponent(password)} raw ${password}`;
    const redacted = redactSecrets(text, [key, password, null]);
    expect(redacted).toBe('failure: invalid value ‹redacted› for private-key; body {"password":"‹redacted›"} url ?p=‹redacted› raw ‹redacted›');
  });

  it('leaves text without the secrets, and secrets too short to search for, alone', () => {
    expect(redactSecrets('nothing to see', [key, 'abc', ''])).toBe('nothing to see');
  });
});
