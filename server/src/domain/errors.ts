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
  | DeviceFailureCode;

/** A device call that failed: services/device-failure.ts maps the drivers' DeviceError codes onto these. */
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
