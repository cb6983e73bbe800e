// The standalone simulator (main.ts) as a user runs it: it prints where it listens, the CA
// file and the credentials, serves an authenticated request with them, exits cleanly on
// SIGINT (removing the CA file), and refuses arguments it cannot use.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { itPrintsHelp, itRefusesArguments } from '../shared/main-cli-cases.js';
import { spawnMain } from '../shared/spawn-main.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('sim:pfsense standalone', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints the URL, CA file and API key, serves a GET with them, and stops on SIGINT', async () => {
    const started = spawnMain(MAIN, ['--port', '0', '--version', '2.9.0', '--keyauth'], 'Ctrl-C to stop.');
    child = started.child;
    const banner = await started.banner;
    expect(banner).toContain('pfSense REST API v2.9.0 simulator on https://127.0.0.1:');
    const url = /on (https:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1] ?? '';
    const caFile = /CA certificate: (\S+)/.exec(banner)?.[1] ?? '';
    const apiKey = /X-API-Key: ([0-9a-f]+)/.exec(banner)?.[1] ?? '';
    expect(apiKey).toMatch(/^[0-9a-f]{48}$/);

    const agent = new Agent({ connect: { ca: fs.readFileSync(caFile, 'utf8') } });
    try {
      const reply = await request(`${url}/api/v2/vpn/wireguard/tunnels`, { headers: { 'x-api-key': apiKey }, dispatcher: agent });
      expect(reply.statusCode).toBe(200);
      const body = (await reply.body.json()) as { response_id: string; data: Array<{ name: string }> };
      expect(body.response_id).toBe('SUCCESS');
      expect(body.data.map((tunnel) => tunnel.name)).toEqual(['tun_wg0']);
    } finally {
      await agent.close();
    }

    child.kill('SIGINT');
    expect(await started.exited).toBe(0);
    expect(fs.existsSync(caFile)).toBe(false);
  });

  itPrintsHelp(MAIN, /^Usage: npm run sim:pfsense -- /, ['--port', '--version', '--keyauth', '--empty', '--password']);

  itRefusesArguments(MAIN, [
    [['--port', 'abc'], '--port must be a port number (0-65535), got "abc"'],
    [['--port', '70000'], '--port must be a port number (0-65535), got "70000"'],
    [['--version', 'latest'], '--version must look like 2.9.0, got "latest"'],
    [['--prot', '9443'], "Unknown option '--prot'"],
  ]);
});
