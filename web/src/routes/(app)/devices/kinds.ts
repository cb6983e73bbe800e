// What each kind of device needs, so the form asks only for that.
import type { DeviceKind } from '$lib/gql/graphql';

export interface KindNeeds {
  credentials: boolean;
  /** The kind's plain and TLS ports (the server takes TLS from them when not told); null: no network transport. */
  ports: { plain: number; tls: number } | null;
  tlsLabel: string;
  hostHint: string;
  secretLabel: string;
}

export const kindNeeds: Record<DeviceKind, KindNeeds> = {
  ROUTEROS_API: { credentials: true, ports: { plain: 8728, tls: 8729 }, tlsLabel: 'TLS (api-ssl)', hostHint: 'The router’s management address.', secretLabel: 'Password' },
  ROUTEROS_REST: { credentials: true, ports: { plain: 80, tls: 443 }, tlsLabel: 'HTTPS (www-ssl)', hostHint: 'REST runs over the www-ssl (HTTPS) or www service.', secretLabel: 'Password' },
  PFSENSE: { credentials: true, ports: { plain: 80, tls: 443 }, tlsLabel: 'HTTPS', hostHint: 'Needs the pfSense REST API v2 package.', secretLabel: 'API key' },
  OPNSENSE: { credentials: true, ports: { plain: 80, tls: 443 }, tlsLabel: 'HTTPS', hostHint: 'OPNsense 24.1 or later; the web GUI address.', secretLabel: 'API secret' },
  OPENWRT: { credentials: true, ports: { plain: 80, tls: 443 }, tlsLabel: 'HTTPS', hostHint: 'OpenWrt 22.03 or later with rpcd, uhttpd-mod-ubus and rpcd-mod-file.', secretLabel: 'Password' },
  LINUX: { credentials: false, ports: null, tlsLabel: '', hostHint: 'This host: Meshplane runs wg and ip locally.', secretLabel: 'Secret' },
};

/** The port used when none is given. */
export function defaultPort(needs: KindNeeds, tls: boolean): number | null {
  return needs.ports ? (tls ? needs.ports.tls : needs.ports.plain) : null;
}

/** What a port says about TLS: its kind's TLS port (true), plain port (false), or nothing (null). */
export function tlsOfPort(needs: KindNeeds, port: number | undefined): boolean | null {
  if (!needs.ports || port === undefined) return null;
  return port === needs.ports.tls ? true : port === needs.ports.plain ? false : null;
}
