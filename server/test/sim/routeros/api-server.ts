// Binary API listeners: plain TCP (the `api` service) and TLS (`api-ssl`) on loopback.
// Each accepted socket becomes an ApiSession; the `/ip/service` row decides whether the
// router accepts the connection at all (disabled, or the client outside its address list).
import net from 'node:net';
import tls from 'node:tls';
import { ApiSession } from './api-session.js';
import type { Faults } from './faults.js';
import type { CommandLoad } from './load.js';
import type { RouterOsModel } from './model.js';
import type { TlsCredentials } from './tls-certificate.js';
import { listen, closeServer, normaliseAddress } from './listening.js';

export interface ApiServerOptions {
  model: RouterOsModel;
  faults: Faults;
  tls: TlsCredentials;
  /** Counts API commands in flight, when given. */
  load?: CommandLoad;
  /** 0 (default) picks a free port. */
  port?: number;
  tlsPort?: number;
}

export interface ApiServers {
  port: number;
  tlsPort: number;
  close(): Promise<void>;
}

export async function startApiServers(options: ApiServerOptions): Promise<ApiServers> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const accept = (service: 'api' | 'api-ssl') => (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const remoteAddress = normaliseAddress(socket.remoteAddress);
    // A real router silently ignores clients it does not serve; closing is kinder to tests.
    if (!options.model.serviceAccepts(service, remoteAddress)) {
      socket.destroy();
      return;
    }
    new ApiSession(socket, { model: options.model, faults: options.faults, remoteAddress, connection: ++connections, load: options.load });
  };
  const plain = net.createServer(accept('api'));
  const secure = tls.createServer({ key: options.tls.key, cert: options.tls.cert }, accept('api-ssl'));
  // A failed handshake must not take the simulator down.
  secure.on('tlsClientError', () => undefined);
  const port = await listen(plain, options.port ?? 0);
  const tlsPort = await listen(secure, options.tlsPort ?? 0).catch(async (error: unknown) => {
    await closeServer(plain, sockets);
    throw error;
  });
  return {
    port,
    tlsPort,
    close: async () => {
      await Promise.all([closeServer(plain, sockets), closeServer(secure, sockets)]);
    },
  };
}
