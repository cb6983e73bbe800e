// The standalone simulator (main.ts) as a user runs it: it prints where it listens, the CA file
// and the API key/secret, serves an authenticated request with them, exits cleanly on SIGINT
// (removing the CA file), and refuses arguments it cannot use.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { itPrintsHelp, itRefusesArguments } from '../shared/main-cli-cases.js';
import { spawnMain } from '../shared/spawn-main.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('sim:opnsense standalone', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints the URL, CA file and key/secret, serves a request with them, and stops on SIGINT', async () => {
    const started = spawnMain(MAIN, ['--port', '0', '--version', '25.7.1', '--seed', 'hand-made'], 'Ctrl-C to stop.');
    child = started.child;
    const banner = await started.banner;
    expect(banner).toContain('OPNsense 25.7.1 simulator on https://127.0.0.1:');
    const url = /on (https:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1] ?? '';
    const caFile = /CA certificate: (\S+)/.exec(banner)?.[1] ?? '';
    const key = /API key: +(\S+)/.exec(banner)?.[1] ?? '';
    const secret = /API secret: +(\S+)/.exec(banner)?.[1] ?? '';
    expect(key).toHaveLength(80);
    expect(secret).toHaveLength(80);

    const agent = new Agent({ connect: { ca: fs.readFileSync(caFile, 'utf8') } });
    try {
      const authorization = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
      const reply = await request(`${url}/api/wireguard/server/searchServer`, { headers: { authorization }, dispatcher: agent });
      expect(reply.statusCode).toBe(200);
      const body = (await reply.body.json()) as { rows: Array<{ name: string; interface: string }> };
      expect(body.rows.map((row) => [row.name, row.interface])).toEqual([['rw', 'wg0'], ['site-mesh', 'wg1']]);
      const refused = await request(`${url}/api/wireguard/server/searchServer`, { headers: { authorization: `Basic ${Buffer.from(`${key}:wrong`).toString('base64')}` }, dispatcher: agent });
      expect(refused.statusCode).toBe(401);
      await refused.body.dump();
    } finally {
      await agent.close();
    }

    child.kill('SIGINT');
    expect(await started.exited).toBe(0);
    expect(fs.existsSync(caFile)).toBe(false);
  });

  itPrintsHelp(MAIN, /^Usage: npm run sim:opnsense -- /, ['--port', '--version', '--seed', '--rollback-seconds', '--privileges']);

  itRefusesArguments(MAIN, [
    [['--port', 'abc'], '--port must be a port number (0-65535), got "abc"'],
    [['--version', 'latest'], '--version must look like 26.7.2, got "latest"'],
    [['--seed', 'full'], '--seed must be one of default, empty, hand-made, worked-example, got "full"'],
    [['--rollback-seconds', '0'], '--rollback-seconds must be a whole number of seconds ≥ 1, got "0"'],
    [['--privileges', 'Root'], '--privileges: unknown privilege "Root"'],
    [['--prot', '9443'], "Unknown option '--prot'"],
  ]);
});
