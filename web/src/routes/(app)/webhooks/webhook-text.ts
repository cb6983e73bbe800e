// Words for the webhooks page: event groups, a delivery's outcome.

/** The event types grouped as the form shows them (a type of an unknown group goes under "Other"). */
export const EVENT_GROUPS: Array<{ label: string; prefix: string[] }> = [
  { label: 'Peers', prefix: ['peer.'] },
  { label: 'Tunnels', prefix: ['tunnel.'] },
  { label: 'Deploys', prefix: ['deploy.', 'drift.'] },
  { label: 'Devices', prefix: ['device.'] },
  { label: 'Alerts', prefix: ['alert.'] },
];

export function groupEvents(types: readonly string[]): Array<{ label: string; types: string[] }> {
  const groups = EVENT_GROUPS.map((group) => ({ label: group.label, types: types.filter((type) => group.prefix.some((prefix) => type.startsWith(prefix))) }));
  const other = types.filter((type) => !groups.some((group) => group.types.includes(type)));
  return [...groups, { label: 'Other', types: other }].filter((group) => group.types.length > 0);
}

const EVENT_WORDS: Record<string, string> = {
  'peer.created': 'created',
  'peer.deleted': 'deleted',
  'peer.disabled': 'disabled by someone',
  'peer.expired': 'expired',
  'tunnel.down': 'down (after the grace period)',
  'tunnel.up': 'up again',
  'deploy.failed': 'a deploy failed',
  'drift.detected': 'a verify found drift',
  'device.unreachable': 'unreachable',
  'device.reachable': 'reachable again',
  'alert.firing': 'a rule fires',
  'alert.resolved': 'a rule resolved',
};

export const eventWords = (type: string) => EVENT_WORDS[type] ?? type;

export interface DeliveryLike {
  status: string;
  lastStatusCode?: number | null;
  lastError?: string | null;
  attempts: number;
  nextAttemptAt?: string | null;
}

/** The answer in a few words: "200", "HTTP 500 … (retrying)", "refused: 10.0.0.5 is a private address". */
export function deliveryOutcome(delivery: DeliveryLike): string {
  if (delivery.status === 'SUCCEEDED') return `delivered (HTTP ${delivery.lastStatusCode ?? '?'})`;
  if (delivery.status === 'DELIVERING') return 'sending now';
  if (delivery.status === 'PENDING' && delivery.attempts === 0) return 'waiting to be sent';
  const error = delivery.lastError ?? (delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : 'failed');
  return delivery.status === 'PENDING' ? `${error} — will retry` : error;
}

export const statusBadge: Record<string, string> = { SUCCEEDED: 'ok', FAILED: 'bad', PENDING: 'warn', DELIVERING: 'info' };
