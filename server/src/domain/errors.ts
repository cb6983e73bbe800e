// Errors the domain raises when an operator asks for something the overlay's rules refuse,
// and the device failures services report (DEVICE_*: an operational problem to act on, not a
// bug). Each carries a stable `code` that the GraphQL layer passes to clients unchanged.

export type DomainErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_CIDR'
  | 'INVALID_HOST'
  | 'INVALID_PORT'
  | 'INVALID_NAME'
  | 'INVALID_KEY'
  | 'POOL_EXHAUSTED'
  | 'SUBNET_CONFLICT'
  | 'ALLOWED_IPS_OVERLAP'
  | 'ENDPOINT_PORT_MISMATCH'
  | 'MANAGEMENT_IN_TUNNEL'
  | 'NOT_FOUND'
  | 'CONFLICT'
  /** A quota of the caller's is used up (a self-service user's peers in a WAN). */
  | 'LIMIT_REACHED'
  | DeviceFailureCode;

/** A device call that failed: services/deploy/device-failure.ts maps the drivers' DeviceError codes onto these. */
export type DeviceFailureCode = 'DEVICE_UNREACHABLE' | 'DEVICE_TIMEOUT' | 'DEVICE_TLS_FAILED' | 'DEVICE_AUTH_FAILED' | 'DEVICE_REFUSED' | 'DEVICE_ERROR';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Machine-readable context (peer ids, CIDRs) for clients; never secrets. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** One refused input field of a DomainError that names several (details.fields). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The field a DomainError is about, when it names exactly one (details.field). */
const fieldOf = (error: unknown): string | null =>
  error instanceof DomainError && typeof error.details.field === 'string' ? error.details.field : null;

/**
 * Runs independent field checks and refuses them together: a form with three bad fields learns
 * of all three at once, not one per submit. Each check's result is returned under its key; a
 * check that fails with an error about one field is collected, anything else is thrown as is.
 * One refused field: its own error. Several: one error with the code they share
 * (INVALID_INPUT when they differ), `details.fields` listing each, `details.field` the first.
 */
export function checkFields<T extends Record<string, () => unknown>>(checks: T): { [K in keyof T]: ReturnType<T[K]> } {
  const values: Record<string, unknown> = {};
  const refused: DomainError[] = [];
  for (const [key, check] of Object.entries(checks)) {
    try {
      values[key] = check();
    } catch (error) {
      if (fieldOf(error) === null) throw error;
      refused.push(error as DomainError);
    }
  }
  if (refused.length === 1) throw refused[0];
  if (refused.length > 1) throw fieldsError(refused.map((error) => ({ field: fieldOf(error)!, message: error.message })), new Set(refused.map((error) => error.code)));
  return values as { [K in keyof T]: ReturnType<T[K]> };
}

/** One error about several fields (a rule that ties them together, or several refusals). */
export function fieldsError(issues: readonly FieldIssue[], codes: ReadonlySet<DomainErrorCode> = new Set(['INVALID_INPUT'])): DomainError {
  const code = codes.size === 1 ? [...codes][0]! : 'INVALID_INPUT';
  return new DomainError(code, issues.map((issue) => issue.message).join('; '), { field: issues[0]?.field, fields: issues });
}
