// The binary API server driven by node-routeros (RouterOS 7.17 emulation: no `!empty`,
// which node-routeros 1.6.9 cannot parse) and by our own codec where exact bytes matter
// (RouterOS 7.18 emulation: `!empty` then `!done`, as in the reference transcripts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSentence } from './api-codec.js';
import { RawApiClient } from './raw-api-client.js';
import { UNMANAGED_PEER } from './seed.js';
import { startRouterOsSimulator, type RouterOsSimulator } from './simulator.js';
import { connectNodeRouteros } from './test-clients.js';
import { keyPairFromLabel } from './wireguard-keys.js';

const NEW_PEER = keyPairFromLabel('api-test-peer').publicKey;

describe('binary API with node-routeros — RouterOS 7.17 emulation', () => {
  let sim: RouterOsSimulator;
  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.17' });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('logs in and prints (getall too), with .proplist and a query', async () => {
    const { api, errors } = await connectNodeRouteros(sim);
    try {
      const interfaces = await api.write('/interface/wireguard/print');
      expect(interfaces).toEqual([expect.objectContaining({ '.id': '*1', name: 'wg-other', 'listen-port': '13232', running: 'true' })]);
      const peers = await api.write('/interface/wireguard/peers/getall', [
        '=.proplist=.id,public-key,allowed-address',
        '?interface=wg-other',
      ]);
      expect(peers).toEqual([{ '.id': '*1', 'public-key': UNMANAGED_PEER.publicKey, 'allowed-address': '10.99.0.2/32,10.98.0.0/24' }]);
      // 7.17 has no !empty: an empty result is just !done, which node-routeros handles.
      expect(await api.write('/interface/wireguard/peers/print', ['?comment=meshplane:none'])).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('adds (ret=*ID), sets and removes a peer, over TLS with the simulator CA', async () => {
    const { api, errors } = await connectNodeRouteros(sim, { tls: true });
    try {
      const added = await api.write('/interface/wireguard/peers/add', [
        '=interface=wg-other',
        `=public-key=${NEW_PEER}`,
        '=allowed-address=10.7.0.2/32',
        '=comment=meshplane:peer-1',
      ]);
      expect(added).toEqual([{ ret: '*2' }]);
      await api.write('/interface/wireguard/peers/set', ['=.id=*2', '=allowed-address=10.7.0.2/32,10.7.1.0/24', '=persistent-keepalive=25s']);
      const [peer] = await api.write('/interface/wireguard/peers/print', ['?comment=meshplane:peer-1']);
      expect(peer).toMatchObject({ '.id': '*2', 'allowed-address': '10.7.0.2/32,10.7.1.0/24', 'persistent-keepalive': '25s', disabled: 'false' });
      await api.write('/interface/wireguard/peers/remove', ['=.id=*2']);
      expect(await api.write('/interface/wireguard/peers/print', ['?.id=*2'])).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('rejects a trap with RouterOS texts and keeps the connection usable', async () => {
    const { api, errors } = await connectNodeRouteros(sim);
    try {
      await expect(api.write('/ip/address/add', ['=address=192.168.88.1', '=interface=asdf'])).rejects.toThrow(
        'input does not match any value of interface',
      );
      await expect(api.write('/interface/wireguard/set', ['=.id=*99', '=mtu=1400'])).rejects.toThrow('no such item');
      await expect(api.write('/interface/wireguard/add', ['=name=wg-other'])).rejects.toThrow('failure: already have interface with such name');
      await expect(api.write('/system/routerboard/print')).rejects.toThrow('no such command or directory (routerboard)');
      // node-routeros' keep-alive word `#` must get an answer too.
      await expect(api.write('#')).rejects.toThrow();
      expect(await api.write('/system/identity/print')).toEqual([{ name: 'MikroTik' }]);
      expect(errors).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('runs concurrent tagged commands on one connection', async () => {
    const { api } = await connectNodeRouteros(sim);
    try {
      const results = await Promise.all([
        api.write('/system/resource/print'),
        api.write('/ip/route/print', ['?dst-address=0.0.0.0/0']),
        api.write('/user/print', ['?name=meshplane']),
      ]);
      expect(results[0]![0]!.version).toBe('7.17 (stable)');
      expect(results[1]).toHaveLength(1);
      expect(results[2]![0]).toMatchObject({ name: 'meshplane', group: 'full' });
      expect(results[2]![0]).not.toHaveProperty('password');
    } finally {
      await api.close();
    }
  });

  it('refuses wrong credentials with CANTLOGIN ("invalid user name or password (6)")', async () => {
    await expect(connectNodeRouteros(sim, { password: 'wrong' })).rejects.toMatchObject({ errno: 'CANTLOGIN' });
  });
});

describe('binary API on the wire — RouterOS 7.18 emulation', () => {
  let sim: RouterOsSimulator;
  let client: RawApiClient;
  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18' });
  });
  afterAll(async () => {
    client?.close();
    await sim.stop();
  });

  async function loggedIn(): Promise<RawApiClient> {
    client?.close();
    client = await RawApiClient.connect({ host: sim.host, port: sim.apiPort });
    const replies = await client.login(sim.username, sim.password);
    expect(replies.map((r) => r.reply)).toEqual(['!done']);
    return client;
  }

  it('answers an empty tagged print with !empty then !done, byte for byte (routeros.md §1.9)', async () => {
    const c = await loggedIn();
    const before = c.received().length;
    const replies = await c.call(['/interface/wireguard/peers/print', '=.proplist=.id,public-key', '?interface=wg0', '.tag=7']);
    expect(replies.map((r) => r.words)).toEqual([['!empty', '.tag=7'], ['!done', '.tag=7']]);
    expect(c.received().subarray(before).toString('hex')).toBe(
      '06' + '21656d707479' + '06' + '2e7461673d37' + '00' + '05' + '21646f6e65' + '06' + '2e7461673d37' + '00',
    );
  });

  it('answers an empty untagged print with untagged !empty and !done (pear2 PR #80 transcript)', async () => {
    const c = await loggedIn();
    const replies = await c.call(['/ip/firewall/nat/print', '?chain=dstnat']);
    expect(replies.map((r) => r.words)).toEqual([['!empty'], ['!done']]);
  });

  it('sends no !empty for data, for add (=ret=) or for count-only', async () => {
    const c = await loggedIn();
    const rows = await c.call(['/interface/wireguard/print', '.tag=a']);
    expect(rows.map((r) => r.reply)).toEqual(['!re', '!done']);
    expect(rows[0]!.words.at(-1)).toBe('.tag=a'); // tag last, as in the official transcript
    const added = await c.call(['/ip/address/add', '=address=10.0.0.1/24', '=interface=wg-other', '.tag=9']);
    expect(added.map((r) => r.words)).toEqual([['!done', '=ret=*4', '.tag=9']]);
    const counted = await c.call(['/ip/firewall/nat/print', '=count-only=', '?chain=dstnat']);
    expect(counted.map((r) => r.words)).toEqual([['!done', '=ret=0']]);
  });

  it('traps with =category= and =message=, then !done, both tagged', async () => {
    const c = await loggedIn();
    const replies = await c.call(['/ip/address/add', '=address=192.168.88.1', '=interface=asdf', '.tag=3']);
    expect(replies.map((r) => r.words)).toEqual([
      ['!trap', '=category=1', '=message=input does not match any value of interface', '.tag=3'],
      ['!done', '.tag=3'],
    ]);
  });

  it('switches to 7.17 at run time: the same empty print then ends with !done only', async () => {
    const c = await loggedIn();
    sim.setVersion('7.17');
    try {
      expect((await c.call(['/ip/firewall/nat/print', '?chain=dstnat', '.tag=x'])).map((r) => r.words)).toEqual([['!done', '.tag=x']]);
      expect((await c.call(['/system/resource/print'])).at(0)!.attributes.version).toBe('7.17 (stable)');
    } finally {
      sim.setVersion('7.18');
    }
  });

  it('refuses commands before login and answers a failed login with the v7 trap', async () => {
    client?.close();
    client = await RawApiClient.connect({ host: sim.host, port: sim.apiPort });
    expect((await client.call(['/interface/wireguard/print', '.tag=1'])).map((r) => r.reply)).toEqual(['!trap', '!done']);
    const failed = await client.call(['/login', `=name=${sim.username}`, '=password=nope', '.tag=2']);
    expect(failed.map((r) => r.words)).toEqual([
      ['!trap', '=message=invalid user name or password (6)', '.tag=2'],
      ['!done', '.tag=2'],
    ]);
  });

  it('cancels a streaming ping by tag: interrupted trap, cancel !done, then the ping !done', async () => {
    const c = await loggedIn();
    c.write(['/ping', '=address=192.168.88.1', '=interval=10ms', '.tag=p']);
    const first = await c.next();
    expect(first).toMatchObject({ reply: '!re', tag: 'p', attributes: { seq: '0', host: '192.168.88.1', received: '1' } });
    c.write(['/cancel', '=tag=p', '.tag=c']);
    const rest = [];
    for (let i = 0; i < 1000; i += 1) {
      const reply = await c.next();
      if (reply.reply === '!re') continue; // probes already on their way
      rest.push(reply.words);
      if (rest.length === 3) break;
    }
    expect(rest).toEqual([
      ['!trap', '=category=2', '=message=interrupted', '.tag=p'],
      ['!done', '.tag=c'],
      ['!done', '.tag=p'],
    ]);
  });

  it('answers /cancel of an unknown tag with !done and /quit with an untagged !fatal, then closes', async () => {
    const c = await loggedIn();
    expect((await c.call(['/cancel', '=tag=nothing', '.tag=k'])).map((r) => r.words)).toEqual([['!done', '.tag=k']]);
    const fatal = await c.call(['/quit', '.tag=q']);
    expect(fatal.map((r) => r.words)).toEqual([['!fatal', 'session terminated on request']]);
    await c.closed();
  });

  it('serves api-ssl with the same protocol over TLS', async () => {
    const secure = await RawApiClient.connect({ host: sim.host, port: sim.apiTlsPort, ca: sim.caPem });
    try {
      expect((await secure.login(sim.username, sim.password)).map((r) => r.reply)).toEqual(['!done']);
      expect((await secure.call(['/system/identity/print'])).map((r) => r.words)).toEqual([['!re', '=name=MikroTik'], ['!done']]);
    } finally {
      secure.close();
    }
  });

  it('closes the connection on a reserved control byte', async () => {
    const c = await loggedIn();
    c.writeRaw(Buffer.from([0xf8, 0x00]));
    await c.closed();
  });

  it('drops connections when /ip/service api is disabled or the client is outside its address list', async () => {
    const c = await loggedIn();
    await c.call(['/ip/service/set', '=numbers=api', '=address=10.0.0.0/8']);
    await expect(
      (async () => {
        const refused = await RawApiClient.connect({ host: sim.host, port: sim.apiPort });
        await refused.login(sim.username, sim.password);
      })(),
    ).rejects.toThrow();
    const secure = await RawApiClient.connect({ host: sim.host, port: sim.apiTlsPort, ca: sim.caPem });
    try {
      await secure.login(sim.username, sim.password);
      await secure.call(['/ip/service/set', '=numbers=api', '=address=']);
    } finally {
      secure.close();
    }
    expect((await loggedIn()).received().length).toBeGreaterThan(0);
  });

  it('decodes requests that arrive one byte at a time', async () => {
    const c = await loggedIn();
    const bytes = encodeSentence(['/system/identity/print', '.tag=slow']);
    for (const byte of bytes) c.writeRaw(Buffer.from([byte]));
    expect((await c.next()).words).toEqual(['!re', '=name=MikroTik', '.tag=slow']);
    expect((await c.next()).words).toEqual(['!done', '.tag=slow']);
  });
});
