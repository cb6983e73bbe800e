// The pfSense REST API v2 response envelope: {code, status, response_id, message, data}.
// Every reply, success or error, has it; successes are always 200 "SUCCESS" (creates too).

const STATUS_TEXT: Record<number, string> = {
  200: 'ok',
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  406: 'not acceptable',
  409: 'conflict',
  415: 'unsupported media type',
  422: 'unprocessable entity',
  424: 'failed dependency',
  500: 'internal server error',
  503: 'service unavailable',
};

/** An error reply as pfSense's Response subclasses produce it. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly responseId: string,
    message: string,
    readonly data: unknown = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const BIG = '\u0000big:';

/**
 * PHP's json_encode: integers of any size stay numbers (counters may exceed 2^53, which
 * the model holds as bigint), quotes in messages become backticks, and "/" is escaped.
 */
export function encodeEnvelope(code: number, responseId: string, message: string, data: unknown): string {
  const body = {
    code,
    status: STATUS_TEXT[code] ?? 'internal server error',
    response_id: responseId.toUpperCase(),
    message: message.replace(/["']/g, '`'),
    data,
  };
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? `${BIG}${value}` : value));
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1').replace(/\//g, '\\/');
}

export const HTML_NOT_FOUND = '<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1><p>pfSense</p></body></html>';
