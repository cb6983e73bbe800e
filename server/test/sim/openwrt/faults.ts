// Fault switches (design §1.1), mutable at any time through `sim.faults`, in the spirit of the
// pfSense and RouterOS simulators. The front (server.ts, sessions.ts) reads the transport and
// session ones; the state (runtime, objects) reads the device-behaviour ones from the same object.
import { defaultBehaviour, type OpenWrtBehaviour } from './model.js';

export interface CallFault {
  object: string;
  method: string;
  /** The ubus status the call answers (result [status]) … */
  status?: number;
  /** … or a JSON-RPC error instead (e.g. -32000, -32003). */
  rpcError?: number;
  /** How many matching calls fail (default: all). */
  times?: number;
}

export interface SlowCall {
  object: string;
  method: string;
  /** Simulated seconds the callee takes: past script_timeout (60) the call answers -32003. */
  seconds: number;
}

/**
 * The wire's switches plus the state's (model.ts OpenWrtBehaviour): one object, so
 * `sim.faults.nftPrefixNat = false` reaches the runtime as `sim.faults.dropAfterCalls = 3`
 * reaches the front.
 */
export interface OpenWrtFaults extends OpenWrtBehaviour {
  /** Every login answers [6], whatever the credentials. */
  refuseLogin: boolean;
  /** Answer this many more HTTP requests, then destroy the socket of the next (one-shot). */
  dropAfterRequests: number | null;
  /** Run this many more JSON-RPC calls (also inside a batch), then destroy the socket (one-shot). */
  dropAfterCalls: number | null;
  /** Delay before each reply, in milliseconds of real time. */
  delayMs: number;
  /** Every reply body goes out one byte per write (chunked). */
  fragmentOutput: boolean;
  failCall: CallFault | null;
  /** ubus functions denied to every session, on top of the ACLs ("uci.confirm"). */
  denyAcl: string[];
  /** A login whose hash is empty accepts any password (rpcd does: "password is not set"); off = it is refused. */
  emptyPasswordAcceptsAny: boolean;
  /** Root's sessions get -32002 on uci.commit/revert and session.destroy (only LuCI's ACL files installed). */
  rootLacksCommit: boolean;
  /** Queue requests beyond this many in flight (uhttpd max_requests); null = no limit. */
  maxConcurrent: number | null;
  /** Plain HTTP answers 307 to the HTTPS port (uhttpd redirect_https); off = /ubus served over HTTP too. */
  httpsRedirect307: boolean;
  /** Every request gets 403 as a private client addressing a public address would (uhttpd rfc1918_filter). */
  rfc1918Filter403: boolean;
  slowCall: SlowCall | null;
}

export function defaultFaults(): OpenWrtFaults {
  return {
    ...defaultBehaviour(),
    refuseLogin: false,
    dropAfterRequests: null,
    dropAfterCalls: null,
    delayMs: 0,
    fragmentOutput: false,
    failCall: null,
    denyAcl: [],
    emptyPasswordAcceptsAny: true,
    rootLacksCommit: false,
    maxConcurrent: 3,
    httpsRedirect307: true,
    rfc1918Filter403: false,
    slowCall: null,
  };
}

/** Consumes one use of the call fault when it matches. */
export function takeCallFault(faults: OpenWrtFaults, object: string, method: string): CallFault | null {
  const fault = faults.failCall;
  if (!fault || fault.object !== object || fault.method !== method) return null;
  if (fault.times !== undefined) {
    if (fault.times <= 0) return null;
    fault.times--;
  }
  return fault;
}

/**
 * Counts one HTTP request (dropAfterRequests) or one JSON-RPC call (dropAfterCalls) against
 * its one-shot switch: true when this one must drop the connection (the switch then clears).
 */
export function takeDrop(faults: OpenWrtFaults, switchName: 'dropAfterRequests' | 'dropAfterCalls'): boolean {
  const left = faults[switchName];
  if (left === null) return false;
  if (left <= 0) {
    faults[switchName] = null;
    return true;
  }
  faults[switchName] = left - 1;
  return false;
}
