// Tells "the TCP connection failed" from "TCP connected but the TLS handshake never finished"
// for the HTTP device APIs (undici). Both end in the same timeout otherwise, and the second is
// almost always TLS toward a plain port: the operator needs that said, not "no reply in time".
import type net from 'node:net';
import { buildConnector } from 'undici';
import { DeviceError } from './driver.js';
import { tlsHandshakeHint } from '../domain/device-ports.js';

/**
 * Handshake failures that say the other end does not speak TLS there (silence, a reset, a
 * plaintext answer); certificate failures keep their own message.
 */
export const NOT_TLS_SPOKEN = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

export interface HandshakeWatchOptions {
  kind: string;
  /** Names the device in messages. */
  label: string;
  timeoutMs: number;
  ca: string | null;
  rejectUnauthorized: boolean;
}

/** The DeviceError for a connection whose TCP part worked and whose TLS handshake did not. */
export function handshakeFailure(label: string, kind: string, host: string, port: number, timeoutMs: number, cause?: string): DeviceError {
  const what = cause ? `the TLS handshake failed (${cause})` : `no TLS handshake within ${timeoutMs} ms`;
  return new DeviceError('TLS', `${label}: connected to ${host}:${port} but ${what}: ${tlsHandshakeHint(kind, port)}`);
}

/**
 * An undici connector (the Agent's `connect`) that remembers which sockets reached the device
 * but are still in the TLS handshake. A request that times out while one of them is still
 * handshaking failed in TLS, whichever of undici's connect timeout and the request's own
 * deadline fired first.
 */
export class HandshakeWatch {
  private readonly handshaking = new Map<net.Socket, { host: string; port: number }>();
  readonly connector: buildConnector.connector;

  constructor(private readonly options: HandshakeWatchOptions) {
    const connect = buildConnector({ ca: options.ca ?? undefined, rejectUnauthorized: options.rejectUnauthorized, timeout: options.timeoutMs });
    this.connector = (connectOptions, callback) => {
      const secure = connectOptions.protocol === 'https:';
      const port = Number(connectOptions.port) || (secure ? 443 : 80);
      let reached = false;
      // buildConnector returns the socket it dials (typed void by undici).
      const socket = (connect as unknown as (o: typeof connectOptions, c: typeof callback) => net.Socket | undefined)(connectOptions, (error, connected) => {
        if (socket) this.handshaking.delete(socket);
        const code = String((error as { code?: unknown } | null)?.code ?? '');
        if (error && secure && reached && NOT_TLS_SPOKEN.has(code)) {
          callback(handshakeFailure(options.label, options.kind, connectOptions.hostname, port, options.timeoutMs, code === 'UND_ERR_CONNECT_TIMEOUT' ? undefined : code), null);
          return;
        }
        if (error) callback(error, null);
        else callback(null, connected!);
      });
      if (!socket || !secure) return;
      socket.once('connect', () => {
        reached = true;
        this.handshaking.set(socket, { host: connectOptions.hostname, port });
      });
      socket.once('close', () => this.handshaking.delete(socket));
    };
  }

  /** For a request that timed out: the TLS failure to report instead, when a handshake is what stalled. */
  stalled(): DeviceError | null {
    const [first] = this.handshaking.values();
    return first ? handshakeFailure(this.options.label, this.options.kind, first.host, first.port, this.options.timeoutMs) : null;
  }
}
