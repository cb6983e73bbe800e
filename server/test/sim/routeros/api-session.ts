// One binary-API connection (routeros.md §1): login, tagged concurrent commands, `/cancel`,
// `/quit`, `!empty` on ≥ 7.18, and the fault switches. Transport-agnostic: the same code
// serves plain TCP and TLS sockets.
import type { Socket } from 'node:net';
import { ApiCodecError, encodeSentence, SentenceDecoder } from './api-codec.js';
import { parseCommandSentence, replySentence, type CommandSentence } from './api-sentence.js';
import type { Faults } from './faults.js';
import type { CommandLoad } from './load.js';
import type { RouterOsModel } from './model.js';
import { PING_COMMANDS, type PingRun } from './ping.js';
import type { Row } from './query.js';
import { RouterOsTrap, traps } from './trap.js';
import { sendsEmptyReply } from './version.js';

export interface ApiSessionContext {
  model: RouterOsModel;
  faults: Faults;
  /** Client address as the user `address` lists see it. */
  remoteAddress: string;
  /** Counts commands in flight across the simulator's connections, when given. */
  load?: CommandLoad;
  /** Numbers the connections of one simulator (reported with each command). */
  connection: number;
}

/** A command still in flight: delayed by a fault switch, or a streaming ping. */
interface Running {
  /** Stops it without writing anything. */
  stop(): void;
}

/** Streaming pings stop by themselves after this many probes, cancelled or not. */
const MAX_STREAMED_PROBES = 10_000;

export class ApiSession {
  private readonly decoder = new SentenceDecoder();
  private loggedIn = false;
  /** Who logged in: what a print shows depends on the user's group (`sensitive`). */
  private user: string | undefined;
  private closed = false;
  /** In-flight commands by tag; untagged ones get a private key so `/cancel` can still reach them. */
  private readonly running = new Map<string | symbol, Running>();
  /** Writes are chained so a fragmented reply never interleaves with the next one. */
  private outbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: Socket,
    private readonly context: ApiSessionContext,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.shutDown());
    socket.on('error', () => this.shutDown());
  }

  private receive(chunk: Buffer): void {
    let sentences;
    try {
      sentences = this.decoder.push(chunk);
    } catch (error) {
      // A reserved control byte or an absurd length: the stream cannot be resynchronised.
      if (error instanceof ApiCodecError) this.socket.destroy();
      else throw error;
      return;
    }
    for (const words of sentences) this.dispatch(parseCommandSentence(words));
  }

  private dispatch(sentence: CommandSentence): void {
    if (this.closed) return;
    if (sentence.command === '/quit') return this.quit();
    if (sentence.command === '/login') return void this.measured(() => this.login(sentence));
    if (!this.loggedIn) {
      // Unverified: RouterOS limits what may be sent before login; a trap keeps clients sane.
      return this.send([
        replySentence('!trap', { message: 'not logged in' }, sentence.tag),
        replySentence('!done', {}, sentence.tag),
      ]);
    }
    if (sentence.command === '/cancel') return this.cancel(sentence);
    void this.measured(() => this.run(sentence));
  }

  private measured(work: () => Promise<void>): Promise<void> {
    return this.context.load ? this.context.load.measure(work) : work();
  }

  private async login(sentence: CommandSentence): Promise<void> {
    if (!(await this.delay(sentence))) return;
    const { model, faults, remoteAddress } = this.context;
    const { name = '', password = '' } = sentence.attributes;
    if (!faults.refuseLogin && model.authenticate(name, password, remoteAddress, 'api')) {
      this.loggedIn = true;
      this.user = name;
      return this.send([replySentence('!done', {}, sentence.tag)]);
    }
    this.sendTrap(traps.loginFailed(), sentence.tag);
  }

  private async run(sentence: CommandSentence): Promise<void> {
    const { faults, model } = this.context;
    if (faults.consumeCommand()) {
      this.socket.destroy();
      return;
    }
    if (!(await this.delay(sentence))) return;
    const injected = faults.trapCommands.get(sentence.command);
    if (injected !== undefined) return this.sendTrap(traps.injected(injected), sentence.tag);
    try {
      if (PING_COMMANDS.includes(sentence.command) && sentence.attributes.count === undefined) {
        return this.streamPing(model.startPing(sentence.attributes), sentence.tag);
      }
      const result = model.execute({ ...sentence, connection: this.context.connection, user: this.user });
      const replies = result.rows.map((row) => replySentence('!re', row, sentence.tag));
      const isPrint = /\/(print|getall)$/.test(sentence.command);
      if (isPrint && result.rows.length === 0 && result.ret === undefined && sendsEmptyReply(model.version)) {
        replies.push(replySentence('!empty', {}, sentence.tag));
      }
      replies.push(replySentence('!done', result.ret === undefined ? {} : { ret: result.ret }, sentence.tag));
      this.send(replies);
    } catch (error) {
      // A bug in the simulator still answers (loudly) instead of killing the process.
      this.sendTrap(error instanceof RouterOsTrap ? error : traps.simulatorBug(error), sentence.tag);
    }
  }

  /** Waits out the slow-reply fault; false when the command was cancelled meanwhile. */
  private delay(sentence: CommandSentence): Promise<boolean> {
    const ms = this.context.faults.replyDelayMs;
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const key = this.register(sentence.tag, {
        stop: () => {
          clearTimeout(timer);
          resolve(false);
        },
      });
      const timer = setTimeout(() => {
        this.running.delete(key);
        resolve(!this.closed);
      }, ms);
    });
  }

  /** An uncounted `/ping` streams one `!re` per interval until `/cancel` (§1.7). */
  private streamPing(run: PingRun, tag: string | undefined): void {
    let probes = 0;
    const tick = () => {
      this.send([replySentence('!re', run.probe(), tag)]);
      probes += 1;
      if (probes >= MAX_STREAMED_PROBES) {
        stop();
        this.send([replySentence('!done', {}, tag)]);
      }
    };
    const timer = setInterval(tick, run.request.intervalMs);
    const key = this.register(tag, { stop: () => clearInterval(timer) });
    const stop = () => {
      clearInterval(timer);
      this.running.delete(key);
    };
    tick();
  }

  /**
   * `/cancel [=tag=X]`: each cancelled command ends with `!trap =category=2
   * =message=interrupted` and `!done`, in the order of the official transcript (§1.11).
   */
  private cancel(sentence: CommandSentence): void {
    const target = sentence.attributes.tag;
    const keys = target === undefined ? [...this.running.keys()] : this.running.has(target) ? [target] : [];
    const interrupted = traps.interrupted();
    const replies: string[][] = [];
    for (const key of keys) {
      this.running.get(key)!.stop();
      this.running.delete(key);
      const tag = typeof key === 'string' ? key : undefined;
      replies.push(replySentence('!trap', { category: String(interrupted.category), message: interrupted.message }, tag));
    }
    replies.push(replySentence('!done', {}, sentence.tag));
    for (const key of keys) {
      if (typeof key === 'string') replies.push(replySentence('!done', {}, key));
    }
    this.send(replies);
  }

  /** `/quit`: `!fatal` with a bare reason word, then the router closes (§1.5). */
  private quit(): void {
    this.send([['!fatal', 'session terminated on request']]);
    void this.outbox.then(() => this.socket.end());
    this.shutDown();
  }

  private register(tag: string | undefined, running: Running): string | symbol {
    const key = tag ?? Symbol('untagged');
    this.running.set(key, running);
    return key;
  }

  private sendTrap(trap: RouterOsTrap, tag: string | undefined): void {
    const attributes: Row = trap.category === undefined ? { message: trap.message } : { category: String(trap.category), message: trap.message };
    this.send([replySentence('!trap', attributes, tag), replySentence('!done', {}, tag)]);
  }

  /** One reply batch: a single socket write, or one byte per write when fragmenting. */
  private send(sentences: readonly (readonly string[])[]): void {
    if (this.socket.destroyed) return;
    const bytes = Buffer.concat(sentences.map((words) => encodeSentence(words)));
    const fragment = this.context.faults.fragmentOutput;
    this.outbox = this.outbox.then(() => (fragment ? this.writeBytewise(bytes) : this.write(bytes)));
  }

  private write(bytes: Buffer): Promise<void> {
    if (!this.socket.destroyed) this.socket.write(bytes);
    return Promise.resolve();
  }

  private async writeBytewise(bytes: Buffer): Promise<void> {
    for (let i = 0; i < bytes.length && !this.socket.destroyed; i += 1) {
      // Wait for each byte to leave before the next, so the client sees many small reads.
      await new Promise<void>((resolve) => this.socket.write(bytes.subarray(i, i + 1), () => setImmediate(resolve)));
    }
  }

  private shutDown(): void {
    this.closed = true;
    for (const running of this.running.values()) running.stop();
    this.running.clear();
  }
}
