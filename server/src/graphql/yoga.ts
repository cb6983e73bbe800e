// graphql-yoga over the Pothos schema: masked errors with a `code`, identity from the
// session cookie or Bearer token, cookies set by login/logout, and the abuse limits of
// guards.ts (CSRF, body size, query depth/cost). CORS is off: the web UI is same-origin.
import type http from 'node:http';
import { createGraphQLError, createYoga, maskError as defaultMaskError, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';
import { schema } from './schema/index.js';
import type { Context, CookieJar } from './context.js';
import { coercedArgumentPath, hasCode, isGraphQLErrorLike, namingArgument, toClientError } from './errors.js';
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import type { Services } from '../services/index.js';
import { credentialsFrom, parseCookies, resolveIdentity, type Identity } from '../services/auth/identity.js';
import { OverlayReader } from '../services/overlay/overlays.js';
import { REQUEST_BODY_LIMIT_BYTES, requestGuards } from './guards.js';
import { auditRefusedMutations } from './audit-refusals.js';
import { wsCookieHeader } from '../infra/http/origin.js';
import { clientAddress } from '../infra/http/client-address.js';
import type { ErrorLogThrottle } from '../infra/error-log-throttle.js';
import { errorClients } from './error-clients.js';
import { schemaPrivacy } from './schema-privacy.js';

export interface YogaOptions {
  prisma: Db;
  services: Services;
  log: Logger;
  /** Mark cookies Secure ("auto": only when the request came over HTTPS). */
  secureCookies: boolean | 'auto';
  /** How many reverse proxies' X-Forwarded-For entries to believe (MESHPLANE_TRUST_PROXY; 0: none). */
  trustedProxies: number;
  /** The most an operation may cost (MESHPLANE_REQUEST_COST_LIMIT; see request-cost.ts). */
  costLimit?: number;
  /** Bounds the unexpected-error lines (stack traces) per client. */
  errorLog: ErrorLogThrottle;
}

/**
 * The client error placed where graphql-js located the failure: an inner error (a DomainError,
 * a coded GraphQLError thrown by a resolver) has no `path`, and without one a client cannot
 * tell which field failed and the audit of refusals mistakes it for a request-level error.
 */
function located(client: GraphQLError, outer: GraphQLError): GraphQLError {
  if (client.path || !outer.path) return client;
  return createGraphQLError(client.message, { nodes: outer.nodes, path: outer.path, extensions: client.extensions });
}

interface ServerContext {
  req?: http.IncomingMessage;
  res?: http.ServerResponse;
  connectionParams?: Readonly<Record<string, unknown>>;
}

function isHttps(request: Request): boolean {
  return request.url.startsWith('https:') || request.headers.get('x-forwarded-proto') === 'https';
}

function cookieJar(request: Request | null, cookieHeader: string | null | undefined, secureCookies: boolean | 'auto'): CookieJar & { pending: string[] } {
  const pending: string[] = [];
  const received = parseCookies(cookieHeader);
  const secure = secureCookies === 'auto' ? (request ? isHttps(request) : false) : secureCookies;
  const attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return {
    pending,
    get: (name) => received.get(name) ?? null,
    set: (name, value, { maxAgeSeconds }) => pending.push(`${name}=${encodeURIComponent(value)}; Max-Age=${maxAgeSeconds}; ${attributes}`),
    clear: (name) => pending.push(`${name}=; Max-Age=0; ${attributes}`),
  };
}

function headerOf(request: Request | undefined, req: http.IncomingMessage | undefined, name: string): string | null {
  if (request) return request.headers.get(name);
  const value = req?.headers[name];
  return Array.isArray(value) ? value.join('; ') : (value ?? null);
}

/**
 * An error about the request itself: a GraphQL error outside any field (no path) caused by
 * nothing but GraphQL errors (graphql-js wraps a scalar's "Int cannot represent …" in the
 * variable's error). A resolver's failure always has a path, so it never passes for one.
 */
function isRequestError(error: unknown): boolean {
  if (!isGraphQLErrorLike(error) || (error as GraphQLError).path) return false;
  for (let cause: unknown = error, depth = 0; cause; cause = (cause as { originalError?: unknown }).originalError, depth++) {
    if (depth >= 5 || !isGraphQLErrorLike(cause)) return false;
  }
  return true;
}

// A literal refused by a scalar comes out of validation, which is never masked: name its argument there.
const namingRefusedLiterals: Plugin = {
  onValidate: () => ({ result, setResult }) => {
    if (result.some(hasCode)) setResult(result.map((error) => (hasCode(error) ? namingArgument(error as GraphQLError, error as GraphQLError) : error)));
  },
};

function logText(message: unknown): string {
  return message instanceof Error ? message.message : String(message);
}

export function createYogaServer({ prisma, services, log, secureCookies, trustedProxies, errorLog, costLimit }: YogaOptions) {
  const jars = new WeakMap<Request, ReturnType<typeof cookieJar>>();
  const errors = errorClients();
  // One look-up of an HTTP request's identity, made before validation (introspection is for
  // signed-in callers, and yoga validates before it builds the context) and reused by the context.
  const identities = new WeakMap<Request, Promise<Identity | null>>();
  const signedInRequests = new WeakSet<Request>();
  const identityOf = (initial: { request?: Request; req?: http.IncomingMessage; connectionParams?: Readonly<Record<string, unknown>> }): Promise<Identity | null> => {
    const request = initial.request;
    const known = request && identities.get(request);
    if (known) return known;
    const connectionAuth = initial.connectionParams?.authorization ?? initial.connectionParams?.Authorization;
    // HTTP: CORS and the CSRF header guard the cookie; WebSocket: only from our own origin.
    const cookieHeader = request ? headerOf(request, undefined, 'cookie') : wsCookieHeader(initial.req);
    const identity = resolveIdentity(prisma, credentialsFrom(typeof connectionAuth === 'string' ? connectionAuth : headerOf(request, initial.req, 'authorization'), cookieHeader));
    if (request) identities.set(request, identity);
    return identity;
  };
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    cors: false,
    multipart: false,
    maxRequestBodySize: REQUEST_BODY_LIMIT_BYTES,
    // yoga reports every error of a result, client errors included: keep those at debug;
    // maskError below logs the unexpected ones at error level. Only yoga's message is kept:
    // its debug arguments include the request parameters (variables with passwords), and a
    // GraphQLError's text quotes the query source (literals with passwords).
    logging: { debug: (m) => log.debug(logText(m)), info: (m) => log.info(logText(m)), warn: (m) => log.warn(logText(m)), error: (m) => log.debug(logText(m)) },
    maskedErrors: {
      maskError(error, message, isDev) {
        // Walk the wrapping chain (graphql-js wraps resolver errors); checks are by shape, not
        // instanceof, so a second copy of the graphql module cannot turn a client error into a 500.
        for (let cause: unknown = error, depth = 0; cause && depth < 5; cause = (cause as { originalError?: unknown }).originalError, depth++) {
          const known = toClientError(cause) ?? (hasCode(cause) ? (cause as GraphQLError) : null);
          if (known) return located(namingArgument(known, error as GraphQLError), error as GraphQLError);
        }
        if (isRequestError(error)) {
          // Parse, validation and variable coercion errors (`Variable "$input" got invalid value
          // 1.5 …`): the client's request, not our code, so a code and the message, not a 500.
          const graphQLError = error as GraphQLError;
          const code = /^Variable "\$/.test(graphQLError.message) ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED';
          // A variable that does not coerce (`first: "NaN"`): named like the edge's other refusals.
          const path = code === 'BAD_USER_INPUT' ? coercedArgumentPath(graphQLError) : null;
          const details = path ? { field: path.filter((part) => !/^\d+$/.test(part)).at(-1), fields: [{ path: path.join('.'), message: graphQLError.message }] } : undefined;
          return createGraphQLError(graphQLError.message, { nodes: graphQLError.nodes, extensions: { ...graphQLError.extensions, code, ...(details ? { details } : {}) } });
        }
        // Bounded per client: any client can repeat a request that fails this way.
        const client = errors.clientOf(error) ?? 'an unknown client';
        if (errorLog.admit(client)) log.error({ err: error instanceof Error ? error : new Error(String(error)), client }, 'unexpected error in a resolver');
        const masked = defaultMaskError(error, message, isDev) as GraphQLError;
        return createGraphQLError(masked.message, { extensions: { ...masked.extensions, code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    context: async (initial: YogaInitialContext & ServerContext): Promise<Context> => {
      // Over HTTP yoga gives a Fetch `request`; over graphql-ws we pass the upgrade `req` and connection params.
      const request = initial.request as Request | undefined;
      const cookieHeader = request ? headerOf(request, undefined, 'cookie') : wsCookieHeader(initial.req);
      const jar = cookieJar(request ?? null, cookieHeader, secureCookies);
      if (request) jars.set(request, jar);
      return {
        prisma,
        services,
        identity: await identityOf({ ...initial, request }),
        cookies: jar,
        overlays: new OverlayReader(prisma, services.secrets),
        clientAddress: clientAddress(initial.req, trustedProxies),
      };
    },
    plugins: [
      ...requestGuards({ costLimit }),
      {
        async onParams({ request }) {
          if (await identityOf({ request })) signedInRequests.add(request);
        },
      },
      namingRefusedLiterals,
      schemaPrivacy((context: Partial<Context> & { request?: Request }) => (context.identity !== undefined ? context.identity !== null : Boolean(context.request && signedInRequests.has(context.request)))),
      errors.plugin,
      auditRefusedMutations(log),
      {
        onResponse({ request, response }) {
          for (const cookie of jars.get(request)?.pending ?? []) response.headers.append('set-cookie', cookie);
        },
      },
    ],
  });
}

export type MeshplaneYoga = ReturnType<typeof createYogaServer>;
