// The rule in plain words as the form is filled in (the server's AlertRule.description says
// the same once saved: domain/alerts.ts describeRule).
import type { AlertKind } from '$lib/gql/graphql';

export const KIND_LABELS: Record<AlertKind, string> = {
  TUNNEL_DOWN: 'Tunnel down',
  HANDSHAKE_STALE: 'Handshake older than',
  DEVICE_UNREACHABLE: 'Device unreachable',
};

export function rulePreview(kind: AlertKind, minutes: number | null, wanName: string | null, deviceName: string | null): string {
  const span = minutes === null ? 'N minutes' : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const where = wanName === null ? 'any WAN' : `WAN ${wanName}`;
  if (kind === 'TUNNEL_DOWN') return `Tell me when a tunnel in ${where} is down for ${span}`;
  if (kind === 'HANDSHAKE_STALE') return `Tell me when a tunnel in ${where} has had no handshake for ${span}`;
  if (deviceName !== null) return `Tell me when device ${deviceName} cannot be reached for ${span}`;
  return `Tell me when a device ${wanName === null ? '' : `of WAN ${wanName} `}cannot be reached for ${span}`;
}
