// Pure: what `wg set` must do so the running WireGuard device matches its committed UCI
// peers. netifd applies peer sections only on a teardown (classic handler, reference §7.1),
// which resets every session; `wg set` changes one peer and leaves the others' handshakes and
// counters alone. Every peer section of the interface counts, hand-made ones too: the
// running device is what all of them describe.
import { isIP } from 'node:net';
import type { WgInterfaceDump } from '../shared/wg-dump.js';

/** A UCI section as `uci get` returns it (options are strings or lists). */
export type UciValues = Record<string, unknown>;

export interface RuntimePeer {
  publicKey: string;
  /** Fingerprint (shared/secrets.ts) or null. */
  presharedKey: string | null;
  allowedIps: string[];
  /** "ip:port" / "[v6]:port" when the host is a literal address; null when none; undefined: a name, not compared. */
  endpoint: string | null | undefined;
  keepalive: number | null;
}

export type WgSetStep =
  | { op: 'set'; publicKey: string; presharedKey: string | null; allowedIps: string[]; endpoint: string | null; keepalive: number | null; why: string }
  | { op: 'remove'; publicKey: string; why: string };

export interface RuntimeDiff {
  steps: WgSetStep[];
  /** The device's own key or port differ from UCI: only a teardown (down/up) fixes that. */
  restart: string | null;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : [];
}

/**
 * "host:port" as `wg` prints an endpoint, for a literal address; undefined for a name: netifd
 * resolved it at setup, and `wg set` is given literal endpoints only (a running peer keeps its own).
 */
export function endpointOf(host: string, port: string): string | null | undefined {
  if (host === '') return null;
  const bare = host.replace(/^\[|\]$/g, '');
  const version = isIP(bare);
  if (version === 0) return undefined;
  const portNumber = port === '' ? '51820' : port;
  return version === 6 ? `[${bare}]:${portNumber}` : `${bare}:${portNumber}`;
}

/** The peers a `wireguard_<if>` section list describes, as the handler would set them up. */
export function runtimePeersOf(sections: readonly UciValues[], fingerprint: (key: string) => string): RuntimePeer[] {
  return sections
    .filter((section) => text(section.public_key) !== '' && text(section.disabled) !== '1')
    .map((section) => {
      const psk = text(section.preshared_key);
      const keepalive = text(section.persistent_keepalive);
      return {
        publicKey: text(section.public_key),
        presharedKey: psk === '' ? null : fingerprint(psk),
        allowedIps: list(section.allowed_ips).sort(),
        endpoint: endpointOf(text(section.endpoint_host), text(section.endpoint_port)),
        keepalive: keepalive === '' || keepalive === '0' ? null : Number(keepalive),
      };
    });
}

function normalisedAllowed(values: readonly string[]): string {
  return [...values].map((value) => value.toLowerCase()).sort().join(',');
}

export function runtimeDiff(wanted: readonly RuntimePeer[], dump: WgInterfaceDump, own: { privateKey: string | null; listenPort: string }): RuntimeDiff {
  const steps: WgSetStep[] = [];
  const running = new Map(dump.peers.map((peer) => [peer.publicKey, peer]));
  for (const peer of wanted) {
    const now = running.get(peer.publicKey);
    const set = (why: string) => steps.push({ op: 'set', publicKey: peer.publicKey, presharedKey: peer.presharedKey, allowedIps: peer.allowedIps, endpoint: peer.endpoint ?? null, keepalive: peer.keepalive, why });
    if (!now) {
      set('not running');
      continue;
    }
    const differences: string[] = [];
    if (normalisedAllowed(now.allowedIps) !== normalisedAllowed(peer.allowedIps)) differences.push('allowed-ips');
    if (peer.endpoint !== undefined && peer.endpoint !== null && now.endpoint !== peer.endpoint) differences.push('endpoint');
    if ((now.persistentKeepalive ?? null) !== peer.keepalive) differences.push('persistent-keepalive');
    if (now.presharedKeyFingerprint !== peer.presharedKey) differences.push('preshared-key');
    if (differences.length > 0) set(differences.join(', '));
  }
  const known = new Set(wanted.map((peer) => peer.publicKey));
  for (const peer of dump.peers) if (!known.has(peer.publicKey)) steps.push({ op: 'remove', publicKey: peer.publicKey, why: 'not in UCI' });
  const reasons: string[] = [];
  if (own.privateKey !== null && dump.privateKeyFingerprint !== own.privateKey) reasons.push('private key');
  if (own.listenPort !== '' && String(dump.listenPort) !== own.listenPort) reasons.push(`listen port ${dump.listenPort} instead of ${own.listenPort}`);
  return { steps, restart: reasons.length > 0 ? reasons.join(' and ') : null };
}

/** The argv of `wg` for one step; a PSK is passed as a file path, never on the command line. */
export function wgSetArgs(ifname: string, step: WgSetStep, pskFile: string | null): string[] {
  if (step.op === 'remove') return ['set', ifname, 'peer', step.publicKey, 'remove'];
  return [
    'set', ifname, 'peer', step.publicKey,
    'preshared-key', pskFile ?? '/dev/null',
    ...(step.endpoint === null ? [] : ['endpoint', step.endpoint]),
    'persistent-keepalive', step.keepalive === null ? 'off' : String(step.keepalive),
    'allowed-ips', step.allowedIps.join(','),
  ];
}

