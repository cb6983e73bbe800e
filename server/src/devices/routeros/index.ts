// Public surface of the RouterOS driver: the factory picks the binary API or REST from the
// device kind and limits requests in flight to the device's concurrency.
import { DeviceError, type DeviceTarget } from '../driver.js';
import { Semaphore } from '../../infra/semaphore.js';
import { requestLimit, type RequestLimiter } from '../limits.js';
import { ApiTransport, apiClientOptions } from './api-transport.js';
import { RouterOsDriver, type RouterOsDriverOptions } from './driver.js';
import { LimitedTransport } from './limited-transport.js';
import { RestTransport, restOptions } from './rest-transport.js';
import type { RouterOsTransport } from './transport.js';

export { RouterOsDriver, type RouterOsDriverOptions } from './driver.js';
export { waitForHandshake, type HandshakeProbeOptions, type HandshakeProbeResult } from './handshake.js';
export type { RouterOsTransport } from './transport.js';

/** `limiter`: the device's shared one (devices/limits.ts); without it, this transport limits only itself. */
export function createRouterOsTransport(target: DeviceTarget, limiter?: RequestLimiter): RouterOsTransport {
  const inner = target.kind === 'ROUTEROS_API' ? new ApiTransport(apiClientOptions(target)) : new RestTransport(restOptions(target));
  return new LimitedTransport(inner, limiter ?? new Semaphore(requestLimit(target.concurrency)));
}

export interface CreateRouterOsDriverOptions extends Pick<RouterOsDriverOptions, 'now' | 'pipelineWindow'> {
  limiter?: RequestLimiter;
}

export function createRouterOsDriver(target: DeviceTarget, { limiter, ...options }: CreateRouterOsDriverOptions = {}): RouterOsDriver {
  if (target.kind !== 'ROUTEROS_API' && target.kind !== 'ROUTEROS_REST') {
    throw new DeviceError('PROTOCOL', `device ${target.name} is ${target.kind}, not a RouterOS device`);
  }
  return new RouterOsDriver(target.kind, createRouterOsTransport(target, limiter), { apiUser: target.username ?? 'admin', deviceName: target.name, ...options });
}
