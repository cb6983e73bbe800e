// A deliberately small binary-API client built on our own codec, for tests that need the
// exact bytes or sentences node-routeros hides (or crashes on, like `!empty`).
import net from 'node:net';
import tls from 'node:tls';
import { encodeSentence, SentenceDecoder, type Sentence } from './api-codec.js';
import { parseCommandSentence } from './api-sentence.js';

export interface ApiReply {
  /** `!re`, `!done`, `!trap`, `!empty`, `!fatal`. */
  reply: string;
  attributes: Record<string, string>;
  tag: string | undefined;
  words: Sentence;
}

export interface RawApiClientOptions {
  host: string;
  port: number;
  /** Connect with TLS, trusting this CA certificate. */
  ca?: string;
}

export class RawApiClient {
  /** Every chunk as it arrived, for tests that look at framing. */
  readonly chunks: Buffer[] = [];
  private readonly decoder = new SentenceDecoder();
  private readonly queue: ApiReply[] = [];
  private readonly waiters: Array<{ resolve: (reply: ApiReply) => void; reject: (error: Error) => void }> = [];
  private closedError: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      for (const words of this.decoder.push(chunk)) this.deliver(toReply(words));
    });
    socket.on('close', () => this.fail(new Error('connection closed')));
    socket.on('error', (error) => this.fail(error));
  }

  static connect(options: RawApiClientOptions): Promise<RawApiClient> {
    return new Promise((resolve, reject) => {
      const socket = options.ca
        ? tls.connect({ host: options.host, port: options.port, ca: options.ca, servername: 'localhost' }, () => done())
        : net.connect({ host: options.host, port: options.port }, () => done());
      const done = () => {
        socket.off('error', reject);
        resolve(new RawApiClient(socket));
      };
      socket.once('error', reject);
    });
  }

  /** All bytes received so far. */
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  write(words: readonly string[]): void {
    this.socket.write(encodeSentence(words));
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next reply sentence, whatever its tag. */
  next(): Promise<ApiReply> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Sends a command and collects its replies up to and including `!done` (or `!fatal`). */
  async call(words: readonly string[]): Promise<ApiReply[]> {
    this.write(words);
    const replies: ApiReply[] = [];
    // Bounded: a reply stream longer than this is a bug in the server under test.
    for (let i = 0; i < 100_000; i += 1) {
      const reply = await this.next();
      replies.push(reply);
      if (reply.reply === '!done' || reply.reply === '!fatal') return replies;
    }
    throw new Error('no !done after 100000 sentences');
  }

  async login(name: string, password: string): Promise<ApiReply[]> {
    return this.call(['/login', `=name=${name}`, `=password=${password}`]);
  }

  /** Resolves once the server has closed the connection. */
  closed(): Promise<void> {
    if (this.socket.destroyed || this.closedError) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(reply: ApiReply): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(reply);
    else this.queue.push(reply);
  }

  private fail(error: Error): void {
    this.closedError ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

function toReply(words: Sentence): ApiReply {
  const parsed = parseCommandSentence(words);
  return { reply: parsed.command, attributes: parsed.attributes, tag: parsed.tag, words };
}
