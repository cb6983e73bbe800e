// `wg show <interface> dump`: one tab-separated line for the interface
//   private-key  public-key  listen-port  fwmark
// then one per peer
//   public-key  preshared-key  endpoint  allowed-ips  latest-handshake  rx  tx  persistent-keepalive
// `wg show all dump` prints the same lines for every interface, each with the interface name
// in front (5 and 9 fields).
// Keys are fingerprinted while parsing, so neither secret leaves this module, except for a
// driver's discover(), which asks for them as they are: a root reading is where an adoption
// gets the private key it keeps. Error messages name line numbers, never line contents (the
// interface line holds the private key).
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

interface NumberedLine {
  fields: string[];
  /** 1-based, in the text as printed. */
  line: number;
}

function numberedLines(text: string): NumberedLine[] {
  return text
    .split('\n')
    .map((line, index) => ({ fields: line.split('\t'), line: index + 1, empty: line.length === 0 }))
    .filter((entry) => !entry.empty)
    .map(({ fields, line }) => ({ fields, line }));
}

function parseInterface(head: NumberedLine, peers: NumberedLine[], secret: SecretMap): WgInterfaceDump {
  if (head.fields.length !== 4) bad(head.line, `${head.fields.length} fields, expected 4`);
  const [privateKey, publicKey, listenPort, fwmark] = head.fields as [string, string, string, string];
  const key = none(privateKey);
  return {
    privateKeyFingerprint: key === null ? null : secret(key),
    publicKey: none(publicKey),
    listenPort: Number(decimal(listenPort, head.line, 'listen-port')),
    fwmark: fwmark === 'off' ? null : fwmark,
    peers: peers.map((peer) => parsePeer(peer.fields, peer.line, secret)),
  };
}

function parseDump(text: string, secret: SecretMap): WgInterfaceDump {
  const lines = numberedLines(text);
  const [head, ...peers] = lines;
  if (head === undefined) bad(1, 'no output');
  return parseInterface(head, peers, secret);
}

/**
 * `wg show all dump`: interface name → its dump. An interface's line has 5 fields, a peer's 9;
 * a peer's name must be the interface line's just above it. Empty output = no interfaces.
 */
function parseAllDump(text: string, secret: SecretMap): Map<string, WgInterfaceDump> {
  const groups = new Map<string, { head: NumberedLine; peers: NumberedLine[] }>();
  let current: string | null = null;
  for (const { fields, line } of numberedLines(text)) {
    const [name, ...rest] = fields as [string, ...string[]];
    if (rest.length === 4) {
      if (groups.has(name)) bad(line, 'an interface is listed twice');
      groups.set(name, { head: { fields: rest, line }, peers: [] });
      current = name;
    } else if (rest.length === 8) {
      if (current !== name) bad(line, 'a peer line does not follow its interface line');
      groups.get(name)!.peers.push({ fields: rest, line });
    } else {
      bad(line, `${fields.length} fields, expected 5 or 9`);
    }
  }
  return new Map([...groups].map(([name, { head, peers }]) => [name, parseInterface(head, peers, secret)]));
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

function asKeys({ privateKeyFingerprint, peers, ...rest }: WgInterfaceDump): WgInterfaceKeys {
  return {
    ...rest,
    privateKey: privateKeyFingerprint,
    peers: peers.map(({ presharedKeyFingerprint, ...peer }) => ({ ...peer, presharedKey: presharedKeyFingerprint })),
  };
}

const asIs: SecretMap = (key) => key;

export function parseWgInterfaceKeys(text: string): WgInterfaceKeys {
  return asKeys(parseDump(text, asIs));
}

/** `wg show all dump`, keys fingerprinted: interface name → its dump. */
export function parseWgAllDump(text: string): Map<string, WgInterfaceDump> {
  return parseAllDump(text, keyFingerprint);
}

/** `wg show all dump` with the keys as they are: for discover() only. */
export function parseWgAllKeys(text: string): Map<string, WgInterfaceKeys> {
  return new Map([...parseAllDump(text, asIs)].map(([name, dump]) => [name, asKeys(dump)]));
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
