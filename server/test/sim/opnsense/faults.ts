// Fault and quirk switches, mutable while the simulator runs. The first five mean what they
// mean in the pfSense simulator; the quirk switches default to what the emulated version does
// (versions.ts) and can be flipped per test (/work/shared/ref/opnsense.md §5.3).
import type { VersionFeatures } from './versions.js';

export interface EndpointFault {
  /** Path without query, e.g. "/api/wireguard/service/reconfigure". */
  path: string;
  /** Only this method; all methods when absent. */
  method?: string;
  /** HTTP status (default 500). */
  status?: number;
  /** Reply body (default OPNsense's {"errorMessage":"Unexpected error, check log for details"}). */
  body?: unknown;
  /** How many matching requests fail (default: all). */
  times?: number;
}

export interface OpnSenseFaults {
  /** Every request with credentials gets 401 Authentication Failed. */
  refuseAuth: boolean;
  /** Answer this many more requests, then drop the connection that sends the next one. One-shot. */
  dropAfterRequests: number | null;
  /** Delay before each reply, in milliseconds. */
  delayMs: number;
  /** Write every reply one byte per write, chunked, so clients must reassemble split bodies. */
  fragmentOutput: boolean;
  failEndpoint: EndpointFault | null;

  /** §2.6: setClient/addClient without `servers` detaches the peer from every instance (24.1+). */
  setClientWithoutServersDetaches: boolean;
  /** §2.5: with disableroutes=0 every reconfigure flushes addresses and routes of the instance. */
  reconfigureFlushesAddresses: boolean;
  /** §2.5: reconfigure with general disabled destroys every wgN. */
  generalDisabledTearsDown: boolean;
  /** §1.3: an empty body with Content-Type application/json → 400 Invalid JSON syntax. */
  emptyJsonBody400: boolean;
  /** §1.3: malformed JSON reads as {} (24.7+); false → 500 (≤24.1). */
  malformedJsonIsEmpty: boolean;
  /** §1.3: 24.7.0 ignores every JSON body from an API key. */
  regression_24_7_0: boolean;
  /** §1.6: server search rows lack `interface` (25.1.3 – 25.7.0). */
  searchMissingInterfaceField: boolean;
  /** §2.6: delClient leaves the UUID in `peers` (before 24.1.6); a later save re-sending it fails. */
  danglingPeerUuid: boolean;
  /** §6 Q7: after an instance's listen port changes, the next reconfigure brings it up keyless on a random port. */
  listenPortBug_26_7_3: boolean;
  /** Latency of reconfigure/apply (configd), in milliseconds. */
  slowConfigdMs: number;
  /** The filter rollback timer (≤26.1 savepoint), in seconds. */
  rollbackSeconds: number;
  /** Privilege names the API key holds (auth.ts PRIVILEGES); null = all (an admin key). */
  privileges: string[] | null;
  /** The next filter apply cuts the management path (management cut, design §1.5). */
  cutManagementOnFilterApply: boolean;
}

export function defaultFaults(features: VersionFeatures): OpnSenseFaults {
  return {
    refuseAuth: false,
    dropAfterRequests: null,
    delayMs: 0,
    fragmentOutput: false,
    failEndpoint: null,
    setClientWithoutServersDetaches: features.clientServers,
    reconfigureFlushesAddresses: true,
    generalDisabledTearsDown: true,
    emptyJsonBody400: true,
    malformedJsonIsEmpty: features.malformedJsonIsEmpty,
    regression_24_7_0: features.regression_24_7_0,
    searchMissingInterfaceField: features.searchMissingInterface,
    danglingPeerUuid: !features.delClientUnlinks,
    listenPortBug_26_7_3: false,
    slowConfigdMs: 0,
    rollbackSeconds: 60,
    privileges: null,
    cutManagementOnFilterApply: false,
  };
}
