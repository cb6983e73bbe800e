// The standalone simulator (main.ts) as a user runs it: it prints where it listens and
// the credentials, serves a login with them, and exits cleanly on SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RawApiClient } from './raw-api-client.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function startMain(args: string[]): { child: ChildProcess; banner: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const banner = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C stops it.')) resolve(out);
    });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`main.ts exited with ${code} before listening: ${err}`)));
  });
  return { child, banner };
}

describe('sim:routeros standalone (RouterOS 7.17 emulation)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints ports and credentials, accepts them, and stops on SIGINT', async () => {
    const started = startMain(['--port', '0', '--tls-port', '0', '--rest-port', '0', '--version', '7.17']);
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

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
