// The client address that rate limits and the audit log key on. By default the socket's
// peer: X-Forwarded-For is whatever the client wrote, so trusting it by default would let
// every request claim a fresh address and walk around the per-address sign-in limit. Behind
// reverse proxies, MESHPLANE_TRUST_PROXY says how many of them to trust; each appends the
// address it saw, so the right one is that many entries from the right (what a client put
// further left is never used).
import net from 'node:net';
import type http from 'node:http';

/** MESHPLANE_TRUST_PROXY: unset/false/0 (default: ignore X-Forwarded-For), true (one proxy), or how many proxies. */
export function trustedProxiesFrom(env: NodeJS.ProcessEnv): number {
  const value = (env.MESHPLANE_TRUST_PROXY ?? '').trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0') return 0;
  if (value === 'true') return 1;
  if (/^[1-9]\d?$/.test(value)) return Number(value);
  throw new Error(`MESHPLANE_TRUST_PROXY must be true, false or the number of proxies in front of Meshplane, not ${JSON.stringify(env.MESHPLANE_TRUST_PROXY)}`);
}

export function clientAddress(request: http.IncomingMessage | undefined, trustedProxies: number): string {
  const peer = request?.socket.remoteAddress ?? 'unknown';
  if (!request || trustedProxies === 0) return peer;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((entry) => entry.trim());
  // Nearest first: the socket's peer (the last proxy), then what each trusted proxy appended.
  let address = peer;
  for (let hop = 1; hop <= trustedProxies && hop <= forwarded.length; hop++) {
    const entry = forwarded[forwarded.length - hop]!;
    // A proxy that wrote no address (or garbage) ends the chain: keep the last one we could check.
    if (net.isIP(entry) === 0) break;
    address = entry;
  }
  return address;
}
