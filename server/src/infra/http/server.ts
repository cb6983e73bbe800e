// One HTTP server on one port: GraphQL (HTTP and graphql-ws on the same path) and the web UI.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { createGraphQLError, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { REQUEST_BODY_LIMIT_BYTES } from '../../graphql/guards.js';
import { releasingSentResults } from '../../graphql/sent-results.js';
import { CLOSE_TOO_MANY, LiveSockets } from './live-sockets.js';

export type NodeMiddleware = (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;

/** Who a WebSocket connection is, or null to refuse it (graphql-ws closes it with 4403 Forbidden). */
export type WsAuthorize<Who> = (request: http.IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined) => Promise<Who | null>;

export interface HttpServerOptions<Who> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  yoga: YogaServerInstance<any, any>;
  authorizeWs: WsAuthorize<Who>;
  web: NodeMiddleware | null;
  log: Logger;
  /** Prometheus exposition for GET /metrics; with a token, scrapers must send it as a Bearer. */
  metrics?: { render(): Promise<{ contentType: string; body: string }>; token: string | null };
  /** When a socket's credentials expire (it is closed with 4403 then); none: never. */
  expiryOf?: (who: Who) => { at: Date; reason: string } | null;
  /** The account a socket counts against in LIVE_LIMITS (live-sockets.ts); none: all sockets are one. */
  userOf?: (who: Who) => string;
  /** Routes answered before GraphQL and the web UI (OIDC's /auth/oidc/*): true when it took the request. */
  routes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

/** Compared as digests in constant time: the token must not leak through response timing. */
function sameSecret(given: string | undefined, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

async function serveMetrics(metrics: NonNullable<HttpServerOptions<unknown>['metrics']>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (metrics.token && !sameSecret(req.headers.authorization, `Bearer ${metrics.token}`)) {
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('metrics need the bearer token\n');
    return;
  }
  const { contentType, body } = await metrics.render();
  res.writeHead(200, { 'content-type': contentType }).end(body);
}

export function createHttpServer<Who>({ yoga, authorizeWs, web, log, metrics, expiryOf, userOf, routes }: HttpServerOptions<Who>) {
  const graphqlPath = yoga.graphqlEndpoint;
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname === '/metrics' && metrics && req.method === 'GET') {
      serveMetrics(metrics, req, res).catch((error: unknown) => {
        log.error({ err: error }, 'metrics failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    if (routes?.(req, res)) return;
    if (pathname === graphqlPath || !web) {
      // The request listener form: handleNodeRequestAndResponse never answers with @whatwg-node/server 0.11 here.
      void yoga(req, res);
      return;
    }
    web(req, res, () => {
      res.statusCode = 404;
      res.end('Not found');
    });
  });

  // The same bound as HTTP bodies (ws allows 100 MiB frames by default); larger ones close with 1009.
  const wss = new WebSocketServer({ server, path: graphqlPath, maxPayload: REQUEST_BODY_LIMIT_BYTES });
  // ws reports what a client does wrong on its socket (a frame over maxPayload, invalid UTF-8,
  // a bad opcode) as an 'error' event, which graphql-ws prints with a stack trace to stderr:
  // any client, signed in or not, could fill the log that way. ws closes such a socket itself
  // (1009, 1007, 1002); the event is kept at debug level and goes no further.
  wss.on('connection', (socket) => {
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event !== 'error') return emit(event, ...args);
      log.debug({ err: { message: args[0] instanceof Error ? args[0].message : String(args[0]) } }, 'WebSocket error from a client');
      return true;
    }) as typeof socket.emit;
  });
  const live = new LiveSockets<Who>(expiryOf, userOf);
  const wsServer = useServer(
    {
      onConnect: async (ctx) => {
        const { request, socket } = ctx.extra;
        const who = await authorizeWs(request, ctx.connectionParams);
        if (who === null) return false;
        const tooMany = live.refuseSocket(who);
        if (tooMany) {
          // Not 4403: the web client takes that for a revoked session and signs out.
          socket.close(CLOSE_TOO_MANY, `Too many connections: ${tooMany}`);
          return false;
        }
        // graphql-ws replaces ctx.subscriptions when the socket closes: read it through ctx.
        live.add(socket, who, () => Object.keys(ctx.subscriptions).length);
        // A revocation published while the check above ran found no socket of ours to close:
        // check once more now that the socket is registered (later ones will find it).
        if ((await authorizeWs(request, ctx.connectionParams)) !== null) return true;
        live.delete(socket);
        return false;
      },
      // onSubscribe below puts yoga's enveloped execute/subscribe on rootValue.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      execute: (args: any) => args.rootValue.execute(args),
      // Sent results are emptied as soon as the next is asked for (graphql/sent-results.ts).
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      subscribe: (args: any) => releasingSentResults(args.rootValue.subscribe(args)),
      onSubscribe: async (ctx, _id, params) => {
        // graphql-ws has already counted this operation in ctx.subscriptions; checked before any
        // await, so operations arriving together are counted one by one.
        const tooMany = live.refuseOperation(ctx.extra.socket);
        if (tooMany) return [createGraphQLError(`Too many subscriptions: ${tooMany}`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })];
        // Run each operation through yoga's envelop so its plugins (masking, limits) apply to WebSockets too.
        const { schema: envelopSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          connectionParams: ctx.connectionParams,
          params,
        });
        const args = {
          schema: envelopSchema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wss,
  );

  return {
    server,
    /** Closes (4403) the open WebSockets admitted as someone `match` accepts; returns how many. */
    closeSockets: (match: (who: Who) => boolean, reason: string): number => live.close(match, reason),
    async listen(port: number, host: string): Promise<string> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${shownHost}:${address.port}`;
    },
    async close(): Promise<void> {
      await wsServer.dispose();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.debug('http server closed');
    },
  };
}
