// Replays recorded RouterOS API conversations (ref/routeros.md §1.9, §6.1, §6.2, §7.1)
// through a real loopback socket: the bytes the client writes are compared with the
// reference, and the replies that crash or hang node-routeros 1.6.9 (`!empty` on 7.18+,
// a late `!done`, replies split into single bytes) must leave the process running.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceError } from '../../driver.js';
import { RouterOsApiClient } from './client.js';
import { encodeSentence } from './codec.js';
import { startScriptServer, type ScriptServer, type Step } from './__fixtures__/script-server.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const words = (...list: string[]) => encodeSentence(list);

// Recorded bytes. LOGIN is the reference's tagged login sentence (§1.9).
const LOGIN = hex('062f6c6f67696e 0b3d6e616d653d61646d696e 103d70617373776f72643d736563726574 062e7461673d31 00');
const DONE_1 = hex('05 21646f6e65 06 2e7461673d31 00');
// RouterOS 7.18 on an empty print (pear2/Net_RouterOS#80, tagged as in socialwifi#102).
const EMPTY_2 = hex('06 21656d707479 06 2e7461673d32 00');
const DONE_2 = hex('05 21646f6e65 06 2e7461673d32 00');
// §7.1: a failed login on 6.43+/7.
const LOGIN_TRAP = Buffer.concat([words('!trap', '=message=invalid user name or password (6)', '.tag=1'), DONE_1]);

let server: ScriptServer | null = null;
let client: RouterOsApiClient | null = null;

afterEach(async () => {
  client?.close();
  client = null;
  await server?.stop();
  server = null;
});

async function connect(steps: Step[], timeoutMs = 5000): Promise<RouterOsApiClient> {
  server = await startScriptServer(steps);
  client = await RouterOsApiClient.open({ host: '127.0.0.1', port: server.port, tls: null, username: 'admin', password: 'secret', timeoutMs, label: 'test router' });
  return client;
}

describe('RouterOsApiClient against recorded replies', () => {
  it('logs in with the reference bytes and reads an empty print on 7.18 (!empty, then !done)', async () => {
    const api = await connect([{ reply: DONE_1 }, { reply: Buffer.concat([EMPTY_2, DONE_2]) }]);
    await expect(api.command(['/interface/pptp-server/print'])).resolves.toEqual({ rows: [], done: {} });
    expect(server?.received().subarray(0, LOGIN.length).toString('hex')).toBe(LOGIN.toString('hex'));
  });

  it('reads the same on 7.17 (!done alone) and with rows', async () => {
    const rows = Buffer.concat([words('!re', '=.id=*6', '=default-name=wlan1', '=disabled=false', '.tag=3'), words('!done', '.tag=3')]);
    const api = await connect([{ reply: DONE_1 }, { reply: DONE_2 }, { reply: rows }]);
    await expect(api.command(['/interface/pptp-server/print'])).resolves.toEqual({ rows: [], done: {} });
    await expect(api.command(['/interface/wireless/print'])).resolves.toEqual({ rows: [{ '.id': '*6', 'default-name': 'wlan1', disabled: 'false' }], done: {} });
  });

  it('survives replies written one byte at a time (incl. !empty)', async () => {
    const api = await connect([{ reply: DONE_1, bytewise: true }, { reply: Buffer.concat([EMPTY_2, DONE_2]), bytewise: true }]);
    await expect(api.command(['/ip/route/print', '?dst-address=192.0.2.0/24'])).resolves.toEqual({ rows: [], done: {} });
  });

  it('ignores a late !done for a command it already finished, and keeps working', async () => {
    const late = Buffer.concat([EMPTY_2, DONE_2, DONE_2, words('!empty', '.tag=2')]);
    const api = await connect([{ reply: DONE_1 }, { reply: late }, { reply: words('!done', '=ret=*A', '.tag=3') }]);
    await expect(api.command(['/ip/address/print'])).resolves.toEqual({ rows: [], done: {} });
    await expect(api.command(['/ip/address/add', '=address=10.0.0.1/24', '=interface=wg0'])).resolves.toEqual({ rows: [], done: { ret: '*A' } });
  });

  it('drops replies that arrive after a command timed out (interrupted trap + done), then serves the next command', async () => {
    const api = await connect([{ reply: DONE_1 }, { silent: true }, { silent: true }, { reply: words('!done', '.tag=3') }], 200);
    const timedOut = api.command(['/ip/route/print']);
    await expect(timedOut).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.waitFor(() => expect(server?.sentences.at(-1)).toEqual(['/cancel', '=tag=2', '.tag=cancel-2']));
    await server?.push(Buffer.concat([words('!trap', '=category=2', '=message=interrupted', '.tag=2'), DONE_2, words('!done', '.tag=cancel-2')]));
    await expect(api.command(['/system/identity/print'])).resolves.toEqual({ rows: [], done: {} });
  });

  it('reports a trap (then !done) as REFUSED with every message, category kept out of the way', async () => {
    const traps = Buffer.concat([
      words('!trap', '=category=1', '=message=input does not match any value of interface', '.tag=2'),
      words('!trap', '=message=no such command prefix', '.tag=2'),
      DONE_2,
    ]);
    const api = await connect([{ reply: DONE_1 }, { reply: traps }]);
    const error = await api.command(['/ip/address/add', '=address=192.168.88.1', '=interface=asdf']).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(DeviceError);
    expect(error).toMatchObject({ code: 'REFUSED', message: 'test router: /ip/address/add: input does not match any value of interface; no such command prefix' });
  });

  it('demultiplexes interleaved tagged replies (official /cancel transcript order)', async () => {
    const a = words('!re', '=.id=*1', '=name=ether1', '.tag=2');
    const b = words('!re', '=.id=*2', '=name=ether2', '.tag=3');
    const replies = Buffer.concat([b, a, words('!done', '.tag=3'), DONE_2]);
    const api = await connect([{ reply: DONE_1 }, { silent: true }, { reply: replies }]);
    const [first, second] = await Promise.all([api.command(['/interface/getall']), api.command(['/interface/print'])]);
    expect(first.rows).toEqual([{ '.id': '*1', name: 'ether1' }]);
    expect(second.rows).toEqual([{ '.id': '*2', name: 'ether2' }]);
  });

  it('turns a failed login into AUTH_FAILED without echoing the password', async () => {
    server = await startScriptServer([{ reply: LOGIN_TRAP }]);
    const error = await RouterOsApiClient.open({ host: '127.0.0.1', port: server.port, tls: null, username: 'admin', password: 'secret', timeoutMs: 5000, label: 'test router' })
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect((error as Error).message).toContain('invalid user name or password (6)');
    expect((error as Error).message).not.toContain('secret');
  });

  it('rejects pending commands when the router sends !fatal or drops the connection', async () => {
    let api = await connect([{ reply: DONE_1 }, { reply: words('!fatal', 'session terminated on request') }]);
    await expect(api.command(['/quit'])).rejects.toMatchObject({ code: 'UNREACHABLE', message: expect.stringContaining('session terminated on request') });
    expect(api.closed).toBe(true);
    await server?.stop();
    api = await connect([{ reply: DONE_1 }, { close: true }]);
    await expect(api.command(['/interface/wireguard/peers/add'])).rejects.toMatchObject({ code: 'UNREACHABLE', message: expect.stringContaining('after 2 command(s)') });
    await expect(api.command(['/ip/address/print'])).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });

  it('fails the command on an unknown reply word and the connection on a reserved control byte', async () => {
    const api = await connect([{ reply: DONE_1 }, { reply: words('!xyz', '.tag=2') }, { reply: hex('f8') }]);
    await expect(api.command(['/ip/address/print'])).rejects.toMatchObject({ code: 'PROTOCOL', message: expect.stringContaining('!xyz') });
    await expect(api.command(['/ip/address/print'])).rejects.toMatchObject({ code: 'PROTOCOL', message: expect.stringContaining('control byte') });
  });

  it('refuses the legacy challenge login', async () => {
    server = await startScriptServer([{ reply: words('!done', '=ret=856780b7411eefd3abadee2058c149a3', '.tag=1') }]);
    await expect(RouterOsApiClient.open({ host: '127.0.0.1', port: server.port, tls: null, username: 'admin', password: 'x', timeoutMs: 5000, label: 'r' }))
      .rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('6.43') });
  });

  it('reports a closed port as UNREACHABLE', async () => {
    const probe = await startScriptServer([]);
    const { port } = probe;
    await probe.stop();
    await expect(RouterOsApiClient.open({ host: '127.0.0.1', port, tls: null, username: 'a', password: 'b', timeoutMs: 5000, label: 'r' }))
      .rejects.toMatchObject({ code: 'UNREACHABLE' });
  });
});
