// A tiny loopback TCP server that plays a recorded API conversation: after each complete
// client sentence it writes the next recorded reply bytes (optionally one byte per write)
// or closes the connection. Everything the client sent is kept for byte comparison.
import net from 'node:net';
import { SentenceDecoder } from '../codec.js';

export type Step = { reply: Buffer; bytewise?: boolean } | { close: true } | { silent: true };

export interface ScriptServer {
  port: number;
  /** Raw bytes received from the client, in order. */
  received(): Buffer;
  /** Sentences received from the client, as words. */
  sentences: string[][];
  /** Writes bytes to the connected client now (for late or unsolicited replies). */
  push(bytes: Buffer): Promise<void>;
  stop(): Promise<void>;
}

export async function startScriptServer(steps: Step[]): Promise<ScriptServer> {
  const chunks: Buffer[] = [];
  const sentences: string[][] = [];
  const sockets = new Set<net.Socket>();
  let current: net.Socket | null = null;
  const queue = [...steps];

  async function play(socket: net.Socket, step: Step): Promise<void> {
    if ('close' in step) {
      socket.destroy();
      return;
    }
    if ('silent' in step) return;
    if (!step.bytewise) {
      socket.write(step.reply);
      return;
    }
    for (const byte of step.reply) {
      if (socket.destroyed) return;
      socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    current = socket;
    socket.setNoDelay(true);
    const decoder = new SentenceDecoder();
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      for (const words of decoder.push(chunk)) {
        sentences.push(words);
        const step = queue.shift();
        if (step) chain = chain.then(() => play(socket, step));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    received: () => Buffer.concat(chunks),
    sentences,
    push: async (bytes) => {
      current?.write(bytes);
      await new Promise((resolve) => setImmediate(resolve));
    },
    stop: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
