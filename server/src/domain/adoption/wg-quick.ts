// wg-quick .conf files → DiscoveredInterface, so an uploaded hub config (or one file per
// site) goes through the same proposal as a device's reading.
//
// The reading follows what the tools themselves accept, not an INI library: wg-quick(8)
// takes Address/DNS/MTU/Table/Pre-/PostUp/-Down/SaveConfig out of [Interface] and passes
// every other line to wg(8), which strips `#` comments, removes all white space, matches
// keys and section headers case-insensitively and repeats [Peer] sections. INI parsers
// merge repeated sections and lose line numbers, and both matter here. The shapes wg-easy
// (`# Client: name (id)` above each [Peer]) and wg-portal (`# -WGP- Display name: …`
// inside a section) write are understood for peer names; their other metadata comments and
// every setting Meshplane has no place for are kept in `unmodelled`, never dropped. A
// wrong line becomes a problem with its file and line number; nothing here throws.
//
// Secrets: private and preshared keys go only into the fields meant for them; no problem
// message or unmodelled value ever repeats a value whose key names a key (wg-portal even
// keeps each peer's private key in a comment: it is reported as present, not copied).
import { canonicalAddress, formatAddress, formatCidr, printable, tryParseAddress, tryParseCidr } from '../ip.js';
import { isWireGuardKey, publicKeyFromPrivate } from '../keys.js';
import { isInterfaceName, isValidHost } from '../validation.js';
import type { DiscoveredInterface, DiscoveredPeer, UnmodelledSetting } from './discovery.js';

export interface WgQuickFile {
  name: string;
  content: string;
}

export interface WgQuickProblem {
  /** The file's name as given (a repeated name carries its position: "wg0.conf (2)"). */
  file: string;
  /** 1-based; 0 when it is about the whole file. */
  line: number;
  message: string;
}

export interface WgQuickImport {
  /** One per file that has an [Interface] or a [Peer] section, in the order given. */
  interfaces: DiscoveredInterface[];
  problems: WgQuickProblem[];
}

type Section = 'none' | 'interface' | 'peer' | 'unknown';

/** wg-quick keeps `#` in hook commands (it reads them unstripped); a `#` there is part of the shell line. */
const HOOKS = new Set(['preup', 'postup', 'predown', 'postdown']);
const SPELLING: Record<string, string> = {
  privatekey: 'PrivateKey', listenport: 'ListenPort', address: 'Address', mtu: 'MTU', dns: 'DNS', table: 'Table',
  preup: 'PreUp', postup: 'PostUp', predown: 'PreDown', postdown: 'PostDown', saveconfig: 'SaveConfig', fwmark: 'FwMark',
  publickey: 'PublicKey', presharedkey: 'PresharedKey', allowedips: 'AllowedIPs', endpoint: 'Endpoint', persistentkeepalive: 'PersistentKeepalive',
};
const PEER_KEYS = new Set(['publickey', 'presharedkey', 'allowedips', 'endpoint', 'persistentkeepalive']);
/** Keys that belong to [Interface]; those past MTU Meshplane does not model and keeps in `unmodelled` with the value as written. */
const INTERFACE_KEYS = new Set(['privatekey', 'listenport', 'address', 'mtu', 'dns', 'table', 'preup', 'postup', 'predown', 'postdown', 'saveconfig', 'fwmark']);

/** A value under a key that names a key (other than a public key) is never repeated in a message or report. */
const isSecretKeyName = (key: string) => /key/i.test(key) && !/^public\s*key$/i.test(key.trim());

const MAX_NAME = 64;

function cleanText(text: string): string {
  // Names and values end up in the UI and in messages: no control characters, bounded.
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
}

/** The interface name wg-quick would use (the file name without .conf), or the nearest valid one. */
function interfaceNameOf(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.conf$/i, '');
  if (isInterfaceName(stem as unknown)) return stem;
  const cleaned = stem.replace(/[^A-Za-z0-9_=+.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 15);
  return cleaned.length > 0 ? cleaned : 'wg0';
}

/** `host:port`, `[v6]:port`, or a bare IPv6 address before its last colon (wg(8) accepts that too). */
export function parseEndpoint(value: string): { host: string; port: number } | string {
  let host: string;
  let port: string;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  if (bracketed) {
    host = bracketed[1] as string;
    port = bracketed[2] as string;
    if (tryParseAddress(host) === null || !host.includes(':')) return 'only an IPv6 address goes in brackets';
  } else {
    const colon = value.lastIndexOf(':');
    if (colon <= 0) return 'expected host:port or [IPv6 address]:port';
    host = value.slice(0, colon);
    port = value.slice(colon + 1);
    if (host.includes(':') && tryParseAddress(host) === null) return 'expected host:port or [IPv6 address]:port';
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return 'the port must be a number from 1 to 65535';
  if (!isValidHost(host)) return 'the host is neither an IP address nor a valid hostname';
  return { host: canonicalAddress(host) ?? host.toLowerCase(), port: Number(port) };
}

/** Comma- and/or space-separated list, as both wg-quick (`${value//,/ }`) and wg(8) read it. */
const listOf = (value: string) => value.split(/[\s,]+/).filter((item) => item.length > 0);

/** What one comment line says, tool metadata first. */
type CommentMeaning =
  | { kind: 'name'; name: string; extra?: UnmodelledSettingDraft }
  | { kind: 'meta'; setting: UnmodelledSettingDraft | null }
  | { kind: 'privateKey'; value: string }
  | { kind: 'text'; text: string };

interface UnmodelledSettingDraft {
  name: string;
  value: string;
}

function readComment(text: string): CommentMeaning {
  const wgp = /^-WGP-\s*(.*)$/.exec(text);
  if (wgp) {
    const body = (wgp[1] as string).trim();
    const pair = /^([^:=]+?)\s*[:=]\s*(.*)$/.exec(body);
    if (!pair) {
      // "-WGP- version v2.1.0" has a value without a separator; the banner line has none at all.
      const spaced = /^(version)\s+(.+)$/i.exec(body);
      return { kind: 'meta', setting: spaced ? { name: `# -WGP- ${spaced[1]}`, value: spaced[2] as string } : null };
    }
    const key = pair[1] as string;
    const value = (pair[2] as string).trim();
    if (/^display name$/i.test(key)) return value ? { kind: 'name', name: value } : { kind: 'meta', setting: null };
    if (/^privatekey$/i.test(key.replace(/\s+/g, ''))) return { kind: 'privateKey', value };
    if (isSecretKeyName(key)) return { kind: 'meta', setting: { name: `# -WGP- ${key}`, value: 'present in the file, not imported' } };
    return { kind: 'meta', setting: { name: `# -WGP- ${key}`, value } };
  }
  const friendly = /^friendly_name\s*=\s*(.+)$/.exec(text);
  if (friendly) return { kind: 'name', name: (friendly[1] as string).trim() };
  const client = /^Client:\s*(.*?)(?:\s*\(([^()]*)\))?\s*$/.exec(text);
  if (client && (client[1] as string).length > 0) {
    const id = client[2];
    return { kind: 'name', name: client[1] as string, ...(id ? { extra: { name: '# Client id (wg-easy)', value: id } } : {}) };
  }
  return { kind: 'text', text };
}

interface PeerDraft {
  line: number;
  ref: string;
  publicKey: string | null;
  /** From wg-portal's `# -WGP- PrivateKey:` comment, unchecked until the section is read. */
  privateKey: string | null;
  presharedKey: string | null;
  allowedIps: string[];
  endpoint: { host: string; port: number } | null;
  keepalive: number | null;
  name: string | null;
  /** A free comment inside the section before its first setting (`[Peer]` then `# laptop`). */
  innerComment: string | null;
  seenSetting: boolean;
  seen: Set<string>;
  unmodelled: UnmodelledSettingDraft[];
}

class FileReader {
  readonly problems: WgQuickProblem[] = [];
  private section: Section = 'none';
  private unknownSection = '';
  private readonly interfaceUnmodelled: UnmodelledSettingDraft[] = [];
  private interfaceName: string | null = null;
  private interfaceSeen = new Set<string>();
  private privateKey: string | null = null;
  private listenPort: number | null = null;
  private mtu: number | null = null;
  private readonly addresses: string[] = [];
  private hasInterfaceSection = false;
  private readonly peers: PeerDraft[] = [];
  /** Comment lines directly above the current line (a blank or setting line clears them). */
  private commentsAbove: CommentMeaning[] = [];
  private pendingExtra: UnmodelledSettingDraft[] = [];

  constructor(private readonly file: string) {}

  private problem(line: number, message: string): void {
    this.problems.push({ file: this.file, line, message });
  }

  private get peer(): PeerDraft | undefined {
    return this.section === 'peer' ? this.peers[this.peers.length - 1] : undefined;
  }

  read(content: string): void {
    const text = content.startsWith('\uFEFF') ? content.slice(1) : content;
    const lines = text.split(/\r\n|\r|\n/);
    lines.forEach((raw, index) => this.readLine(raw, index + 1));
  }

  private readLine(raw: string, line: number): void {
    const trimmed = raw.trim();
    if (trimmed.length === 0) {
      this.commentsAbove = [];
      return;
    }
    if (trimmed.startsWith('#')) {
      this.readCommentLine(cleanText(trimmed.replace(/^#+/, '')));
      return;
    }
    const hash = raw.indexOf('#');
    const stripped = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    const trailing = hash === -1 ? '' : cleanText(raw.slice(hash + 1));
    const above = this.commentsAbove;
    this.commentsAbove = [];
    if (stripped.startsWith('[')) {
      this.readHeader(stripped, trailing, above, line);
      return;
    }
    const eq = stripped.indexOf('=');
    if (eq === -1) {
      this.problem(line, 'not understood: expected "Key = value" or a [Interface] / [Peer] header');
      return;
    }
    const key = stripped.slice(0, eq).replace(/\s+/g, '');
    const lower = key.toLowerCase();
    // Hooks keep what follows a `#`: wg-quick runs the whole line.
    const value = HOOKS.has(lower) && this.section === 'interface' ? raw.slice(raw.indexOf('=') + 1).trim() : stripped.slice(eq + 1).trim();
    if (key.length === 0) {
      this.problem(line, 'a value without a key before "="');
      return;
    }
    switch (this.section) {
      case 'none':
        this.problem(line, `${printable(key)} comes before any [Interface] or [Peer] header: ignored`);
        return;
      case 'unknown':
        this.problem(line, `${printable(key)} is inside the unknown section [${printable(this.unknownSection)}]: ignored`);
        return;
      case 'interface':
        this.readInterfaceSetting(key, lower, value, line);
        return;
      case 'peer':
        this.readPeerSetting(this.peer as PeerDraft, key, lower, value, line);
    }
  }

  private readCommentLine(text: string): void {
    if (text.length === 0) return;
    const meaning = readComment(text);
    const peer = this.peer;
    // Inside a section before its first setting, tool metadata (wg-portal writes it right
    // after the header) belongs to that section; above a header, it waits for the header.
    if (meaning.kind === 'privateKey') {
      // wg-portal keeps a peer's private key in its [Peer] section; checked against PublicKey when the file is read.
      if (peer && this.section === 'peer' && !peer.seenSetting) peer.privateKey = meaning.value;
      else this.settingsOfCurrent().push({ name: '# -WGP- PrivateKey', value: 'present in the file, not imported' });
      return;
    }
    if (meaning.kind === 'meta') {
      if (meaning.setting) this.settingsOfCurrent().push(meaning.setting);
      return;
    }
    if (meaning.kind === 'name' && this.section !== 'none' && !this.isBetweenSections()) {
      this.nameCurrent(meaning.name);
      if (meaning.extra) this.settingsOfCurrent().push(meaning.extra);
      return;
    }
    if (meaning.kind === 'text' && peer && !peer.seenSetting && peer.innerComment === null) peer.innerComment = meaning.text;
    this.commentsAbove.push(meaning);
  }

  /**
   * A name-like comment after a section's last setting is read as the next section's name
   * (wg-easy writes `# Client: …` right above [Peer]); before the first setting it names
   * the section it is in (wg-portal's display name follows the header).
   */
  private isBetweenSections(): boolean {
    if (this.section === 'interface') return this.interfaceSeen.size > 0;
    const peer = this.peer;
    return peer ? peer.seenSetting : false;
  }

  private settingsOfCurrent(): UnmodelledSettingDraft[] {
    const peer = this.peer;
    if (peer && !peer.seenSetting) return peer.unmodelled;
    if (this.section === 'none' || this.section === 'interface' || this.section === 'unknown') return this.interfaceUnmodelled;
    // After a peer's settings: metadata for whatever comes next; kept with that peer if nothing does.
    return this.pendingExtra;
  }

  private nameCurrent(name: string): void {
    const peer = this.peer;
    // A tool's name inside the section is the most specific: it beats anything above the header.
    if (peer) peer.name = name;
    else if (this.section === 'interface') this.interfaceName = name;
  }

  /** The name the comments right above a header give it: a tool's `Client:` line, else the last free comment. */
  private static nameFromAbove(above: CommentMeaning[]): { name: string | null; extra: UnmodelledSettingDraft[] } {
    const tool = [...above].reverse().find((meaning) => meaning.kind === 'name');
    if (tool && tool.kind === 'name') return { name: tool.name, extra: tool.extra ? [tool.extra] : [] };
    const text = [...above].reverse().find((meaning) => meaning.kind === 'text');
    return { name: text && text.kind === 'text' ? text.text : null, extra: [] };
  }

  private readHeader(stripped: string, trailing: string, above: CommentMeaning[], line: number): void {
    const header = stripped.replace(/\s+/g, '').toLowerCase();
    const { name: fromAbove, extra } = FileReader.nameFromAbove(above);
    const fromTrailing = trailing || null;
    const leftover = this.pendingExtra;
    this.pendingExtra = [];
    if (header === '[interface]') {
      if (this.hasInterfaceSection) this.problem(line, 'a second [Interface] section: its settings are read as if they were in the first');
      this.hasInterfaceSection = true;
      this.section = 'interface';
      this.interfaceName ??= fromAbove ?? fromTrailing;
      this.interfaceUnmodelled.push(...extra, ...leftover);
      return;
    }
    if (header === '[peer]') {
      this.section = 'peer';
      const ref = `${this.file}#${this.peers.length + 1}`;
      this.peers.push({
        line, ref, publicKey: null, privateKey: null, presharedKey: null, allowedIps: [], endpoint: null, keepalive: null,
        name: fromAbove ?? fromTrailing, innerComment: null, seenSetting: false, seen: new Set(), unmodelled: [...extra, ...leftover],
      });
      return;
    }
    this.section = 'unknown';
    this.unknownSection = stripped.replace(/^\[|\].*$/g, '');
    this.problem(line, `unknown section ${printable(stripped)}: wg-quick knows only [Interface] and [Peer]; its lines are not read`);
  }

  private once(seen: Set<string>, lower: string, key: string, line: number): void {
    if (seen.has(lower)) this.problem(line, `${SPELLING[lower] ?? printable(key)} is given again: this later line is used, as wg does`);
    seen.add(lower);
  }

  private readInterfaceSetting(key: string, lower: string, value: string, line: number): void {
    const repeatable = lower === 'address' || HOOKS.has(lower) || lower === 'dns';
    if (!repeatable) this.once(this.interfaceSeen, lower, key, line);
    this.interfaceSeen.add(lower);
    switch (lower) {
      case 'privatekey':
        if (isWireGuardKey(value)) this.privateKey = value;
        else {
          this.privateKey = null;
          this.problem(line, 'PrivateKey is not a WireGuard key (44 characters of base64 encoding 32 bytes)');
        }
        return;
      case 'listenport': {
        if (/^\d{1,5}$/.test(value) && Number(value) <= 65535) this.listenPort = Number(value) === 0 ? null : Number(value);
        else this.problem(line, `ListenPort "${printable(value)}" is not a port number from 0 to 65535`);
        return;
      }
      case 'mtu': {
        if (/^\d{1,5}$/.test(value) && Number(value) >= 576 && Number(value) <= 65535) this.mtu = Number(value);
        else this.problem(line, `MTU "${printable(value)}" is not a number from 576 to 65535`);
        return;
      }
      case 'address':
        for (const item of listOf(value)) {
          const address = readAddress(item);
          if (address) this.addresses.push(address);
          else this.problem(line, `Address "${printable(item)}" is not an IP address with an optional /prefix`);
        }
        return;
      default:
        if (PEER_KEYS.has(lower)) {
          this.problem(line, `${SPELLING[lower]} belongs in a [Peer] section, not in [Interface]: ignored`);
          return;
        }
        // An empty value sets nothing (wg-easy writes `PreUp = ` when there is no hook).
        if (value.length > 0) this.interfaceUnmodelled.push({ name: SPELLING[lower] ?? cleanText(key), value: isSecretKeyName(key) ? 'present in the file, not imported' : cleanText(value) });
    }
  }

  private readPeerSetting(peer: PeerDraft, key: string, lower: string, value: string, line: number): void {
    if (lower !== 'allowedips') this.once(peer.seen, lower, key, line);
    peer.seen.add(lower);
    peer.seenSetting = true;
    switch (lower) {
      case 'publickey':
        if (isWireGuardKey(value)) peer.publicKey = value;
        else this.problem(line, 'PublicKey is not a WireGuard key (44 characters of base64 encoding 32 bytes)');
        return;
      case 'presharedkey':
        if (isWireGuardKey(value)) peer.presharedKey = value;
        else this.problem(line, 'PresharedKey is not a WireGuard key (44 characters of base64 encoding 32 bytes): the peer is read without one');
        return;
      case 'allowedips':
        for (const item of listOf(value)) {
          const range = tryParseCidr(item.includes('/') ? item : `${item}/${item.includes(':') ? 128 : 32}`);
          if (range) peer.allowedIps.push(formatCidr(range));
          else this.problem(line, `AllowedIPs "${printable(item)}" is not an address or CIDR`);
        }
        return;
      case 'endpoint': {
        const endpoint = parseEndpoint(value);
        if (typeof endpoint === 'string') this.problem(line, `Endpoint "${printable(value)}": ${endpoint}`);
        else peer.endpoint = endpoint;
        return;
      }
      case 'persistentkeepalive':
        if (/^off$/i.test(value)) peer.keepalive = null;
        else if (/^\d{1,5}$/.test(value) && Number(value) <= 65535) peer.keepalive = Number(value) === 0 ? null : Number(value);
        else this.problem(line, `PersistentKeepalive "${printable(value)}" is not a number of seconds from 0 to 65535 or "off"`);
        return;
      default:
        if (INTERFACE_KEYS.has(lower)) {
          this.problem(line, `${SPELLING[lower]} belongs in [Interface], not in a [Peer] section: ignored`);
          return;
        }
        if (value.length > 0) peer.unmodelled.push({ name: cleanText(key), value: isSecretKeyName(key) ? 'present in the file, not imported' : cleanText(value) });
    }
  }

  result(source: { ref: string; name: string }): DiscoveredInterface | null {
    const lastPeer = this.peers[this.peers.length - 1];
    if (this.pendingExtra.length > 0) (lastPeer ? lastPeer.unmodelled : this.interfaceUnmodelled).push(...this.pendingExtra);
    if (!this.hasInterfaceSection && this.peers.length === 0) {
      this.problem(0, 'no [Interface] or [Peer] section: not a wg-quick file');
      return null;
    }
    if (!this.hasInterfaceSection) this.problem(0, 'no [Interface] section: the peers are read, the file\'s own end has no key or address');
    else if (!this.interfaceSeen.has('privatekey')) {
      this.problem(0, 'no PrivateKey in [Interface]: this end can only be kept with a key you bring');
    }
    const peers: DiscoveredPeer[] = [];
    const unmodelled: UnmodelledSetting[] = this.interfaceUnmodelled.map((setting) => ({ owner: 'interface', ...setting }));
    for (const draft of this.peers) {
      if (draft.publicKey === null) {
        this.problem(draft.line, 'this [Peer] has no valid PublicKey: it is left out');
        continue;
      }
      const name = draft.name ?? draft.innerComment;
      const keyMatches = draft.privateKey !== null && isWireGuardKey(draft.privateKey) && publicKeyFromPrivate(draft.privateKey) === draft.publicKey;
      if (draft.privateKey !== null && !keyMatches) {
        draft.unmodelled.push({ name: '# -WGP- PrivateKey', value: 'present in the file, not imported: it is not the private key of this PublicKey' });
      }
      peers.push({
        ref: draft.ref,
        publicKey: draft.publicKey,
        ...(keyMatches ? { privateKey: draft.privateKey } : {}),
        allowedIps: draft.allowedIps,
        endpointHost: draft.endpoint?.host ?? null,
        endpointPort: draft.endpoint?.port ?? null,
        persistentKeepalive: draft.keepalive,
        presharedKey: draft.presharedKey,
        hasPresharedKey: draft.presharedKey !== null,
        comment: name ? name.slice(0, MAX_NAME) : null,
        disabled: false,
        managedKey: null,
        lastHandshake: null,
        rxBytes: null,
        txBytes: null,
      });
      unmodelled.push(...draft.unmodelled.map((setting) => ({ owner: draft.ref, ...setting })));
    }
    return {
      ref: source.ref,
      name: source.name,
      listenPort: this.listenPort,
      mtu: this.mtu,
      publicKey: this.privateKey === null ? null : publicKeyFromPrivate(this.privateKey),
      privateKey: this.privateKey,
      addresses: this.addresses,
      disabled: false,
      comment: this.interfaceName ? this.interfaceName.slice(0, MAX_NAME) : null,
      managedKey: null,
      peers,
      unmodelled,
      source: `file ${source.ref}`,
    };
  }
}

/** An interface address keeps its host bits ("10.8.0.1/24"); without a prefix it is a host address, as `ip address add` reads it. */
function readAddress(item: string): string | null {
  const slash = item.indexOf('/');
  const host = slash === -1 ? item : item.slice(0, slash);
  const position = tryParseAddress(host);
  if (position === null) return null;
  const full = slash === -1 ? `${host}/${host.includes(':') ? 128 : 32}` : item;
  const range = tryParseCidr(full);
  return range === null ? null : `${formatAddress(position)}/${range.prefix}`;
}

/** Reads each file on its own; the caller bounds their number and size. */
export function parseWgQuickFiles(files: readonly WgQuickFile[]): WgQuickImport {
  const interfaces: DiscoveredInterface[] = [];
  const problems: WgQuickProblem[] = [];
  const seenNames = new Map<string, number>();
  for (const file of files) {
    const given = cleanText(file.name).slice(0, 255) || 'unnamed.conf';
    const count = (seenNames.get(given) ?? 0) + 1;
    seenNames.set(given, count);
    // Every site's file is often called wg0.conf: a repeated name stays apart by its position.
    const ref = count === 1 ? given : `${given} (${count})`;
    const reader = new FileReader(ref);
    reader.read(file.content);
    const found = reader.result({ ref, name: interfaceNameOf(given) });
    if (found) interfaces.push(found);
    // In file order, then by line: a problem found at the end (a [Peer] without a key) sits where the reader looks for it.
    problems.push(...[...reader.problems].sort((a, b) => a.line - b.line));
  }
  return { interfaces, problems };
}
