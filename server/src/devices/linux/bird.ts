// BIRD 2 for a peer in a WAN with redundant hubs (eBGP+BFD over its tunnels, rendered by
// domain/render/bird.ts). Each WAN's daemon has a directory of its own under the driver's
// state directory: <stateDir>/<"host" or the namespace>/<prefix>-<wanId>/ holding
//   bird.conf    the rendered config (0600, replaced atomically)
//   bird.ctl     its control socket   (bird -s; what birdc talks to)
//   bird.pid     its pid file         (bird -P)
//   bird.loaded  the hash of the bird.conf Meshplane last started or reconfigured it with
// so one host (or namespace) runs one daemon per WAN beside any BIRD of its own, and whatever
// is in that directory is Meshplane's. The resource "bird" (key: the bird.conf path) reads
// as { config: hash of bird.conf, running: yes|no, loaded: hash in bird.loaded }: an edited
// bird.conf shows as a different config, a dead daemon as running=no, a config written but
// not loaded (a failed reconfigure) as a different loaded hash.
//
// Commands run as argument arrays through the driver's runner (so inside its namespace);
// files are handled here directly. A daemon is only ever signalled by the PID in its own
// pid file, and only while that process's command line names this directory's bird.conf.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ActualResource } from '../../domain/plan.js';
import { safeId } from '../../domain/render/safe-values.js';
import { DeviceError } from '../driver.js';
import type { CommandRunner } from './exec.js';
import { KIND } from './names.js';

export interface BirdPaths {
  dir: string;
  config: string;
  socket: string;
  pid: string;
  loaded: string;
}

export interface BirdOptions {
  /** The bird binary (default "bird" from PATH). */
  bird: string;
  /** The birdc binary (default "birdc" from PATH). */
  birdc: string;
  /** How long BIRD may take to exit after `birdc down` (then SIGTERM, then SIGKILL). */
  stopTimeoutMs: number;
}

/** sun_path holds 108 bytes with its terminating NUL. */
export const MAX_SOCKET_PATH = 107;
const POLL_MS = 50;
const APT = 'apt-get install -y --no-install-recommends bird2';

/** "sha256:" and 64 bits of the text's SHA-256: enough to tell configs apart, short enough to read in a plan. */
export function configHash(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)}`;
}

/** Where one WAN's daemon lives, for the driver's state directory and namespace. */
export function birdPaths(stateDir: string, netns: string | null, prefix: string, wanId: string): BirdPaths {
  return birdPathsOf(stateDir, netns, path.join(path.resolve(stateDir), netns ?? 'host', `${prefix}-${safeId(wanId)}`, 'bird.conf'));
}

const DIR_NAME = /^[A-Za-z0-9_.-]+-[A-Za-z0-9_-]+$/;

/**
 * The paths of a plan's bird resource (its key), accepted only as a bird.conf directly in a
 * WAN directory of this driver's state directory and namespace: a plan never names another file.
 */
export function birdPathsOf(stateDir: string, netns: string | null, config: string): BirdPaths {
  const dir = path.dirname(config);
  const scope = path.join(path.resolve(stateDir), netns ?? 'host');
  if (path.basename(config) !== 'bird.conf' || path.dirname(dir) !== scope || !DIR_NAME.test(path.basename(dir))) {
    throw new DeviceError('PROTOCOL', `${JSON.stringify(config)} is not a bird.conf of this driver's state directory (${scope})`);
  }
  return { dir, config, socket: path.join(dir, 'bird.ctl'), pid: path.join(dir, 'bird.pid'), loaded: path.join(dir, 'bird.loaded') };
}

/**
 * Configs by hash, so a plan carries a hash and its apply still writes the text: rendered
 * ones (desiredResources) and ones read from the host (readState), so an undo can put back
 * the bird.conf that was there before.
 */
export class ConfigStore {
  private readonly byHash = new Map<string, string>();

  remember(text: string): string {
    const hash = configHash(text);
    this.byHash.set(hash, text);
    return hash;
  }

  text(hash: string): string {
    const text = this.byHash.get(hash);
    if (text === undefined) throw new DeviceError('PROTOCOL', `no bird.conf with hash ${hash} is known to this driver: plan and apply with the same driver instance`);
    return text;
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The PID in the pid file when that process lives (not a zombie) and is this directory's bird. */
export function runningPid(paths: BirdPaths): number | null {
  const pid = Number((readText(paths.pid) ?? '').trim());
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    // "pid (comm) S …": the state follows the last ")".
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) return null;
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(paths.config) ? pid : null;
  } catch {
    return null;
  }
}

/** The daemon as a resource, or null when this WAN has nothing under the state directory. */
export function readBird(paths: BirdPaths, configs: ConfigStore): ActualResource | null {
  const text = readText(paths.config);
  const loaded = readText(paths.loaded)?.trim() ?? null;
  const pid = runningPid(paths);
  if (text === null && loaded === null && pid === null && !fs.existsSync(paths.pid) && !fs.existsSync(paths.socket)) return null;
  const props: Record<string, string> = {
    config: text === null ? '(none)' : configs.remember(text),
    running: pid === null ? 'no' : 'yes',
    loaded: loaded ?? '(none)',
  };
  return { kind: KIND.bird, id: paths.config, key: paths.config, props };
}

/** Whether `command` can be run: an absolute or relative path that is executable, or a name on PATH. */
export function commandExists(command: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const candidates = command.includes('/') ? [command] : (env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, command));
  return candidates.some((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * What preflight needs to know about the installation: the bird version (BIRD 2 prints
 * "BIRD version 2.0.12" on stderr) and whether birdc is there. Never throws.
 */
export async function readBirdBinary(runner: CommandRunner, options: BirdOptions): Promise<ActualResource> {
  const props: Record<string, string> = { birdc: commandExists(options.birdc) ? 'yes' : 'no' };
  try {
    const { stdout, stderr } = await runner.run([options.bird, '--version']);
    const match = /BIRD version (\d+)\.(\S+)/.exec(`${stdout}\n${stderr}`);
    props.version = match ? `${match[1]}.${match[2]}` : '(unknown)';
  } catch (error) {
    props.error = `${(error as Error).message} (${APT})`;
  }
  return { kind: KIND.birdBinary, id: options.bird, key: null, props };
}

/** Writes `text` to `file` (0600) through a temporary file and a rename, so no reader sees half of it. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.rmSync(temporary, { force: true });
  const fd = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
}

export class BirdDaemon {
  constructor(
    private readonly runner: CommandRunner,
    private readonly options: BirdOptions,
  ) {}

  writeConfig(paths: BirdPaths, text: string): void {
    fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeAtomically(paths.config, text);
  }

  async start(paths: BirdPaths): Promise<void> {
    if (runningPid(paths) !== null) throw new DeviceError('REFUSED', `BIRD already runs with ${paths.config}`);
    this.checkSocketPath(paths);
    // bird parses the config, then daemonizes (stdio to /dev/null): exit 0 means it runs.
    await this.runner.run([this.options.bird, '-c', paths.config, '-s', paths.socket, '-P', paths.pid]);
    this.recordLoaded(paths);
  }

  /** Reloads bird.conf; BIRD keeps its running config when the new one does not parse (birdc exits 1). */
  async reconfigure(paths: BirdPaths): Promise<void> {
    const { stdout } = await this.runner.run([this.options.birdc, '-s', paths.socket, 'configure']);
    if (!/Reconfigur/.test(stdout)) throw new DeviceError('REFUSED', `birdc configure did not reconfigure BIRD: ${stdout.trim().split('\n').at(-1) ?? ''}`);
    this.recordLoaded(paths);
  }

  /** Shuts BIRD down gracefully (its sessions close, it withdraws its kernel routes), then by signal if it does not exit. */
  async stop(paths: BirdPaths): Promise<void> {
    let pid = runningPid(paths);
    if (pid !== null) {
      await this.runner.run([this.options.birdc, '-s', paths.socket, 'down']).catch(() => undefined);
      for (const signal of [null, 'SIGTERM', 'SIGKILL'] as const) {
        if (signal !== null && pid !== null) {
          try {
            process.kill(pid, signal);
          } catch {
            /* exited meanwhile */
          }
        }
        pid = await this.waitForExit(paths);
        if (pid === null) break;
      }
      if (pid !== null) throw new DeviceError('REFUSED', `BIRD (pid ${pid}) did not exit`);
    }
    for (const file of [paths.pid, paths.socket, paths.loaded]) fs.rmSync(file, { force: true });
  }

  /** Stops the daemon and removes its directory (what is in it is Meshplane's). */
  async remove(paths: BirdPaths): Promise<void> {
    await this.stop(paths);
    fs.rmSync(paths.dir, { recursive: true, force: true });
    // The per-namespace directory goes too once no WAN is left in it.
    try {
      fs.rmdirSync(path.dirname(paths.dir));
    } catch {
      /* not empty, or gone */
    }
  }

  private async waitForExit(paths: BirdPaths): Promise<number | null> {
    for (let i = 0; i < Math.ceil(this.options.stopTimeoutMs / POLL_MS); i++) {
      const pid = runningPid(paths);
      if (pid === null) return null;
      await sleep(POLL_MS);
    }
    return runningPid(paths);
  }

  private recordLoaded(paths: BirdPaths): void {
    writeAtomically(paths.loaded, `${configHash(fs.readFileSync(paths.config, 'utf8'))}\n`);
  }

  private checkSocketPath(paths: BirdPaths): void {
    if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
      throw new DeviceError('REFUSED', `BIRD's control socket path ${paths.socket} is longer than ${MAX_SOCKET_PATH} bytes: choose a shorter state directory`);
    }
  }
}
