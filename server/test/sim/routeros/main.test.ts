// The standalone simulator (main.ts) as a user runs it: it prints where it listens and
// the credentials, serves a login with them, and exits cleanly on SIGINT.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnMain } from '../shared/spawn-main.js';
import { RawApiClient } from './raw-api-client.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('sim:routeros standalone (RouterOS 7.17 emulation)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints ports and credentials, accepts them, and stops on SIGINT', async () => {
    const started = spawnMain(MAIN, ['--port', '0', '--tls-port', '0', '--rest-port', '0', '--version', '7.17'], 'Ctrl-C stops it.');
    child = started.child;
    const banner = await started.banner;
    const apiPort = Number(/binary API\s+127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
    const password = /password\s+(\S+)/.exec(banner)?.[1] ?? '';
    expect(banner).toMatch(/REST\s+https:\/\/127\.0\.0\.1:\d+\/rest/);

    const client = await RawApiClient.connect({ host: '127.0.0.1', port: apiPort });
    try {
      expect((await client.login('meshplane', password)).map((r) => r.reply)).toEqual(['!done']);
      const [resource] = await client.call(['/system/resource/print']);
      expect(resource!.attributes.version).toBe('7.17 (stable)');
    } finally {
      client.close();
    }

    child.kill('SIGINT');
    expect(await started.exited).toBe(0);
  });
});
