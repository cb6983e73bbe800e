// `wg show <interface> dump`: one tab-separated line for the interface
//   private-key  public-key  listen-port  fwmark
// then one per peer
//   public-key  preshared-key  endpoint  allowed-ips  latest-handshake  rx  tx  persistent-keepalive
// Keys are fingerprinted while parsing, so neither secret leaves this module, except for
// discover() (discover.ts), which asks for them as they are: a root reading is where an
// adoption gets the private key it keeps. Error messages name line numbers, never line
// contents (the first line holds the private key).
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

/** What a secret becomes while parsing: a fingerprint (readState) or itself (discover). */
type SecretMap = (key: string) => string;

function parsePeer(fields: string[], line: number, secret: SecretMap): WgPeerDump {
  if (fields.length !== 8) bad(line, `${fields.length} fields, expected 8`);
  const [publicKey, preshared, endpoint, allowed, handshake, rx, tx, keepalive] = fields as [string, string, string, string, string, string, string, string];
  const presharedKey = none(preshared);
  return {
    publicKey,
    presharedKeyFingerprint: presharedKey === null ? null : secret(presharedKey),
    endpoint: none(endpoint),
    allowedIps: allowed === '(none)' ? [] : allowed.split(','),
    latestHandshake: Number(decimal(handshake, line, 'latest-handshake')),
    rxBytes: decimal(rx, line, 'rx'),
    txBytes: decimal(tx, line, 'tx'),
    persistentKeepalive: keepalive === 'off' ? null : Number(decimal(keepalive, line, 'persistent-keepalive')),
  };
}

function parseDump(text: string, secret: SecretMap): WgInterfaceDump {
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (lines.length === 0) bad(1, 'no output');
  const head = (lines[0] as string).split('\t');
  if (head.length !== 4) bad(1, `${head.length} fields, expected 4`);
  const [privateKey, publicKey, listenPort, fwmark] = head as [string, string, string, string];
  const key = none(privateKey);
  return {
    privateKeyFingerprint: key === null ? null : secret(key),
    publicKey: none(publicKey),
    listenPort: Number(decimal(listenPort, 1, 'listen-port')),
    fwmark: fwmark === 'off' ? null : fwmark,
    peers: lines.slice(1).map((line, index) => parsePeer(line.split('\t'), index + 2, secret)),
  };
}

export function parseWgInterfaceDump(text: string): WgInterfaceDump {
  return parseDump(text, keyFingerprint);
}

/** An interface's keys as they are (root's reading): for discover() only, never for plans. */
export interface WgInterfaceKeys {
  privateKey: string | null;
  publicKey: string | null;
  listenPort: number;
  fwmark: string | null;
  peers: Array<Omit<WgPeerDump, 'presharedKeyFingerprint'> & { presharedKey: string | null }>;
}

export function parseWgInterfaceKeys(text: string): WgInterfaceKeys {
  const { privateKeyFingerprint, peers, ...rest } = parseDump(text, (key) => key);
  return {
    ...rest,
    privateKey: privateKeyFingerprint,
    peers: peers.map(({ presharedKeyFingerprint, ...peer }) => ({ ...peer, presharedKey: presharedKeyFingerprint })),
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
