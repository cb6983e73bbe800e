// The standalone simulator (main.ts, `npm run sim:openwrt`) as a user runs it: it prints where
// it listens, the CA file and the logins, answers a login over HTTPS with the printed password,
// stops cleanly when its PID gets SIGTERM (removing the CA file), and refuses arguments it
// cannot use.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { itPrintsHelp, itRefusesArguments } from '../shared/main-cli-cases.js';
import { spawnMain } from '../shared/spawn-main.js';
import { NULL_SID } from './jsonrpc.js';
import { UbusTestClient } from './test-client.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('sim:openwrt standalone', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    child = undefined;
  });

  it('is what `npm run sim:openwrt` runs', () => {
    const scripts = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')).scripts as Record<string, string>;
    expect(scripts['sim:openwrt']).toBe('tsx test/sim/openwrt/main.ts');
  });

  it('prints the URL, CA file and logins, answers a login with the printed password, and stops on SIGTERM to its PID', async () => {
    const started = spawnMain(MAIN, ['--port', '0', '--version', '23.05.5', '--hand-made', '--time-scale', '20'], 'Ctrl-C to stop.');
    child = started.child;
    const banner = await started.banner;
    expect(banner).toContain('OpenWrt 23.05.5 simulator on https://127.0.0.1:');
    const url = /on (https:\/\/127\.0\.0\.1:\d+) \(\/ubus\)/.exec(banner)?.[1] ?? '';
    const httpUrl = /HTTP: (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1] ?? '';
    const caFile = /CA certificate: (\S+)/.exec(banner)?.[1] ?? '';
    const [, username, password] = /rpcd login: (\S+) \/ (\S+)/.exec(banner) ?? [];
    const rootPassword = /root: root \/ (\S+)/.exec(banner)?.[1] ?? '';
    expect([username, url !== '', httpUrl !== '', (password ?? '') !== '', rootPassword !== '']).toEqual(['meshplane', true, true, true, true]);
    expect(fs.existsSync(caFile)).toBe(true);

    const client = new UbusTestClient(url, fs.readFileSync(caFile, 'utf8'));
    try {
      expect((await client.call(NULL_SID, 'session', 'login', { username: 'meshplane', password: `${password}x` })).result).toEqual([6]);
      const sid = await client.login(username!, password!);
      const board = await client.call(sid, 'system', 'board');
      expect(board.result?.[1].release.version).toBe('23.05.5');
      // --hand-made: the LuCI-made wg0 is running, with its two peers.
      const instances = await client.call(await client.login('root', rootPassword), 'luci.wireguard', 'getWgInstances');
      expect(instances.result?.[1].wg0.peers).toHaveLength(2);
      expect(await client.login('root', rootPassword)).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await client.close();
    }

    process.kill(child.pid!, 'SIGTERM');
    expect(await started.exited).toBe(0);
    expect(fs.existsSync(caFile)).toBe(false);
  });

  it('--empty: no Meshplane login is printed or accepted; root still logs in', async () => {
    const started = spawnMain(MAIN, ['--empty', '--no-luci-wireguard'], 'Ctrl-C to stop.');
    child = started.child;
    const banner = await started.banner;
    expect(banner).toContain('rpcd login meshplane: none (--empty)');
    const url = /on (https:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1] ?? '';
    const caFile = /CA certificate: (\S+)/.exec(banner)?.[1] ?? '';
    const rootPassword = /root: root \/ (\S+)/.exec(banner)?.[1] ?? '';
    const client = new UbusTestClient(url, fs.readFileSync(caFile, 'utf8'));
    try {
      expect((await client.call(NULL_SID, 'session', 'login', { username: 'meshplane', password: 'anything' })).result).toEqual([6]);
      const sid = await client.login('root', rootPassword);
      expect((await client.call(sid, 'luci.wireguard', 'getWgInstances')).error?.code).toBe(-32000);
    } finally {
      await client.close();
    }
    process.kill(child.pid!, 'SIGINT');
    expect(await started.exited).toBe(0);
  });

  itPrintsHelp(MAIN, /^Usage: npm run sim:openwrt/, ['--port', '--http-port', '--version', '--handler', '--empty', '--hand-made', '--password', '--time-scale', '--no-luci-wireguard']);

  itRefusesArguments(MAIN, [
    [['--port', 'abc'], '--port must be a port number (0-65535), got "abc"'],
    [['--version', 'latest'], '--version must look like 24.10.2 or SNAPSHOT, got "latest"'],
    [['--handler', 'fast'], '--handler must be classic or renew, got "fast"'],
    [['--time-scale', '0'], '--time-scale must be 1-60000 (ms per simulated second), got "0"'],
    [['--password', ''], '--password must not be empty'],
    [['--prot', '9443'], "Unknown option '--prot'"],
  ]);
});
