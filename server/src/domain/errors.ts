// Errors the domain raises when an operator asks for something the overlay's rules refuse.
// Each carries a stable `code` that the GraphQL layer passes to clients unchanged.

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
  | 'CONFLICT';

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
