// `wg show <interface> dump`: one tab-separated line for the interface
//   private-key  public-key  listen-port  fwmark
// then one per peer
//   public-key  preshared-key  endpoint  allowed-ips  latest-handshake  rx  tx  persistent-keepalive
// Keys are fingerprinted while parsing, so neither secret leaves this module. Error messages
// name line numbers, never line contents (the first line holds the private key).
import type { PeerStatistics } from '../driver.js';
import { DeviceError } from '../driver.js';
import { keyFingerprint } from './secrets.js';

export interface WgPeerDump {
  publicKey: string;
  presharedKeyFingerprint: string | null;
  endpoint: string | null;
  allowedIps: string[];
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  /** Decimal strings: counters outgrow 2^53. */
  rxBytes: string;
  txBytes: string;
  persistentKeepalive: number | null;
}

export interface WgInterfaceDump {
  privateKeyFingerprint: string | null;
  publicKey: string | null;
  listenPort: number;
  fwmark: string | null;
  peers: WgPeerDump[];
}

const DECIMAL = /^\d+$/;

function bad(line: number, why: string): never {
  throw new DeviceError('PROTOCOL', `unexpected \`wg show dump\` output at line ${line}: ${why}`);
}

function decimal(value: string, line: number, what: string): string {
  if (!DECIMAL.test(value)) bad(line, `${what} is not a number`);
  return value;
}

function none(value: string): string | null {
  return value === '(none)' ? null : value;
}

function parsePeer(fields: string[], line: number): WgPeerDump {
  if (fields.length !== 8) bad(line, `${fields.length} fields, expected 8`);
  const [publicKey, preshared, endpoint, allowed, handshake, rx, tx, keepalive] = fields as [string, string, string, string, string, string, string, string];
  const presharedKey = none(preshared);
  return {
    publicKey,
    presharedKeyFingerprint: presharedKey === null ? null : keyFingerprint(presharedKey),
    endpoint: none(endpoint),
    allowedIps: allowed === '(none)' ? [] : allowed.split(','),
    latestHandshake: Number(decimal(handshake, line, 'latest-handshake')),
    rxBytes: decimal(rx, line, 'rx'),
    txBytes: decimal(tx, line, 'tx'),
    persistentKeepalive: keepalive === 'off' ? null : Number(decimal(keepalive, line, 'persistent-keepalive')),
  };
}

export function parseWgInterfaceDump(text: string): WgInterfaceDump {
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (lines.length === 0) bad(1, 'no output');
  const head = (lines[0] as string).split('\t');
  if (head.length !== 4) bad(1, `${head.length} fields, expected 4`);
  const [privateKey, publicKey, listenPort, fwmark] = head as [string, string, string, string];
  const secret = none(privateKey);
  return {
    privateKeyFingerprint: secret === null ? null : keyFingerprint(secret),
    publicKey: none(publicKey),
    listenPort: Number(decimal(listenPort, 1, 'listen-port')),
    fwmark: fwmark === 'off' ? null : fwmark,
    peers: lines.slice(1).map((line, index) => parsePeer(line.split('\t'), index + 2)),
  };
}

export function toPeerStatistics(dump: WgInterfaceDump): PeerStatistics[] {
  return dump.peers.map((peer) => ({
    publicKey: peer.publicKey,
    rxBytes: peer.rxBytes,
    txBytes: peer.txBytes,
    lastHandshake: peer.latestHandshake === 0 ? null : new Date(peer.latestHandshake * 1000),
    currentEndpoint: peer.endpoint,
  }));
}
