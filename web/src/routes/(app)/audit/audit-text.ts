// How an audit entry reads: "grace@example.net downloaded the private key of laptop (.conf)",
// its changed fields as "listen port 51820 → 51821", secrets only as "changed".

export interface AuditChangeView {
  field: string;
  before: string | null;
  after: string | null;
  secret: boolean;
  valuesRecorded: boolean;
}

export interface AuditEntryView {
  action: string;
  actorLabel: string;
  targetType: string | null;
  targetName: string | null;
  details: string;
}

const FORMAT_SUFFIX: Record<string, string> = { WG_QUICK: '.conf', ROUTEROS: '.rsc', LINUX_BUNDLE: 'Linux bundle' };

/** The verb phrase of each action; the target's name follows it. */
const PHRASES: Record<string, string> = {
  'peer.create': 'added peer',
  'peer.update': 'changed peer',
  'peer.delete': 'deleted peer',
  'peer.enable': 'enabled peer',
  'peer.disable': 'disabled peer',
  'peer.expire': 'expired peer',
  'peer.rotateKey': 'rotated the keys of peer',
  'peer.downloadConfig': 'downloaded the private key of',
  'peer.qr.view': 'viewed the QR code (private key) of',
  'peer.deploy.overridePreflight': 'overrode preflight errors to deploy',
  'peer.drift.detected': 'found changes made on the device behind Meshplane\'s back for peer',
  'peer.drift.resolved': 'found the device as Meshplane put it again for peer',
  'peer.drift.repair': 'started auto-repair (a deploy of what was changed on the device) of peer',
  'psk.enable': 'added a preshared key between',
  'psk.disable': 'removed the preshared key between',
  'wan.create': 'created WAN',
  'wan.update': 'changed WAN',
  'wan.delete': 'deleted WAN',
  'wan.adopt': 'adopted existing tunnels into WAN',
  'device.create': 'added device',
  'device.update': 'changed device',
  'device.delete': 'deleted device',
  'device.deploy': 'deployed to',
  'device.revert': 'reverted',
  'device.clear': 'cleared Meshplane from',
  'device.verify': 'checked for drift on',
  'device.plan': 'planned a deploy to',
  'device.preflight': 'ran preflight on',
  'device.testConnection': 'tested the connection to',
  'device.statistics': 'read statistics from',
  'device.syncConfig': 'loaded devices from the configuration file',
  'device.discover': 'read the WireGuard setup of',
  'device.adopt': 'took over hand-made items (tagged in place) on',
  'subnet.create': 'added LAN',
  'subnet.update': 'changed LAN',
  'subnet.delete': 'removed LAN',
  'service.create': 'published service',
  'service.delete': 'unpublished service',
  'user.register': 'registered',
  'user.create': 'created user',
  'user.changeRole': 'changed the role of',
  'user.disable': 'disabled user',
  'user.enable': 'enabled user',
  'user.update': 'changed user',
  'directory.sync': 'synced',
  'invite.create': 'invited',
  'invite.revoke': 'revoked the invitation of',
  'apiToken.create': 'created API token',
  'apiToken.revoke': 'revoked API token',
  'alertRule.create': 'created alert rule',
  'alertRule.update': 'changed alert rule',
  'alertRule.delete': 'deleted alert rule',
  'webhook.create': 'added webhook',
  'webhook.update': 'changed webhook',
  'webhook.delete': 'deleted webhook',
  'webhook.rotateSecret': 'made a new signing secret for webhook',
  'webhook.test': 'sent a test event to webhook',
  'webhook.redeliver': 'queued an event again for webhook',
  'auth.login': 'signed in',
  'auth.logout': 'signed out',
  'session.revoke': 'ended',
  'session.revokeAll': 'signed out everywhere:',
};

/** Field names as people say them; others are split from camelCase ("portForwarded" → "port forwarded"). */
const FIELD_WORDS: Record<string, string> = {
  endpointHost: 'endpoint',
  endpointPort: 'endpoint port',
  listenPort: 'listen port',
  tunnelCidr: 'tunnel range',
  tunnelCidr6: 'IPv6 tunnel range',
  servicesCidr: 'services range',
  servicesCidr6: 'IPv6 services range',
  natPool: 'NAT pool',
  natCidr: 'translated range',
  mtu: 'MTU',
  tunnelIp: 'tunnel IP',
  tunnelIp6: 'IPv6 tunnel IP',
  byoKey: 'own key',
  clientAddress: 'client address',
  cidr: 'range',
  caPem: 'CA certificate',
  tls: 'TLS',
  tlsVerify: 'TLS verification',
  timeoutMs: 'timeout (ms)',
  managementAddress: 'management address',
  publicKey: 'public key',
  privateKey: 'private key',
  presharedKey: 'preshared key',
  secret: 'password or API key',
  expiresAt: 'expiry',
  hubRedundancy: 'redundant hubs',
  selfService: 'open for self-service',
  selfServicePeerLimit: 'devices per user',
  interfaceName: 'interface name',
  autoDeploy: 'automatic deploy',
};

export function fieldWord(field: string): string {
  return FIELD_WORDS[field] ?? field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** The actor as a person reads it: the e-mail address without "(session)" / "(token)". */
export function actorName(label: string): string {
  return label.replace(/\s*\((?:session|token|api token)\)\s*$/i, '');
}

export function parseDetails(details: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(details);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** What happened, after the actor: "downloaded the private key of" (the target follows) and what goes after it (" (.conf)"). */
export function phraseOf(entry: AuditEntryView): { verb: string; after: string } {
  const details = parseDetails(entry.details);
  if (entry.action === 'peer.downloadConfig') {
    const suffix = FORMAT_SUFFIX[String(details.format)] ?? '';
    return { verb: PHRASES[entry.action]!, after: suffix ? ` (${suffix})` : '' };
  }
  if (entry.action.startsWith('mutation.')) {
    const codes = Array.isArray(details.codes) ? ` (${details.codes.join(', ')})` : '';
    return { verb: `was refused: ${entry.action.slice('mutation.'.length)}`, after: codes };
  }
  const known = PHRASES[entry.action];
  if (known) return { verb: known, after: '' };
  if (entry.action.startsWith('device.')) return { verb: `ran ${entry.action.slice('device.'.length)} on`, after: '' };
  return { verb: entry.action, after: '' };
}

/** The target's name as the sentence shows it (none when the sentence names nobody else, e.g. "signed in"). */
export function shownTarget(entry: AuditEntryView): string | null {
  // Registering is done by the person registered: the actor already names them.
  if (entry.action === 'auth.login' || entry.action === 'auth.logout' || entry.action === 'user.register') return null;
  return entry.targetName;
}

const MAX_VALUE = 48;

/** A peer's own value that, when absent, is the WAN's. */
const INHERITED = new Set(['listenPort', 'keepalive']);

function shownValue(value: string | null, absent = 'absent'): string {
  if (value === null || value === '') return absent;
  if (value === 'true') return 'on';
  if (value === 'false') return 'off';
  return value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE - 1)}…` : value;
}

/** "listen port 51820 → 51821", "endpoint absent → vpn.example.net", "private key changed" (`action`: a peer's absent listen port or keepalive is the WAN default). */
export function changeText(change: AuditChangeView, action = ''): string {
  const word = fieldWord(change.field);
  if (change.secret) return `${word} changed`;
  if (!change.valuesRecorded) return `${word} changed`;
  const absent = action.startsWith('peer.') && INHERITED.has(change.field) ? 'WAN default' : 'absent';
  return `${word} ${shownValue(change.before, absent)} → ${shownValue(change.after, absent)}`;
}

/** Details the sentence and the change list do not already say, as "key: value" (the format of a download is in the sentence). */
export function otherDetails(entry: AuditEntryView): string[] {
  const details = parseDetails(entry.details);
  const said = new Set(['targetName', 'changes', 'changed', 'name', 'format', 'wanId', 'peerId', 'peerAId', 'peerBId', 'userId', 'codes', 'device']);
  if (entry.targetName && details.email === entry.targetName) said.add('email');
  return Object.entries(details)
    .filter(([key, value]) => !said.has(key) && value !== null && value !== undefined && value !== '')
    .map(([key, value]) => `${fieldWord(key)}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}
