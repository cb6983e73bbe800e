// /usr/bin/wg as `file.exec` runs it: `wg show all dump`, `wg show <if> dump`, `wg show interfaces`,
// and `wg set <if> … peer <pub> [remove] [preshared-key <file>] [endpoint <ip>:<port>]
// [persistent-keepalive <n>|off] [allowed-ips <cidr>[,…]]`. `wg set` edits the running device
// only (UCI does not change) and leaves every existing session's handshake and counters alone.
import { formatAddress, tryParseAddress, tryParseCidr } from '../../../src/domain/ip.js';
import { isWireGuardKey } from '../../../src/domain/keys.js';
import type { OpenWrtModel } from './model.js';
import { renderWgAllDump, renderWgDump, wgEndpoint } from '../shared/wg-dump-text.js';
import type { WgPeerRt } from './runtime.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string, code = 1): ExecResult => ({ code, stdout: '', stderr });

const SET_USAGE =
  'Usage: wg set <interface> [listen-port <port>] [fwmark <mark>] [private-key <file path>] [peer <base64 public key> [remove] [preshared-key <file path>] [endpoint <ip>:<port>] [persistent-keepalive <interval seconds>] [allowed-ips <ip1>/<cidr1>[,<ip2>/<cidr2>]...] ]...\n';

function show(model: OpenWrtModel, args: string[]): ExecResult {
  const [target, what] = args;
  const devices = [...model.runtime.wg.keys()];
  if (target === 'interfaces' && what === undefined) return ok(devices.length > 0 ? `${devices.join(' ')}\n` : '');
  if (what !== 'dump') return fail(`Usage: wg show { <interface> | all | interfaces } [... | dump]\n`);
  if (target === 'all') return ok(renderWgAllDump(devices.map((name) => model.runtime.wgDump(name)!)));
  const dump = target === undefined ? null : model.runtime.wgDump(target);
  if (dump === null) return fail('Unable to access interface: No such device\n');
  return ok(renderWgDump(dump));
}

function parseEndpoint(text: string): string | null {
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:]+):(\d+)$/.exec(text);
  const [host, port] = bracket ? [bracket[1]!, bracket[2]!] : plain ? [plain[1]!, plain[2]!] : [null, null];
  if (host === null || Number(port) > 65535) return null;
  const position = tryParseAddress(host);
  return position === null ? null : wgEndpoint(formatAddress(position), Number(port));
}

function set(model: OpenWrtModel, args: string[]): ExecResult {
  const [ifname, ...rest] = args;
  if (ifname === undefined) return fail(SET_USAGE);
  const device = model.runtime.wg.get(ifname);
  if (!device) return fail('Unable to modify interface: No such device\n');
  // Parse everything first: wg applies nothing when any argument is wrong.
  type PeerChange = { publicKey: string; remove: boolean; psk?: string | null; endpoint?: string; keepalive?: number | null; allowedIps?: string[] };
  const changes: PeerChange[] = [];
  let listenPort: number | undefined;
  let i = 0;
  while (i < rest.length) {
    const word = rest[i++]!;
    const value = rest[i];
    const peer = changes.at(-1);
    if (word === 'listen-port' && value !== undefined && !peer) {
      if (!/^\d+$/.test(value) || Number(value) > 65535) return fail(`Unable to parse port: \`${value}'\n`);
      listenPort = Number(value);
      i++;
    } else if (word === 'peer' && value !== undefined) {
      if (!isWireGuardKey(value)) return fail(`Key is not the correct length or format: \`${value}'\n`);
      changes.push({ publicKey: value, remove: false });
      i++;
    } else if (word === 'remove' && peer) {
      peer.remove = true;
    } else if (word === 'preshared-key' && value !== undefined && peer) {
      const file = value === '/dev/null' ? { data: '' } : model.files.read(value);
      if (file === null) return fail(`fopen: No such file or directory\n`);
      const key = file.data.trim();
      if (key !== '' && !isWireGuardKey(key)) return fail('Key is not the correct length or format\n');
      peer.psk = key === '' || /^A{43}=$/.test(key) ? null : key;
      i++;
    } else if (word === 'endpoint' && value !== undefined && peer) {
      const endpoint = parseEndpoint(value);
      if (endpoint === null) return fail(`Name or service not known: \`${value}'\n`);
      peer.endpoint = endpoint;
      i++;
    } else if (word === 'persistent-keepalive' && value !== undefined && peer) {
      if (value !== 'off' && (!/^\d+$/.test(value) || Number(value) > 65535)) return fail(`Unable to parse persistent keepalive interval: \`${value}'\n`);
      peer.keepalive = value === 'off' || value === '0' ? null : Number(value);
      i++;
    } else if (word === 'allowed-ips' && value !== undefined && peer) {
      const cidrs: string[] = [];
      for (const text of value.split(',').map((part) => part.trim()).filter(Boolean)) {
        const range = tryParseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
        if (range === null) return fail(`Unable to parse IP address: \`${text}'\n`);
        cidrs.push(`${formatAddress(range.start)}/${range.prefix}`);
      }
      peer.allowedIps = cidrs;
      i++;
    } else return fail(`Invalid argument: ${word}\n${SET_USAGE}`);
  }
  model.writes++;
  if (listenPort !== undefined) device.port = listenPort;
  for (const change of changes) {
    const index = device.peers.findIndex((peer) => peer.publicKey === change.publicKey);
    if (change.remove) {
      if (index !== -1) device.peers.splice(index, 1);
      continue;
    }
    let peer: WgPeerRt | undefined = device.peers[index];
    if (!peer) {
      peer = { publicKey: change.publicKey, psk: null, endpoint: null, allowedIps: [], latestHandshake: 0, rx: 0n, tx: 0n, keepalive: null };
      device.peers.push(peer);
    }
    if (change.psk !== undefined) peer.psk = change.psk;
    if (change.endpoint !== undefined) peer.endpoint = change.endpoint;
    if (change.keepalive !== undefined) peer.keepalive = change.keepalive;
    if (change.allowedIps !== undefined) {
      // An AllowedIP belongs to one peer: giving it to this one takes it from the others.
      for (const other of device.peers) if (other !== peer) other.allowedIps = other.allowedIps.filter((cidr) => !change.allowedIps!.includes(cidr));
      peer.allowedIps = change.allowedIps;
    }
  }
  return ok();
}

export function runWg(model: OpenWrtModel, params: string[]): ExecResult {
  const [command, ...args] = params;
  if (command === 'show') return show(model, args);
  if (command === 'set') return set(model, args);
  return fail(`Invalid subcommand: \`${command ?? ''}'\nUsage: wg <cmd> [<args>]\n`);
}
