import { describe, expect, it } from 'vitest';
import { DeviceError } from '../driver.js';
import { ExecCommandRunner, inNamespace } from './exec.js';

async function failure(promise: Promise<unknown>): Promise<DeviceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DeviceError) return error;
    throw error;
  }
  throw new Error('expected a DeviceError');
}

describe('ExecCommandRunner', () => {
  const runner = new ExecCommandRunner({ timeoutMs: 5_000 });

  it('returns stdout of a successful command, argv passed verbatim (no shell)', async () => {
    expect((await runner.run(['printf', '%s|', 'a b', '$(id)', ';'])).stdout).toBe('a b|$(id)|;|');
  });

  it('fails with the command and its stderr, never silently', async () => {
    const error = await failure(runner.run(['ls', '/nonexistent-meshplane-path']));
    expect(error.code).toBe('REFUSED');
    expect(error.message).toMatch(/^ls \/nonexistent-meshplane-path failed \(exit code 2\): ls: cannot access/);
    expect((await failure(runner.run(['false']))).message).toBe('false failed (exit code 1): (no error output)');
  });

  it('reports a missing program as unreachable and a slow one as a timeout', async () => {
    expect((await failure(runner.run(['meshplane-no-such-tool']))).code).toBe('UNREACHABLE');
    const slow = await failure(runner.run(['sleep', '5'], { timeoutMs: 100 }));
    expect(slow.code).toBe('TIMEOUT');
    expect(slow.message).toBe('sleep 5 did not finish within 100 ms');
  });

  it('prefixes commands with ip netns exec and checks the namespace name', () => {
    expect(inNamespace('mp-lab-a', ['wg', 'show'])).toEqual(['ip', 'netns', 'exec', 'mp-lab-a', 'wg', 'show']);
    expect(inNamespace(null, ['wg'])).toEqual(['wg']);
    expect(() => inNamespace('../etc', ['wg'])).toThrow(/namespace name/);
    expect(() => new ExecCommandRunner({ netns: '-x', timeoutMs: 1 })).toThrow(/namespace name/);
  });
});
