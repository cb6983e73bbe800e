// A small RouterOS binary API client (8728, or 8729 with TLS): one socket, every command
// tagged so several can be in flight, each with its own timeout. Replies are framed by
// SentenceDecoder (codec.ts) and dispatched by tag; `!empty` (RouterOS >= 7.18) is a
// no-op before the `!done`, a late reply for a command we gave up on is dropped, and a
// closed connection rejects every pending command instead of leaving it hanging.
// (node-routeros 1.6.9 crashes or hangs on each of these; see README in this folder.)
import net from 'node:net';
import tls from 'node:tls';
import { DeviceError } from '../../driver.js';
import { toDeviceError } from '../errors.js';
import { handshakeFailure, NOT_TLS_SPOKEN } from '../../tls-handshake.js';
import { SentenceDecoder, WireFormatError, encodeSentence } from './codec.js';
import { parseReply, type Reply } from './reply.js';

export interface ApiClientOptions {
  host: string;
  port: number;
  /** null: plain TCP (8728). Otherwise TLS, verified against `ca` unless rejectUnauthorized is false. */
  tls: { ca: string | null; rejectUnauthorized: boolean } | null;
  username: string;
  password: string;
  /** Per command, and for connect + login. */
  timeoutMs: number;
  /** Names the device in error messages. */
  label: string;
}

export interface CommandResult {
  /** One record per `!re`. */
  rows: Record<string, string>[];
  /** Attributes of the final `!done` (e.g. `ret` after `add`). */
  done: Record<string, string>;
}

interface Pending {
  command: string;
  rows: Record<string, string>[];
  traps: Record<string, string>[];
  timer: NodeJS.Timeout;
  resolve: (result: CommandResult) => void;
  reject: (error: DeviceError) => void;
}

export class RouterOsApiClient {
  private readonly decoder = new SentenceDecoder();
  private readonly pending = new Map<string, Pending>();
  private nextTag = 0;
  private failure: DeviceError | null = null;
  /** Commands written on this connection (for messages such as "dropped after N commands"). */
  commandsSent = 0;

  private constructor(private readonly socket: net.Socket, private readonly options: ApiClientOptions) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(toDeviceError(error, options.label)));
    socket.on('close', () => this.fail(new DeviceError('UNREACHABLE', `${options.label}: the device closed the API connection`)));
  }

  /** Connects and logs in (post-6.43 login: name and password in one sentence). */
  static async open(options: ApiClientOptions): Promise<RouterOsApiClient> {
    const socket = await connectSocket(options);
    const client = new RouterOsApiClient(socket, options);
    try {
      const login = await client.command(['/login', `=name=${options.username}`, `=password=${options.password}`], 'login');
      if (login.done.ret !== undefined) {
        throw new DeviceError('AUTH_FAILED', `${options.label}: the device asked for the legacy challenge login (RouterOS before 6.43), which Meshplane does not support`);
      }
    } catch (error) {
      client.close();
      if (error instanceof DeviceError && error.code === 'REFUSED') throw new DeviceError('AUTH_FAILED', error.message);
      throw error;
    }
    return client;
  }

  get closed(): boolean {
    return this.failure !== null;
  }

  /**
   * Runs one command. `words` are the command word and its attribute/query words; the
   * tag is added here. `display` replaces the words in error messages (login hides them).
   */
  command(words: readonly string[], display?: string): Promise<CommandResult> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = String(++this.nextTag);
    const command = display ?? words[0] ?? '';
    return new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(tag)) return;
        reject(new DeviceError('TIMEOUT', `${this.options.label}: no reply to ${command} within ${this.options.timeoutMs} ms`));
        // Stop the router working on it; its late replies carry a tag we no longer know.
        this.write(['/cancel', `=tag=${tag}`, `.tag=cancel-${tag}`]);
      }, this.options.timeoutMs);
      this.pending.set(tag, { command, rows: [], traps: [], timer, resolve, reject });
      this.commandsSent++;
      this.write([...words, `.tag=${tag}`]);
    });
  }

  close(): void {
    this.fail(new DeviceError('UNREACHABLE', `${this.options.label}: connection closed`));
  }

  private write(words: readonly string[]): void {
    if (!this.socket.destroyed) this.socket.write(encodeSentence(words));
  }

  private onData(chunk: Buffer): void {
    let sentences: string[][];
    try {
      sentences = this.decoder.push(chunk);
    } catch (error) {
      const message = error instanceof WireFormatError ? error.message : String(error);
      this.fail(new DeviceError('PROTOCOL', `${this.options.label}: unreadable API reply (${message})`));
      return;
    }
    for (const words of sentences) this.dispatch(parseReply(words));
  }

  private dispatch(reply: Reply): void {
    if (reply.type === '!fatal') {
      this.fail(new DeviceError('UNREACHABLE', `${this.options.label}: the device ended the API session (${reply.other.join(' ') || reply.attributes.message || 'no reason given'})`));
      return;
    }
    // Untagged replies only make sense when a single command is pending.
    const tag = reply.tag ?? (this.pending.size === 1 ? [...this.pending.keys()][0] : undefined);
    const entry = tag === undefined ? undefined : this.pending.get(tag);
    if (tag === undefined || !entry) return; // a late reply for a command that timed out
    switch (reply.type) {
      case '!re':
        entry.rows.push(reply.attributes);
        return;
      case '!empty':
        return; // RouterOS >= 7.18: "no rows"; the `!done` follows
      case '!trap':
        entry.traps.push(reply.attributes);
        return;
      case '!done':
        this.settle(tag, entry);
        if (entry.traps.length > 0) {
          const messages = entry.traps.map((trap) => trap.message ?? 'error').join('; ');
          entry.reject(new DeviceError('REFUSED', `${this.options.label}: ${entry.command}: ${messages}`));
        } else {
          entry.resolve({ rows: entry.rows, done: reply.attributes });
        }
        return;
      default:
        this.settle(tag, entry);
        entry.reject(new DeviceError('PROTOCOL', `${this.options.label}: unexpected reply word ${JSON.stringify(reply.word.slice(0, 40))} to ${entry.command}`));
    }
  }

  private settle(tag: string, entry: Pending): void {
    clearTimeout(entry.timer);
    this.pending.delete(tag);
  }

  private fail(error: DeviceError): void {
    if (this.failure === null) this.failure = error;
    const pending = [...this.pending.entries()];
    this.pending.clear();
    for (const [, entry] of pending) {
      clearTimeout(entry.timer);
      entry.reject(new DeviceError(error.code, `${error.message} (while waiting for ${entry.command}, after ${this.commandsSent} command(s) on this connection)`));
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

function connectSocket(options: ApiClientOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? tls.connect({
        host: options.host,
        port: options.port,
        ca: options.tls.ca ?? undefined,
        rejectUnauthorized: options.tls.rejectUnauthorized,
        servername: net.isIP(options.host) ? undefined : options.host,
      })
      : net.connect({ host: options.host, port: options.port });
    // A TLS socket reports the TCP connection too: past it, a stall or a reset is the TLS
    // handshake failing (typically TLS toward the plain API port), not an unreachable device.
    let reached = false;
    socket.once('connect', () => (reached = true));
    const inHandshake = () => options.tls !== null && reached;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(inHandshake()
        ? handshakeFailure(options.label, 'ROUTEROS_API', options.host, options.port, options.timeoutMs)
        : new DeviceError('TIMEOUT', `${options.label}: no connection within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const ready = options.tls ? 'secureConnect' : 'connect';
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(inHandshake() && NOT_TLS_SPOKEN.has(error.code ?? '')
        ? handshakeFailure(options.label, 'ROUTEROS_API', options.host, options.port, options.timeoutMs, error.code)
        : toDeviceError(error, options.label));
    });
  });
}
