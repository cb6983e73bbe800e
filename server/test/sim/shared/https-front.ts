// Pieces every HTTPS simulator front shares (pfSense, OPNsense, OpenWrt): the request body with a
// size cap, the connection faults (one-shot drop, delay), and listening on / closing 127.0.0.1.
import type { IncomingMessage } from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const MAX_BODY = 1 << 20;

/** The whole body as UTF-8; rejects with `tooLarge()` (and drops the request) past MAX_BODY. */
export function readBody(request: IncomingMessage, tooLarge: () => unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(tooLarge());
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export interface ConnectionFaults {
  /** Answer this many more requests, then drop the connection of the next one. One-shot. */
  dropAfterRequests: number | null;
  delayMs: number;
}

/** Applies the drop and delay faults; false when the request's connection was dropped. */
export async function passConnectionFaults(faults: ConnectionFaults, request: IncomingMessage): Promise<boolean> {
  if (faults.dropAfterRequests !== null) {
    if (faults.dropAfterRequests <= 0) {
      faults.dropAfterRequests = null;
      request.socket.destroy();
      return false;
    }
    faults.dropAfterRequests--;
  }
  if (faults.delayMs > 0) await sleep(faults.delayMs);
  return true;
}

/** Listens on 127.0.0.1 (port 0 = ephemeral) and resolves with the port. */
export async function listenOnLoopback(server: https.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Drops every open connection and waits until the server is closed. */
export async function closeServer(server: https.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
