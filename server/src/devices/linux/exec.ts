// Bounded command execution for the Linux driver: argument arrays only (never a shell), a
// timeout on every call, and a DeviceError that carries the command and its stderr when
// anything goes wrong. Commands never carry secrets in their arguments (keys travel in
// 0600 files, see secret-file.ts), so an error message may quote the command line; stdout
// is never quoted because `wg show dump` prints the private key there.
import { execFile, type ExecFileException } from 'node:child_process';
import { DeviceError } from '../driver.js';

export interface CommandOptions {
  /** Overrides the runner's default timeout for this command. */
  timeoutMs?: number;
}

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  /** The namespace every command runs in, or null for the host itself. */
  readonly netns: string | null;
  /** Runs argv and resolves with its output; rejects with a DeviceError unless it exits 0. */
  run(argv: readonly string[], options?: CommandOptions): Promise<CommandOutput>;
}

const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const MAX_OUTPUT = 16 * 1024 * 1024;

/** A network namespace name as `ip netns` stores it (a file name under /run/netns). */
export function checkNetnsName(name: string): string {
  if (!NETNS_NAME.test(name)) throw new DeviceError('PROTOCOL', `invalid network namespace name ${JSON.stringify(name)}`);
  return name;
}

/** argv as run inside `netns` (`ip netns exec NS …`), or unchanged for the host. */
export function inNamespace(netns: string | null, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new DeviceError('PROTOCOL', 'empty command');
  return netns === null ? [...argv] : ['ip', 'netns', 'exec', checkNetnsName(netns), ...argv];
}

function classify(argv: readonly string[], error: ExecFileException, stderr: string, timeoutMs: number): DeviceError {
  const command = argv.join(' ');
  if (error.code === 'ENOENT') {
    return new DeviceError('UNREACHABLE', `${argv[0]} is not installed or not on PATH (running: ${command})`);
  }
  if (error.killed) return new DeviceError('TIMEOUT', `${command} did not finish within ${timeoutMs} ms`);
  const text = stderr.trim() || '(no error output)';
  const how = typeof error.code === 'number' ? `exit code ${error.code}` : error.signal ? `signal ${error.signal}` : String(error.code ?? error.message);
  const message = `${command} failed (${how}): ${text}`;
  if (/Cannot open network namespace/i.test(text)) return new DeviceError('UNREACHABLE', message);
  if (/Operation not permitted|Permission denied/i.test(text)) return new DeviceError('AUTH_FAILED', message);
  return new DeviceError('REFUSED', message);
}

/** Runs commands with execFile on this machine, optionally inside one network namespace. */
export class ExecCommandRunner implements CommandRunner {
  readonly netns: string | null;
  private readonly timeoutMs: number;

  constructor(options: { netns?: string | null; timeoutMs: number }, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.netns = options.netns == null ? null : checkNetnsName(options.netns);
    this.timeoutMs = options.timeoutMs;
  }

  run(argv: readonly string[], options: CommandOptions = {}): Promise<CommandOutput> {
    const full = inNamespace(this.netns, argv);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const [file, ...args] = full as [string, ...string[]];
    return new Promise((resolve, reject) => {
      const child = execFile(
        file,
        args,
        // LC_ALL=C: error texts are matched above and must not be translated.
        { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, encoding: 'utf8', env: { ...this.env, LC_ALL: 'C' } },
        (error, stdout, stderr) => {
          if (error) reject(classify(full, error, stderr, timeoutMs));
          else resolve({ stdout, stderr });
        },
      );
      child.stdin?.end();
    });
  }
}
