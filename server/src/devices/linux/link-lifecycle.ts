// Creating and deleting WireGuard links: the kernel's `ip link add … type wireguard` where the
// module exists, otherwise wireguard-go (this build machine has no module).
//
// wireguard-go runs as `wireguard-go -f IFNAME` (foreground, so the PID we get is the daemon's
// own), spawned detached (own session: a Ctrl-C to the server does not take tunnels down)
// and unref'd (the server may exit while tunnels stay up), logging to a 0600 file. While
// this process lives, Node reaps the daemon when it exits and `daemonPids()` knows it; after a
// server restart the daemon keeps running, re-parented to init, and is found again by its
// name: the link and its UAPI socket /var/run/wireguard/IFNAME.sock. Either way a delete is
// `ip link del`, after which wireguard-go removes its socket and exits (verified); the driver
// waits for that, and kills its own child by PID only if it does not.
//
// UAPI sockets live in the filesystem, which all network namespaces share: a userspace
// interface name must be unique machine-wide. A socket that already exists is an error,
// never something to remove.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DeviceError } from '../driver.js';
import { inNamespace, type CommandRunner } from './exec.js';
import { linuxInterfaceName } from './names.js';

export type WireGuardImplementation = 'auto' | 'kernel' | 'userspace';

export interface LinkLifecycleOptions {
  netns: string | null;
  implementation: WireGuardImplementation;
  /** The wireguard-go binary (default "wireguard-go" from PATH). */
  wireguardGo: string;
  /** wireguard-go logs, one `<ifname>.log` per interface (directory 0700, files 0600). */
  logDir: string;
  socketDir: string;
  /** How long wireguard-go may take to open its UAPI socket, and to exit after a delete. */
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

const POLL_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function kernelLacksWireGuard(error: unknown): boolean {
  return error instanceof DeviceError && error.code === 'REFUSED' && /Unknown device type|not supported/i.test(error.message);
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once the child has exited, false after `ms`. */
function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

export class LinkLifecycle {
  private readonly daemons = new Map<string, ChildProcess>();
  private kernelMissing: boolean;

  constructor(
    private readonly runner: CommandRunner,
    private readonly options: LinkLifecycleOptions,
  ) {
    this.kernelMissing = options.implementation === 'userspace';
  }

  /** wireguard-go processes this driver started that are still running, by interface. */
  daemonPids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const [ifname, child] of this.daemons) if (child.pid !== undefined && !exited(child)) pids.set(ifname, child.pid);
    return pids;
  }

  async create(name: string): Promise<void> {
    const ifname = linuxInterfaceName(name);
    if (!this.kernelMissing) {
      try {
        await this.runner.run(['ip', 'link', 'add', 'dev', ifname, 'type', 'wireguard']);
        return;
      } catch (error) {
        if (this.options.implementation === 'kernel' || !kernelLacksWireGuard(error)) throw error;
        this.kernelMissing = true;
      }
    }
    await this.startUserspace(ifname);
  }

  async delete(name: string): Promise<void> {
    const ifname = linuxInterfaceName(name);
    const socket = this.socketPath(ifname);
    const userspace = fs.existsSync(socket);
    await this.runner.run(['ip', 'link', 'del', 'dev', ifname]);
    const child = this.daemons.get(ifname);
    if (child) {
      if (await waitForExit(child, this.options.stopTimeoutMs)) return;
      child.kill('SIGTERM');
      if (await waitForExit(child, this.options.stopTimeoutMs)) return;
      child.kill('SIGKILL');
      await waitForExit(child, this.options.stopTimeoutMs);
      return;
    }
    if (!userspace) return;
    for (let i = 0; i < Math.ceil(this.options.stopTimeoutMs / POLL_MS); i++) {
      if (!fs.existsSync(socket)) return;
      await sleep(POLL_MS);
    }
    throw new DeviceError('REFUSED', `${ifname} was deleted but its wireguard-go did not exit (${socket} is still there)`);
  }

  private socketPath(ifname: string): string {
    return path.join(this.options.socketDir, `${ifname}.sock`);
  }

  private async startUserspace(ifname: string): Promise<void> {
    const socket = this.socketPath(ifname);
    if (fs.existsSync(socket)) {
      throw new DeviceError('REFUSED', `${socket} exists: a userspace WireGuard interface named ${ifname} already runs (perhaps in another network namespace)`);
    }
    fs.mkdirSync(this.options.logDir, { recursive: true, mode: 0o700 });
    const logPath = path.join(this.options.logDir, `${ifname}.log`);
    const fd = fs.openSync(logPath, 'a', 0o600);
    let child: ChildProcess;
    try {
      const [file, ...args] = inNamespace(this.options.netns, [this.options.wireguardGo, '-f', ifname]) as [string, ...string[]];
      child = spawn(file, args, { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, LOG_LEVEL: 'error' } });
    } finally {
      fs.closeSync(fd);
    }
    let failure: string | null = null;
    child.once('error', (error) => {
      failure = error.message;
    });
    child.once('exit', (code, signal) => {
      failure ??= `exited with ${code ?? signal}`;
      if (this.daemons.get(ifname) === child) this.daemons.delete(ifname);
    });
    this.daemons.set(ifname, child);
    for (let i = 0; i < Math.ceil(this.options.startTimeoutMs / POLL_MS) && failure === null; i++) {
      if (fs.existsSync(socket)) {
        child.unref();
        return;
      }
      await sleep(POLL_MS);
    }
    if (!exited(child)) {
      child.kill('SIGKILL');
      await waitForExit(child, this.options.stopTimeoutMs);
    }
    this.daemons.delete(ifname);
    throw new DeviceError('REFUSED', `wireguard-go did not start ${ifname}: ${failure ?? `no UAPI socket after ${this.options.startTimeoutMs} ms`}${logTail(logPath)}`);
  }
}

/** The last lines wireguard-go logged, without its banner box. */
function logTail(logPath: string): string {
  try {
    const lines = fs.readFileSync(logPath, 'utf8').split('\n').filter((line) => line.trim() !== '' && !/^[│┌└]/.test(line));
    return lines.length === 0 ? '' : `\nwireguard-go log (${logPath}):\n${lines.slice(-10).join('\n')}`;
  } catch {
    return '';
  }
}
