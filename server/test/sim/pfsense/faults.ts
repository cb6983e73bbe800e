// Fault switches, mutable while the simulator runs (like the RouterOS simulator's).
export interface EndpointFault {
  /** Path without query, e.g. "/api/v2/vpn/wireguard/peer". */
  path: string;
  /** Only this method; all methods when absent. */
  method?: string;
  /** HTTP status of the error envelope (default 500). */
  status?: number;
  responseId?: string;
  /** How many matching requests fail (default: all). */
  times?: number;
  /** The message quotes the request body, as an API does that names the value it refused. */
  echoBody?: boolean;
}

export interface PfSenseFaults {
  /** Every authenticated request gets 401 AUTH_AUTHENTICATION_FAILED. */
  refuseAuth: boolean;
  /**
   * Answer this many more requests, then drop the connection that sends the next one
   * without replying. One-shot: the switch clears itself when it fires, so a client that
   * reconnects can carry on (as the RouterOS simulator's dropAfterCommands).
   */
  dropAfterRequests: number | null;
  /** Delay before each reply, in milliseconds. */
  delayMs: number;
  /**
   * Write every JSON reply one byte per write, chunked without a content-length (as the
   * RouterOS simulator's REST server does), so clients must reassemble split bodies.
   */
  fragmentOutput: boolean;
  failEndpoint: EndpointFault | null;
}

export function noFaults(): PfSenseFaults {
  return { refuseAuth: false, dropAfterRequests: null, delayMs: 0, fragmentOutput: false, failEndpoint: null };
}
