// The IPv6 menus (/ipv6/address, /ipv6/route, /ipv6/firewall/filter, /ipv6/firewall/nat,
// /ipv6/settings) and IPv6 AllowedIPs, on the wire: the binary API through our own codec
// (exact sentences and bytes) and REST, over the one model the /ip menus use. Each family's
// menus refuse the other family's values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSentence } from './api-codec.js';
import { RawApiClient, type ApiReply } from './raw-api-client.js';
import { startRouterOsSimulator, type RouterOsSimulator } from './simulator.js';
import { restClient } from './test-clients.js';
import { keyPairFromLabel } from './wireguard-keys.js';

const PEER = keyPairFromLabel('ipv6-test-peer').publicKey;

const words = (replies: ApiReply[]) => replies.map((reply) => reply.words);
const trapMessage = (replies: ApiReply[]) => replies.find((reply) => reply.reply === '!trap')?.attributes.message;

describe('IPv6 menus over the binary API — RouterOS 7.18 emulation', () => {
  let sim: RouterOsSimulator;
  let client: RawApiClient;
  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18.2' });
    client = await RawApiClient.connect({ host: sim.host, port: sim.apiPort });
    expect((await client.login(sim.username, sim.password)).map((reply) => reply.reply)).toEqual(['!done']);
    await client.call(['/interface/wireguard/add', '=name=wg6']);
  });
  afterAll(async () => {
    client?.close();
    await sim.stop();
  });

  it('adds an IPv6 address in any valid spelling and prints it short (RFC 5952), without IPv4-only network, with advertise off on request', async () => {
    const added = await client.call(['/ipv6/address/add', '=address=FD10:AAAA:0000::0002/64', '=interface=wg6', '=advertise=no', '=comment=meshplane:t:address:x', '.tag=3']);
    expect(words(added)).toEqual([['!done', `=ret=${added[0]!.attributes.ret}`, '.tag=3']]);
    const id = added[0]!.attributes.ret!;
    const before = client.received().length;
    const printed = await client.call(['/ipv6/address/print', '=.proplist=.id,address,interface,advertise', `?.id=${id}`]);
    expect(words(printed)).toEqual([['!re', `=.id=${id}`, '=address=fd10:aaaa::2/64', '=interface=wg6', '=advertise=false'], ['!done']]);
    // The reply sentence byte for byte: each word with its one-byte length prefix, then the empty word.
    const expected = Buffer.concat([
      encodeSentence(['!re', `=.id=${id}`, '=address=fd10:aaaa::2/64', '=interface=wg6', '=advertise=false']),
      encodeSentence(['!done']),
    ]);
    expect(client.received().subarray(before).toString('hex')).toBe(expected.toString('hex'));
    const full = sim.model.lookup('/ipv6/address', id);
    expect(full).toMatchObject({ 'actual-interface': 'wg6', 'eui-64': 'false', 'no-dad': 'false', 'link-local': 'false', global: 'true', dynamic: 'false', invalid: 'false' });
    expect(full).not.toHaveProperty('network');
    // A /64 advertises unless told otherwise.
    const advertised = await client.call(['/ipv6/address/add', '=address=fd10:bbbb::1/64', '=interface=wg6']);
    expect(sim.model.lookup('/ipv6/address', advertised[0]!.attributes.ret!)?.advertise).toBe('true');
  });

  it('refuses an IPv4 value in an /ipv6 menu and an IPv6 value in an /ip menu, naming the property (category 1)', async () => {
    const cases: [string[], string][] = [
      [['/ipv6/address/add', '=address=10.0.0.2/24', '=interface=wg6'], 'invalid value for argument address: 10.0.0.2/24'],
      [['/ip/address/add', '=address=fd10::2/64', '=interface=wg6'], 'invalid value for argument address: fd10::2/64'],
      [['/ipv6/route/add', '=dst-address=192.168.1.0/24', '=gateway=wg6'], 'invalid value for argument dst-address: 192.168.1.0/24'],
      [['/ipv6/route/add', '=dst-address=2001:db8::/64', '=gateway=10.0.0.1'], 'input does not match any value of gateway'],
      [['/ip/route/add', '=dst-address=10.9.0.0/24', '=gateway=fd10::1'], 'input does not match any value of gateway'],
      [['/ipv6/firewall/filter/add', '=chain=forward', '=src-address=10.0.0.0/8'], 'invalid value for argument src-address: 10.0.0.0/8'],
      [['/ip/firewall/filter/add', '=chain=forward', '=dst-address=2001:db8::/64'], 'invalid value for argument dst-address: 2001:db8::/64'],
      [['/ipv6/firewall/nat/add', '=chain=dstnat', '=action=dst-nat', '=to-address=192.168.1.10'], 'invalid value for argument to-address: 192.168.1.10'],
      [['/ip/firewall/nat/add', '=chain=dstnat', '=action=dst-nat', '=to-addresses=2001:db8::10'], 'invalid value for argument to-addresses: 2001:db8::10'],
      // IPv6 NAT names its target `to-address`; the IPv4 spelling is unknown there, and the other way round.
      [['/ipv6/firewall/nat/add', '=chain=dstnat', '=action=dst-nat', '=to-addresses=2001:db8::10'], 'unknown parameter to-addresses'],
      [['/ip/firewall/nat/add', '=chain=dstnat', '=action=dst-nat', '=to-address=10.0.0.9'], 'unknown parameter to-address'],
      [['/ipv6/address/add', '=address=fd10::2/129', '=interface=wg6'], 'invalid value for argument address: fd10::2/129'],
      [['/ipv6/address/add', '=address=fd10::2/64', '=interface=wg6', '=network=fd10::'], 'unknown parameter network'],
    ];
    for (const [command, message] of cases) {
      const replies = await client.call(command);
      expect(replies.map((reply) => reply.reply), command.join(' ')).toEqual(['!trap', '!done']);
      expect(trapMessage(replies), command.join(' ')).toBe(message);
    }
    expect(sim.model.rows('/ipv6/route').map((row) => row['dst-address'])).toEqual(['::/0']);
  });

  it('routes, filter rules and NPTv6 netmap: added, printed, and the lowest distance active', async () => {
    const route = await client.call(['/ipv6/route/add', '=dst-address=2001:DB8:A::/64', '=gateway=wg6', '=distance=10']);
    const rival = await client.call(['/ipv6/route/add', '=dst-address=2001:db8:a::/64', '=gateway=fd00:88::254', '=distance=1']);
    expect(route[0]!.attributes.ret).toMatch(/^\*8000000[0-9A-F]$/);
    const routes = words(await client.call(['/ipv6/route/print', '=.proplist=dst-address,gateway,distance,active', '?dst-address=2001:db8:a::/64']));
    expect(routes).toEqual([
      ['!re', `=.id=${route[0]!.attributes.ret}`, '=dst-address=2001:db8:a::/64', '=gateway=wg6', '=distance=10', '=active=false'],
      ['!re', `=.id=${rival[0]!.attributes.ret}`, '=dst-address=2001:db8:a::/64', '=gateway=fd00:88::254', '=distance=1', '=active=true'],
      ['!done'],
    ]);
    await client.call(['/ipv6/route/set', `=.id=${rival[0]!.attributes.ret}`, '=distance=11']);
    expect(sim.model.lookup('/ipv6/route', route[0]!.attributes.ret!)?.active).toBe('true');

    const rule = await client.call(['/ipv6/firewall/filter/add', '=chain=input', '=protocol=udp', '=dst-port=51820', '=action=accept', '=place-before=*1']);
    expect(sim.model.rows('/ipv6/firewall/filter')[0]?.['.id']).toBe(rule[0]!.attributes.ret);
    const netmap = await client.call(['/ipv6/firewall/nat/add', '=chain=srcnat', '=action=netmap', '=out-interface=wg6', '=src-address=2001:db8:a::/64', '=to-address=FD10:AAAA:BBBB:8001::/64']);
    const service = await client.call(['/ipv6/firewall/nat/add', '=chain=dstnat', '=action=dst-nat', '=in-interface=wg6', '=protocol=tcp', '=dst-address=fd10:aaaa:bbbb:5::7', '=dst-port=80', '=to-address=2001:db8:b::10', '=to-ports=8080']);
    expect(sim.model.lookup('/ipv6/firewall/nat', netmap[0]!.attributes.ret!)).toMatchObject({ action: 'netmap', 'src-address': '2001:db8:a::/64', 'to-address': 'fd10:aaaa:bbbb:8001::/64' });
    // An IPv6 host matcher prints with /128 (unverified; see properties.ts).
    expect(sim.model.lookup('/ipv6/firewall/nat', service[0]!.attributes.ret!)).toMatchObject({ 'dst-address': 'fd10:aaaa:bbbb:5::7/128', 'to-address': '2001:db8:b::10/128', 'to-ports': '8080' });
    // The IPv4 menus are untouched by all this.
    expect(sim.model.rows('/ip/firewall/nat').map((row) => row.comment)).toEqual(['defconf: masquerade']);
  });

  it('WireGuard allowed-address carries both families, IPv6 short and with /128 for a host; overlaps refused per family', async () => {
    const added = await client.call(['/interface/wireguard/peers/add', '=interface=wg6', `=public-key=${PEER}`, '=allowed-address=10.0.0.3/32,FD10:AAAA:BBBB::3,2001:db8:c::/64']);
    expect(added.map((reply) => reply.reply)).toEqual(['!done']);
    const printed = await client.call(['/interface/wireguard/peers/print', '=.proplist=allowed-address', `?public-key=${PEER}`]);
    expect(printed[0]!.attributes['allowed-address']).toBe('10.0.0.3/32,fd10:aaaa:bbbb::3/128,2001:db8:c::/64');
    const other = keyPairFromLabel('ipv6-test-peer-2').publicKey;
    const overlapping = await client.call(['/interface/wireguard/peers/add', '=interface=wg6', `=public-key=${other}`, '=allowed-address=2001:db8:c:0:1::/80']);
    expect(trapMessage(overlapping)).toBe('failure: allowed-address 2001:db8:c::/64 overlaps with another peer on this interface');
  });

  it('/ipv6/settings: a singleton with forwarding on by default; set and read back', async () => {
    expect(words(await client.call(['/ipv6/settings/print', '=.proplist=forward,disable-ipv6']))).toEqual([['!re', '=disable-ipv6=false', '=forward=true'], ['!done']]);
    expect((await client.call(['/ipv6/settings/set', '=forward=no'])).map((reply) => reply.reply)).toEqual(['!done']);
    expect(sim.model.rows('/ipv6/settings')).toEqual([expect.objectContaining({ forward: 'false' })]);
    expect(trapMessage(await client.call(['/ipv6/settings/add', '=forward=yes']))).toBe('no such command or directory (add)');
    await client.call(['/ipv6/settings/set', '=forward=yes']);
  });
});

describe('IPv6 menus over REST', () => {
  let sim: RouterOsSimulator;
  let rest: ReturnType<typeof restClient>;
  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18.2' });
    rest = restClient(sim);
  });
  afterAll(async () => {
    await rest.close();
    await sim.stop();
  });

  it('PUT returns the IPv6 address as printed; PATCH and DELETE by id; the other family is a 400 with detail', async () => {
    const created = await rest.call('PUT', '/rest/ipv6/address', { address: 'fd00:88:0::2/64', interface: 'bridge', advertise: 'false', comment: 'meshplane:t:address:y' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ address: 'fd00:88::2/64', interface: 'bridge', advertise: 'false' });
    const id = (created.body as { '.id': string })['.id'];
    const listed = await rest.call('GET', `/rest/ipv6/address?comment=meshplane:t:address:y&.proplist=address`);
    expect(listed.body).toEqual([{ '.id': id, address: 'fd00:88::2/64' }]);
    expect((await rest.call('PATCH', `/rest/ipv6/address/${id}`, { address: 'fd00:88::3/64' })).body).toMatchObject({ address: 'fd00:88::3/64' });
    const refused = await rest.call('PUT', '/rest/ipv6/address', { address: '192.168.88.2/24', interface: 'bridge' });
    expect(refused).toMatchObject({ status: 400, body: { error: 400, detail: 'invalid value for argument address: 192.168.88.2/24' } });
    const refused4 = await rest.call('PUT', '/rest/ip/address', { address: 'fd00:88::9/64', interface: 'bridge' });
    expect(refused4).toMatchObject({ status: 400, body: { detail: 'invalid value for argument address: fd00:88::9/64' } });
    expect((await rest.call('DELETE', `/rest/ipv6/address/${id}`)).status).toBe(204);
    expect((await rest.call('GET', `/rest/ipv6/address/${id}`)).status).toBe(404);
  });

  it('IPv6 routes, filter rules (place-before) and NAT (to-address) through PUT; settings through PATCH on the singleton', async () => {
    const route = await rest.call('PUT', '/rest/ipv6/route', { 'dst-address': '2001:db8:b::/64', gateway: 'bridge', distance: '10' });
    expect(route.body).toMatchObject({ 'dst-address': '2001:db8:b::/64', gateway: 'bridge', distance: '10', active: 'true' });
    const first = (await rest.call('GET', '/rest/ipv6/firewall/filter')).body as { '.id': string }[];
    const rule = await rest.call('PUT', '/rest/ipv6/firewall/filter', { chain: 'forward', action: 'accept', 'in-interface': 'bridge', 'place-before': first[0]!['.id'] });
    expect(((await rest.call('GET', '/rest/ipv6/firewall/filter')).body as { '.id': string }[])[0]!['.id']).toBe((rule.body as { '.id': string })['.id']);
    const nat = await rest.call('PUT', '/rest/ipv6/firewall/nat', { chain: 'dstnat', action: 'netmap', 'in-interface': 'bridge', 'dst-address': 'fd10:aaaa:bbbb:8001::/64', 'to-address': '2001:db8:a::/64' });
    expect(nat.body).toMatchObject({ action: 'netmap', 'to-address': '2001:db8:a::/64' });
    expect(await rest.call('PUT', '/rest/ipv6/firewall/nat', { chain: 'dstnat', action: 'netmap', 'to-addresses': '2001:db8:a::/64' })).toMatchObject({ status: 400, body: { detail: 'unknown parameter to-addresses' } });
    expect((await rest.call('PATCH', '/rest/ipv6/settings', { forward: 'false' })).body).toMatchObject({ forward: 'false' });
    expect((await rest.call('GET', '/rest/ipv6/settings')).body).toMatchObject({ forward: 'false', 'disable-ipv6': 'false' });
  });
});
