// The "failEndpoint" fault of the HTTPS simulators (pfSense, OPNsense, OpenWrt): requests to one
// path (and method) fail, all of them or the next `times`.
export interface EndpointMatch {
  path: string;
  method?: string;
  times?: number;
}

/** Consumes one use of the endpoint fault when it matches. */
export function takeEndpointFault<F extends EndpointMatch>(faults: { failEndpoint: F | null }, method: string, path: string): F | null {
  const fault = faults.failEndpoint;
  if (!fault || fault.path !== path || (fault.method !== undefined && fault.method !== method)) return null;
  if (fault.times !== undefined) {
    if (fault.times <= 0) return null;
    fault.times--;
  }
  return fault;
}
