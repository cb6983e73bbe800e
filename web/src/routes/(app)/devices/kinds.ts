// What each kind of device needs, so the form asks only for that.
import type { DeviceKind } from '$lib/gql/graphql';

export interface KindNeeds {
  credentials: boolean;
  tls: boolean;
  defaultPort: (tls: boolean) => number | null;
  hostHint: string;
  secretLabel: string;
}

export const kindNeeds: Record<DeviceKind, KindNeeds> = {
  ROUTEROS_API: { credentials: true, tls: true, defaultPort: (tls) => (tls ? 8729 : 8728), hostHint: 'The router’s management address.', secretLabel: 'Password' },
  ROUTEROS_REST: { credentials: true, tls: false, defaultPort: () => 443, hostHint: 'REST runs over HTTPS (www-ssl service).', secretLabel: 'Password' },
  PFSENSE: { credentials: true, tls: false, defaultPort: () => 443, hostHint: 'Needs the pfSense REST API v2 package.', secretLabel: 'API key' },
  LINUX: { credentials: false, tls: false, defaultPort: () => null, hostHint: 'This host: Meshplane runs wg and ip locally.', secretLabel: 'Secret' },
};
