import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DiscoveredPeer } from './discovery.js';
import { parseEndpoint, parseWgQuickFiles, type WgQuickFile } from './wg-quick.js';

const fixture = (path: string, name = path.split('/').pop() as string): WgQuickFile =>
  ({ name, content: readFileSync(new URL(`./__fixtures__/${path}`, import.meta.url), 'utf8') });

// The fixtures' keys (made for these files only): private keys, their public keys (derived
// here by x25519 and checked against what the parser derives), preshared keys.
const K = {
  wgeServerPriv: '4OTiOm6WuB3rdPAxRhh2/J1cgKsZZB6ArEXtrwi7Wk8=', wgeServerPub: 'njp8FXA4Skru/g8V44VFrzHkQ1RXpjrFr5mFWUGAWFQ=',
  alicePriv: 'cMr+AbtQ2DEjq1yOWqJbfmK4WwNPID2asNc0Po+B90w=', alicePub: 'd9URSoKsj5gIdF90wZnQFPPj+JhZR/SZ2wBKGNX9NCA=',
  bobPub: 'Q5GReblP90xnaQuh0JE6pLoC53djYoNboI+HU2zdt00=', carolPub: 'glFoqoNtZJ5OnYqWN5BFuRZXkf0zPZR9Z98RIlyleWA=',
  hubPriv: 'WCqOWUqSDSrac7wzEgvYyemihv0TQR4tXiChQoE8eVI=', hubPub: 'zs6BCQMZKhOFjlLYcrNJyTB+pudyAkA1TNi+0oQNK3c=',
  berlinPriv: 'GFzZH0cpHOoVnxN4bjyr2Evfd7HVeqLH4ZnmX8v853s=', berlinPub: 'a89FCjH6TwH3GC3L7Y7urQPKpt/19Fxpvco4UNDdzGY=',
  parisPub: 'WN8jlap4OkwgH8eL2aL+igqyMeW1n1pNTctyaYstVDg=', laptopPriv: 'GA5mDCttmzCeHTSmjiLvCi8A0YL6pn/Q5pHc0UBOYmw=', laptopPub: 'CkPnT2yReekEFt+F7ZtAAstQ6VeUrlOJ1doktepDrhI=',
  handAPriv: '0JOLlmodL24IS3qNXByc2sF2SpcrC2VP9SXZ5gMAmEo=', handAPub: 'XvsbL1W36Mqcr6LYLuMYVPsuiRnvnG6+sPKxjKdZg2g=', handBPub: 'ELIaeCUV2zzsG9dT7/2vwVo7XPu+pKpI1Pc1pa13glo=', handCPriv: 'yPo/OsD2g9N5BRENGdo7kN4WiCLsu50AugO+ADPzPnA=', handCPub: 'MfY1LXcFtocbGLgS+YGz2mMoH9QEGaUSWREBiVlWYz8=',
  psk1: 'uW9jCnXAy9cGkVkpAQDLD2yhYznvFrUFlOn5bR+6hHw=', psk2: 'ZvnotJqCSFficsp4UxvUZwTSdftkHKLP6ry4DYTTa7I=', psk3: 'jDyr9oZfM6Xns2Mmb3KXVcugO0WBsUEaWkfGihzJbLc=', psk4: 'felJcuwMfDgBKN5i/NYClpgOfQXmTEwnJNAGwIEjf0s=',
};
const SECRETS = [K.wgeServerPriv, K.alicePriv, K.hubPriv, K.berlinPriv, K.laptopPriv, K.handAPriv, K.handCPriv, K.psk1, K.psk2, K.psk3, K.psk4];

const peer = (fields: Partial<DiscoveredPeer> & Pick<DiscoveredPeer, 'ref' | 'publicKey' | 'allowedIps'>): DiscoveredPeer => ({
  endpointHost: null, endpointPort: null, persistentKeepalive: null, presharedKey: null, hasPresharedKey: false, comment: null,
  disabled: false, managedKey: null, lastHandshake: null, rxBytes: null, txBytes: null, ...fields,
});

const WG_EASY_UP = 'iptables -t nat -A POSTROUTING -s 10.8.0.0/24 -o eth0 -j MASQUERADE; iptables -A INPUT -p udp -m udp --dport 51820 -j ACCEPT; '
  + 'iptables -A FORWARD -i wg0 -j ACCEPT; iptables -A FORWARD -o wg0 -j ACCEPT; ip6tables -t nat -A POSTROUTING -s fdcc:ad94:bacf:61a4::cafe:0/112 -o eth0 -j MASQUERADE; '
  + 'ip6tables -A INPUT -p udp -m udp --dport 51820 -j ACCEPT; ip6tables -A FORWARD -i wg0 -j ACCEPT; ip6tables -A FORWARD -o wg0 -j ACCEPT;';

describe('parseWgQuickFiles: wg-easy v15', () => {
  it('reads the server wg0.conf: keys, dual-stack addresses, three named peers with PSKs, hooks and Table kept as unmodelled', () => {
    const { interfaces, problems } = parseWgQuickFiles([fixture('wg-easy/wg0.conf')]);
    expect(problems).toEqual([]);
    expect(interfaces).toEqual([{
      ref: 'wg0.conf', name: 'wg0', source: 'file wg0.conf',
      listenPort: 51820, mtu: 1420, privateKey: K.wgeServerPriv, publicKey: K.wgeServerPub,
      addresses: ['10.8.0.1/24', 'fdcc:ad94:bacf:61a4::cafe:1/112'],
      disabled: false, comment: 'Server', managedKey: null,
      peers: [
        peer({ ref: 'wg0.conf#1', publicKey: K.alicePub, allowedIps: ['10.8.0.2/32', 'fdcc:ad94:bacf:61a4::cafe:2/128'], presharedKey: K.psk1, hasPresharedKey: true, comment: 'alice-phone' }),
        peer({
          ref: 'wg0.conf#2', publicKey: K.bobPub, allowedIps: ['10.8.0.3/32', 'fdcc:ad94:bacf:61a4::cafe:3/128', '192.168.50.0/24'],
          endpointHost: 'bob.example.net', endpointPort: 51821, presharedKey: K.psk2, hasPresharedKey: true, comment: 'bob office',
        }),
        peer({ ref: 'wg0.conf#3', publicKey: K.carolPub, allowedIps: ['10.8.0.4/32', 'fdcc:ad94:bacf:61a4::cafe:4/128'], presharedKey: K.psk3, hasPresharedKey: true, comment: 'carol' }),
      ],
      // The empty PreUp/PreDown wg-easy writes set nothing and are not reported.
      unmodelled: [
        { owner: 'interface', name: 'Table', value: 'auto' },
        { owner: 'interface', name: 'PostUp', value: WG_EASY_UP },
        { owner: 'interface', name: 'PostDown', value: WG_EASY_UP.replaceAll('-A ', '-D ') },
        { owner: 'wg0.conf#1', name: '# Client id (wg-easy)', value: '1' },
        { owner: 'wg0.conf#2', name: '# Client id (wg-easy)', value: '2' },
        { owner: 'wg0.conf#3', name: '# Client id (wg-easy)', value: '3' },
      ],
    }]);
  });

  it('reads a client file: the client end with its key, the server as its one peer, DNS reported, keepalive 0 as none', () => {
    const { interfaces, problems } = parseWgQuickFiles([fixture('wg-easy/alice-phone.conf')]);
    expect(problems).toEqual([]);
    expect(interfaces).toEqual([{
      ref: 'alice-phone.conf', name: 'alice-phone', source: 'file alice-phone.conf',
      listenPort: null, mtu: 1420, privateKey: K.alicePriv, publicKey: K.alicePub,
      addresses: ['10.8.0.2/32', 'fdcc:ad94:bacf:61a4::cafe:2/128'],
      disabled: false, comment: null, managedKey: null,
      peers: [peer({
        ref: 'alice-phone.conf#1', publicKey: K.wgeServerPub, allowedIps: ['0.0.0.0/0', '::/0'],
        endpointHost: 'vpn.example.com', endpointPort: 51820, presharedKey: K.psk1, hasPresharedKey: true,
      })],
      unmodelled: [{ owner: 'interface', name: 'DNS', value: '1.1.1.1, 2606:4700:4700::1111' }],
    }]);
  });
});

describe('parseWgQuickFiles: wg-portal v2', () => {
  it('reads the interface file: display names as names, -WGP- metadata kept, each peer\'s private key from its comment when it is the key of the peer\'s PublicKey', () => {
    const { interfaces, problems } = parseWgQuickFiles([fixture('wg-portal/wg0.conf')]);
    expect(problems).toEqual([]);
    const meta = (owner: string, created: string) => [
      { owner, name: '# -WGP- Created', value: created },
      { owner, name: '# -WGP- Updated', value: created },
    ];
    expect(interfaces).toEqual([{
      ref: 'wg0.conf', name: 'wg0', source: 'file wg0.conf',
      listenPort: 51820, mtu: 1420, privateKey: K.hubPriv, publicKey: K.hubPub,
      addresses: ['10.11.12.1/24', 'fd00:11:12::1/64'],
      disabled: false, comment: 'Office hub', managedKey: null,
      peers: [
        { ...peer({ ref: 'wg0.conf#1', publicKey: K.berlinPub, allowedIps: ['10.11.12.2/32', 'fd00:11:12::2/128', '192.168.20.0/24'], presharedKey: K.psk4, hasPresharedKey: true, comment: 'Berlin office' }), privateKey: K.berlinPriv },
        peer({ ref: 'wg0.conf#2', publicKey: K.parisPub, allowedIps: ['10.11.12.3/32', 'fd00:11:12::3/128', '192.168.30.0/24'], comment: 'Paris shop' }),
        { ...peer({ ref: 'wg0.conf#3', publicKey: K.laptopPub, allowedIps: ['10.11.12.4/32', 'fd00:11:12::4/128'], comment: 'Dana laptop' }), privateKey: K.laptopPriv },
      ],
      unmodelled: [
        { owner: 'interface', name: '# -WGP- version', value: 'v2.1.0' },
        { owner: 'interface', name: '# -WGP- Interface', value: 'wg0' },
        { owner: 'interface', name: '# -WGP- Created', value: '2026-11-02 10:15:04.123456789 +0000 UTC' },
        { owner: 'interface', name: '# -WGP- Updated', value: '2026-11-20 08:01:55.5 +0000 UTC' },
        { owner: 'interface', name: '# -WGP- Interface mode', value: 'server' },
        { owner: 'interface', name: '# -WGP- PublicKey', value: K.hubPub },
        { owner: 'interface', name: 'Table', value: 'off' },
        { owner: 'interface', name: 'PostUp', value: 'iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE' },
        { owner: 'interface', name: 'PostDown', value: 'iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE' },
        { owner: 'wg0.conf#1', name: '# -WGP- Peer', value: K.berlinPub },
        ...meta('wg0.conf#1', '2026-11-02 10:20:11.000000001 +0000 UTC'),
        { owner: 'wg0.conf#2', name: '# -WGP- Peer', value: K.parisPub },
        ...meta('wg0.conf#2', '2026-11-03 09:00:00 +0000 UTC'),
        { owner: 'wg0.conf#3', name: '# -WGP- Peer', value: K.laptopPub },
        ...meta('wg0.conf#3', '2026-11-04 17:45:30.25 +0000 UTC'),
      ],
    }]);
  });

  it('reads a peer file: the site end named by its display name, DNS with its search domain reported', () => {
    const { interfaces, problems } = parseWgQuickFiles([fixture('wg-portal/berlin.conf')]);
    expect(problems).toEqual([]);
    expect(interfaces).toEqual([{
      ref: 'berlin.conf', name: 'berlin', source: 'file berlin.conf',
      listenPort: null, mtu: 1420, privateKey: K.berlinPriv, publicKey: K.berlinPub,
      addresses: ['10.11.12.2/32', 'fd00:11:12::2/128'],
      disabled: false, comment: 'Berlin office', managedKey: null,
      peers: [peer({
        ref: 'berlin.conf#1', publicKey: K.hubPub, allowedIps: ['10.11.12.0/24', 'fd00:11:12::/64', '192.168.10.0/24'],
        endpointHost: 'vpn.example.org', endpointPort: 51820, persistentKeepalive: 25, presharedKey: K.psk4, hasPresharedKey: true,
      })],
      unmodelled: [
        { owner: 'interface', name: '# -WGP- version', value: 'v2.1.0' },
        { owner: 'interface', name: '# -WGP- Peer', value: K.berlinPub },
        { owner: 'interface', name: '# -WGP- Created', value: '2026-11-02 10:20:11.000000001 +0000 UTC' },
        { owner: 'interface', name: '# -WGP- Updated', value: '2026-11-02 10:20:11.000000001 +0000 UTC' },
        { owner: 'interface', name: '# -WGP- PublicKey', value: K.berlinPub },
        { owner: 'interface', name: '# -WGP- Peer type', value: 'client' },
        { owner: 'interface', name: 'DNS', value: '10.11.12.1, office.internal' },
      ],
    }]);
  });
});

describe('parseWgQuickFiles: hand-written files', () => {
  const HQ = {
    ref: 'hq.conf', name: 'hq', source: 'file hq.conf',
    listenPort: 51820, mtu: null, privateKey: K.handAPriv, publicKey: K.handAPub,
    addresses: ['10.50.0.1/24', 'fd50::1/64'],
    disabled: false, comment: 'HQ router, set up by hand', managedKey: null,
    peers: [
      // Tabs, two AllowedIPs lines, a bracketed upper-case IPv6 endpoint, keepalive "off".
      peer({ ref: 'hq.conf#1', publicKey: K.handBPub, allowedIps: ['10.50.0.2/32', '192.168.2.0/24', 'fd50::2/128'], endpointHost: '2001:db8::b', endpointPort: 51820, comment: 'site-b' }),
      // Named by the comment inside the section; a bare address is a /32, host bits are cleared as wg does.
      peer({ ref: 'hq.conf#2', publicKey: K.handCPub, allowedIps: ['10.50.0.3/32', '192.168.3.0/24'], endpointHost: 'site-c.example.com', endpointPort: 51822, persistentKeepalive: 25, comment: 'site-c' }),
      // Lower-case section and keys, named by the header's trailing comment, an unbracketed IPv6 endpoint (wg splits at the last colon).
      peer({ ref: 'hq.conf#3', publicKey: K.carolPub, allowedIps: ['10.50.0.9/32'], endpointHost: '2001:db8::9', endpointPort: 40000, comment: 'roaming laptop' }),
    ],
    unmodelled: [
      { owner: 'interface', name: 'SaveConfig', value: 'false' },
      { owner: 'interface', name: 'FwMark', value: '0x1234' },
      { owner: 'interface', name: 'PostUp', value: 'ip rule add fwmark 0x1234 table 51820 # wg-quick runs the whole line' },
      { owner: 'interface', name: 'DNS', value: '10.50.0.53' },
      { owner: 'interface', name: 'MyCustomSetting', value: 'yes' },
    ],
  };

  it('reads every field of a hand-made hub', () => {
    const { interfaces, problems } = parseWgQuickFiles([fixture('hand/hq.conf')]);
    expect(problems).toEqual([]);
    expect(interfaces).toEqual([HQ]);
  });

  it('reads the same file saved on Windows (BOM, CRLF) or an old Mac (CR) the same way', () => {
    const lf = fixture('hand/hq.conf').content;
    for (const content of ['\uFEFF' + lf.replaceAll('\n', '\r\n'), lf.replaceAll('\n', '\r')]) {
      expect(parseWgQuickFiles([{ name: 'hq.conf', content }])).toEqual({ interfaces: [HQ], problems: [] });
    }
  });

  it('reports each wrong line with its file and line number, keeps what is right, never throws', () => {
    const { interfaces, problems } = parseWgQuickFiles([fixture('hand/broken.conf')]);
    expect(problems).toEqual([
      { file: 'broken.conf', line: 1, message: 'ListenPort comes before any [Interface] or [Peer] header: ignored' },
      { file: 'broken.conf', line: 3, message: 'PrivateKey is not a WireGuard key (44 characters of base64 encoding 32 bytes)' },
      { file: 'broken.conf', line: 4, message: 'ListenPort "99999" is not a port number from 0 to 65535' },
      { file: 'broken.conf', line: 5, message: 'MTU "abc" is not a number from 576 to 65535' },
      { file: 'broken.conf', line: 6, message: 'Address "10.0.0.1/33" is not an IP address with an optional /prefix' },
      { file: 'broken.conf', line: 7, message: 'not understood: expected "Key = value" or a [Interface] / [Peer] header' },
      { file: 'broken.conf', line: 8, message: 'PresharedKey belongs in a [Peer] section, not in [Interface]: ignored' },
      { file: 'broken.conf', line: 11, message: 'AllowedIPs "banana" is not an address or CIDR' },
      { file: 'broken.conf', line: 12, message: 'Endpoint "2001:db8::1": expected host:port or [IPv6 address]:port' },
      { file: 'broken.conf', line: 13, message: 'PersistentKeepalive "-1" is not a number of seconds from 0 to 65535 or "off"' },
      { file: 'broken.conf', line: 14, message: 'PrivateKey belongs in [Interface], not in a [Peer] section: ignored' },
      { file: 'broken.conf', line: 15, message: 'PublicKey is given again: this later line is used, as wg does' },
      { file: 'broken.conf', line: 16, message: 'this [Peer] has no valid PublicKey: it is left out' },
      { file: 'broken.conf', line: 18, message: 'unknown section [Wat]: wg-quick knows only [Interface] and [Peer]; its lines are not read' },
      { file: 'broken.conf', line: 19, message: 'Foo is inside the unknown section [Wat]: ignored' },
    ]);
    expect(interfaces).toEqual([{
      ref: 'broken.conf', name: 'broken', source: 'file broken.conf',
      listenPort: null, mtu: null, privateKey: null, publicKey: null, addresses: ['10.0.0.2/24'],
      disabled: false, comment: null, managedKey: null,
      peers: [peer({ ref: 'broken.conf#1', publicKey: K.handCPub, allowedIps: ['10.0.0.0/8'] })],
      unmodelled: [],
    }]);
  });

  it('keeps a -WGP- PrivateKey comment only when it is the key of the PublicKey below it', () => {
    const content = `[Interface]\nPrivateKey = ${K.hubPriv}\n\n[Peer]\n# -WGP- PrivateKey: ${K.laptopPriv}\nPublicKey = ${K.berlinPub}\nAllowedIPs = 10.11.12.2/32\n`;
    const [hub] = parseWgQuickFiles([{ name: 'wg0.conf', content }]).interfaces;
    expect(hub?.peers[0]).not.toHaveProperty('privateKey');
    expect(hub?.unmodelled).toEqual([{ owner: 'wg0.conf#1', name: '# -WGP- PrivateKey', value: 'present in the file, not imported: it is not the private key of this PublicKey' }]);
  });

  it('never repeats a private or preshared key in a problem or an unmodelled value', () => {
    const all = ['wg-easy/wg0.conf', 'wg-easy/alice-phone.conf', 'wg-portal/wg0.conf', 'wg-portal/berlin.conf', 'hand/hq.conf', 'hand/broken.conf'].map((path) => fixture(path));
    const extra: WgQuickFile = {
      name: 'odd.conf',
      content: `[Interface]\nPrivateKey = ${K.handCPriv}x\nPresharedKey = ${K.psk2}\nMySecretKey = ${K.psk3}\n${K.psk1}\n[Peer]\nPublicKey = ${K.psk4}=\nPresharedKey = ${K.psk3}\n`,
    };
    const { interfaces, problems } = parseWgQuickFiles([...all, extra]);
    const shown = JSON.stringify([problems, interfaces.map((found) => found.unmodelled)]);
    for (const secret of SECRETS) expect(shown).not.toContain(secret);
    expect(interfaces.at(-1)?.unmodelled).toEqual([{ owner: 'interface', name: 'MySecretKey', value: 'present in the file, not imported' }]);
  });
});

describe('parseWgQuickFiles: files together', () => {
  it('keeps files apart by position when several are called wg0.conf, and reads an empty or foreign file as a problem', () => {
    const { interfaces, problems } = parseWgQuickFiles([
      fixture('wg-easy/wg0.conf'), fixture('wg-portal/wg0.conf'), { name: 'notes.txt', content: 'just some notes\n' }, { name: 'empty.conf', content: '' },
    ]);
    expect(interfaces.map((found) => [found.ref, found.name, found.source, found.peers.map((p) => p.ref)])).toEqual([
      ['wg0.conf', 'wg0', 'file wg0.conf', ['wg0.conf#1', 'wg0.conf#2', 'wg0.conf#3']],
      ['wg0.conf (2)', 'wg0', 'file wg0.conf (2)', ['wg0.conf (2)#1', 'wg0.conf (2)#2', 'wg0.conf (2)#3']],
    ]);
    expect(interfaces[1]?.unmodelled.filter((setting) => setting.owner.startsWith('wg0.conf (2)#')).length).toBe(9);
    expect(problems).toEqual([
      { file: 'notes.txt', line: 1, message: 'not understood: expected "Key = value" or a [Interface] / [Peer] header' },
      { file: 'notes.txt', line: 0, message: 'no [Interface] or [Peer] section: not a wg-quick file' },
      { file: 'empty.conf', line: 0, message: 'no [Interface] or [Peer] section: not a wg-quick file' },
    ].sort((a, b) => (a.file === b.file ? a.line - b.line : 0)));
  });

  it('reads a file of peers alone, saying its own end is unknown, and one without a PrivateKey as bring-your-own', () => {
    const { interfaces, problems } = parseWgQuickFiles([
      { name: 'peers only.conf', content: `# branch\n[Peer]\nPublicKey = ${K.handBPub}\nAllowedIPs = 10.9.0.2/32\n` },
      { name: 'byo.conf', content: `[Interface]\nAddress = 10.9.0.1/24\nListenPort = 0\n` },
    ]);
    expect(interfaces.map((found) => ({ ref: found.ref, name: found.name, privateKey: found.privateKey, publicKey: found.publicKey, listenPort: found.listenPort, peers: found.peers.map((p) => p.comment) }))).toEqual([
      { ref: 'peers only.conf', name: 'peers-only', privateKey: null, publicKey: null, listenPort: null, peers: ['branch'] },
      { ref: 'byo.conf', name: 'byo', privateKey: null, publicKey: null, listenPort: null, peers: [] },
    ]);
    expect(problems).toEqual([
      { file: 'peers only.conf', line: 0, message: "no [Interface] section: the peers are read, the file's own end has no key or address" },
      { file: 'byo.conf', line: 0, message: 'no PrivateKey in [Interface]: this end can only be kept with a key you bring' },
    ]);
  });

  it('names peers from the nearest comment: a tool\'s name beats a free comment, a blank line cuts a comment off', () => {
    const content = [
      '[Interface]', `PrivateKey = ${K.handAPriv}`, '',
      '# Peers', '', '[Peer]', `PublicKey = ${K.handBPub}`, // blank line between: not named "Peers"
      '# old note', '# Client: berlin (7)', '[Peer]', '# friendly_name = Berlin HQ', `PublicKey = ${K.handCPub}`, // friendly_name wins
      '# paris', '[Peer] # ignored: the comment above is nearer', `PublicKey = ${K.carolPub} # not a name`,
    ].join('\n');
    const { interfaces, problems } = parseWgQuickFiles([{ name: 'n.conf', content }]);
    expect(problems).toEqual([]);
    expect(interfaces[0]?.peers.map((p) => p.comment)).toEqual([null, 'Berlin HQ', 'paris']);
    expect(interfaces[0]?.unmodelled).toEqual([{ owner: 'n.conf#2', name: '# Client id (wg-easy)', value: '7' }]);
  });
});

describe('parseEndpoint', () => {
  it('accepts host:port, [v6]:port and a bare v6 before its last colon; refuses the rest with a reason', () => {
    expect(parseEndpoint('203.0.113.5:51820')).toEqual({ host: '203.0.113.5', port: 51820 });
    expect(parseEndpoint('[2001:DB8:0::1]:1')).toEqual({ host: '2001:db8::1', port: 1 });
    expect(parseEndpoint('VPN.Example.com:65535')).toEqual({ host: 'vpn.example.com', port: 65535 });
    expect(parseEndpoint('vpn.example.com')).toBe('expected host:port or [IPv6 address]:port');
    expect(parseEndpoint('vpn.example.com:0')).toBe('the port must be a number from 1 to 65535');
    expect(parseEndpoint('vpn.example.com:65536')).toBe('the port must be a number from 1 to 65535');
    expect(parseEndpoint('[10.0.0.1]:5')).toBe('only an IPv6 address goes in brackets');
    expect(parseEndpoint('bad_host!:5')).toBe('the host is neither an IP address nor a valid hostname');
  });
});
