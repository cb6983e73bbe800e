import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceError } from '../driver.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { LinkLifecycle, type LinkLifecycleOptions } from './link-lifecycle.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

function options(overrides: Partial<LinkLifecycleOptions> = {}): LinkLifecycleOptions {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-lifecycle-test-'));
  dirs.push(dir);
  return {
    netns: null,
    implementation: 'auto',
    // A "daemon" that exits at once: node refuses the -f flag.
    wireguardGo: process.execPath,
    logDir: path.join(dir, 'logs'),
    socketDir: dir,
    startTimeoutMs: 5_000,
    stopTimeoutMs: 1_000,
    ...overrides,
  };
}

const noKernelModule = new DeviceError('REFUSED', 'ip link add dev wg0 type wireguard failed (exit code 2): Error: Unknown device type.');

describe('LinkLifecycle', () => {
  it('uses the kernel module when `ip link add … type wireguard` works', async () => {
    const runner = new FakeRunner();
    await new LinkLifecycle(runner, options()).create('wg0');
    expect(runner.commands).toEqual([['ip', 'link', 'add', 'dev', 'wg0', 'type', 'wireguard']]);
  });

  it('falls back to wireguard-go without a module, and reports a daemon that dies with its log', async () => {
    const runner = new FakeRunner([['ip link add', noKernelModule]]);
    const lifecycle = new LinkLifecycle(runner, options());
    await expect(lifecycle.create('wg0')).rejects.toThrow(/wireguard-go did not start wg0: exited with \d+[\s\S]*wireguard-go log/);
    expect(lifecycle.daemonPids().size).toBe(0);
    // The module is not asked again once it is known to be missing.
    await expect(lifecycle.create('wg1')).rejects.toThrow(/did not start wg1/);
    expect(runner.commands).toHaveLength(1);
  });

  it('never falls back when the kernel implementation is required, and never starts over a live socket', async () => {
    const kernelOnly = new LinkLifecycle(new FakeRunner([['ip link add', noKernelModule]]), options({ implementation: 'kernel' }));
    await expect(kernelOnly.create('wg0')).rejects.toBe(noKernelModule);
    const userspace = options({ implementation: 'userspace' });
    fs.writeFileSync(path.join(userspace.socketDir, 'wg0.sock'), '');
    await expect(new LinkLifecycle(new FakeRunner(), userspace).create('wg0')).rejects.toThrow(/wg0.sock exists/);
  });

  it('deletes a kernel link with ip link del and waits for nothing else', async () => {
    const runner = new FakeRunner();
    await new LinkLifecycle(runner, options()).delete('wg0');
    expect(runner.commands).toEqual([['ip', 'link', 'del', 'dev', 'wg0']]);
  });
});
