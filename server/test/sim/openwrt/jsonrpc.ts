// The legacy JSON-RPC envelope of uhttpd's /ubus handler (ref §2): what a request must look
// like, and the exact bytes of a reply. uhttpd writes replies with blobmsg_format_json
// (compact, keys in insertion order: jsonrpc, id, result|error); in this format `result` is
// always an array, [status] or [status, data], even for a callee's error statuses.

export const RPC_ERRORS = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  OBJECT_NOT_FOUND: -32000,
  SESSION_NOT_FOUND: -32001,
  ACCESS_DENIED: -32002,
  TIMEOUT: -32003,
} as const;

export type RpcErrorCode = (typeof RPC_ERRORS)[keyof typeof RPC_ERRORS];

const MESSAGES: Record<RpcErrorCode, string> = {
  [-32700]: 'Parse error',
  [-32600]: 'Invalid request',
  [-32601]: 'Method not found',
  [-32602]: 'Invalid parameters',
  [-32603]: 'Internal error',
  [-32000]: 'Object not found',
  [-32001]: 'Session not found',
  [-32002]: 'Access denied',
  [-32003]: 'ubus request timed out',
};

/** The null session: exists from rpcd's start, never expires, holds the "unauthenticated" group. */
export const NULL_SID = '00000000000000000000000000000000';

export type ParsedRequest =
  | { kind: 'call'; id: unknown; sid: string; object: string; method: string; args: Record<string, unknown> }
  | { kind: 'list'; id: unknown; paths: string[] | null }
  | { kind: 'error'; id: unknown; code: RpcErrorCode };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One request object of a single request or a batch (uhttpd parse_json_rpc + parse_call_params). */
export function parseRequest(value: unknown): ParsedRequest {
  if (!isObject(value)) return { kind: 'error', id: null, code: RPC_ERRORS.PARSE };
  const id = 'id' in value ? value.id : null;
  if (value.jsonrpc !== '2.0' || typeof value.method !== 'string') return { kind: 'error', id, code: RPC_ERRORS.PARSE };
  const params = value.params;
  if (value.method === 'list') {
    if (params === undefined) return { kind: 'list', id, paths: null };
    if (!Array.isArray(params) || params.some((path) => typeof path !== 'string')) return { kind: 'error', id, code: RPC_ERRORS.PARSE };
    return { kind: 'list', id, paths: params as string[] };
  }
  if (value.method !== 'call') return { kind: 'error', id, code: RPC_ERRORS.METHOD_NOT_FOUND };
  if (!Array.isArray(params) || params.length < 4) return { kind: 'error', id, code: RPC_ERRORS.PARSE };
  const [sid, object, method, args] = params as unknown[];
  if (typeof sid !== 'string' || typeof object !== 'string' || typeof method !== 'string' || !isObject(args)) {
    return { kind: 'error', id, code: RPC_ERRORS.PARSE };
  }
  // uhttpd appends the caller's own session to the args it forwards; a client may not spoof it.
  if ('ubus_rpc_session' in args) return { kind: 'error', id, code: RPC_ERRORS.INVALID_PARAMS };
  return { kind: 'call', id, sid, object, method, args };
}

/** A reply object (one element of a batch reply), keys in uhttpd's order. */
export function resultReply(id: unknown, status: number, data?: unknown): Record<string, unknown> {
  return { jsonrpc: '2.0', id: id ?? null, result: data === undefined ? [status] : [status, data] };
}

export function errorReply(id: unknown, code: RpcErrorCode): Record<string, unknown> {
  return { jsonrpc: '2.0', id: id ?? null, error: { code, message: MESSAGES[code] } };
}

/** The reply of the `list` method, whose `result` is the listing itself. */
export function listReply(id: unknown, listing: unknown): Record<string, unknown> {
  return { jsonrpc: '2.0', id: id ?? null, result: listing };
}

/** Compact JSON as blobmsg_format_json writes it. */
export function encode(reply: unknown): string {
  return JSON.stringify(reply);
}
