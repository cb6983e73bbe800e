// Which ports of a device kind speak TLS. A device stored with TLS toward its plain port (or
// the reverse) stalls in the handshake and looks like a timeout, so when the operator does not
// say, TLS follows the port: the vendor's plain port is plain, its TLS port is TLS, no port
// means the TLS port (the secure default), and any other port must be said.
import { DomainError } from './errors.js';

type NetworkKind = 'ROUTEROS_API' | 'ROUTEROS_REST' | 'PFSENSE' | 'OPNSENSE' | 'OPENWRT';

interface WellKnownPorts {
  plain: number;
  tls: number;
  /** How the vendor names the two (for messages). */
  plainName: string;
  tlsName: string;
}

export const WELL_KNOWN_PORTS: Readonly<Record<NetworkKind, WellKnownPorts>> = {
  ROUTEROS_API: { plain: 8728, tls: 8729, plainName: 'api', tlsName: 'api-ssl' },
  ROUTEROS_REST: { plain: 80, tls: 443, plainName: 'www', tlsName: 'www-ssl' },
  PFSENSE: { plain: 80, tls: 443, plainName: 'HTTP', tlsName: 'HTTPS' },
  OPNSENSE: { plain: 80, tls: 443, plainName: 'HTTP', tlsName: 'HTTPS' },
  OPENWRT: { plain: 80, tls: 443, plainName: 'HTTP', tlsName: 'HTTPS' },
};

function portsOf(kind: string): WellKnownPorts | null {
  return kind in WELL_KNOWN_PORTS ? WELL_KNOWN_PORTS[kind as NetworkKind] : null;
}

/** The port a device is reached on when none is stored. */
export function defaultPort(kind: string, tls: boolean): number | null {
  const ports = portsOf(kind);
  return ports ? (tls ? ports.tls : ports.plain) : null;
}

/** Whether the port is the kind's TLS port (true), its plain port (false), or neither (null). */
export function tlsOfPort(kind: string, port: number): boolean | null {
  const ports = portsOf(kind);
  if (ports?.plain === port) return false;
  if (ports?.tls === port) return true;
  return null;
}

/**
 * The TLS setting a new device gets: `tls` when given; otherwise from the port (none: TLS on
 * the TLS port). A port that is neither of the kind's two must say (INVALID_INPUT on `tls`).
 * LINUX devices have no transport to secure: undefined (the stored value is unused).
 */
export function resolveTls(kind: string, port: number | null | undefined, tls: boolean | null | undefined): boolean | undefined {
  if (tls != null) return tls;
  const ports = portsOf(kind);
  if (!ports) return undefined;
  if (port == null) return true;
  const known = tlsOfPort(kind, port);
  if (known !== null) return known;
  throw new DomainError(
    'INVALID_INPUT',
    `tls: say whether port ${port} speaks TLS (${ports.plain} is ${ports.plainName}, plain; ${ports.tls} is ${ports.tlsName}, TLS)`,
    { field: 'tls' },
  );
}

/**
 * What to tell an operator whose TLS handshake stalled or failed after the TCP connection
 * worked: most often TLS toward the plain port.
 */
export function tlsHandshakeHint(kind: string, port: number): string {
  const ports = portsOf(kind);
  if (!ports) return 'is TLS enabled on this port?';
  const plain = port === ports.plain ? `is this the plain ${ports.plainName} port? ` : 'is TLS enabled on this port? ';
  return `${plain}(${ports.plain} is plain, ${ports.tls} TLS)`;
}
