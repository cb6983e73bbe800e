// `wg show all dump` / `wg show <if> dump` text as wireguard-tools prints it (src/show.c dump_print):
//   interface line: [if \t] private-key \t public-key \t listen-port \t fwmark|off
//   peer line:      [if \t] public-key \t preshared-key|(none) \t endpoint|(none) \t allowed-ips|(none)
//                   \t latest-handshake \t rx \t tx \t keepalive|off
// Every line ends in "\n"; peers come in the kernel's order (dump does not sort them, unlike the pretty
// print). The private key is printed in full: that is what the real tool does, and the reason a
// driver must treat the whole stdout as secret. Simulators (OpenWrt file.exec, OPNsense service/show)
// render their runtime through this one function.

export interface WgDumpPeer {
  publicKey: string;
  /** null = no preshared key (the kernel reports an all-zero key, wg prints "(none)"). */
  psk: string | null;
  /** As wg prints it: "203.0.113.1:51820" or "[2001:db8::1]:51820"; null = never seen. */
  endpoint: string | null;
  /** CIDRs in the kernel's order, already masked ("10.0.0.0/24", not "10.0.0.1/24"). */
  allowedIps: readonly string[];
  /** Unix seconds, 0 = never. */
  latestHandshake: number;
  rx: number | bigint;
  tx: number | bigint;
  /** Seconds; 0 or null = off. */
  keepalive: number | null;
}

export interface WgDumpInterface {
  ifname: string;
  /** null when the device has no private key: wg prints "(none)". */
  privateKey: string | null;
  publicKey: string | null;
  /** 0 before the device is up with a port (wg prints the number as is). */
  port: number;
  /** 0 or null = off; otherwise printed as 0x<hex>. */
  fwmark: number | null;
  peers: readonly WgDumpPeer[];
}

/** wg's endpoint() format: an IPv6 host goes in brackets. */
export function wgEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function interfaceLine(wg: WgDumpInterface, prefix: string): string {
  const fwmark = wg.fwmark ? `0x${wg.fwmark.toString(16)}` : 'off';
  return `${prefix}${wg.privateKey ?? '(none)'}\t${wg.publicKey ?? '(none)'}\t${wg.port}\t${fwmark}\n`;
}

function peerLine(peer: WgDumpPeer, prefix: string): string {
  const allowed = peer.allowedIps.length > 0 ? peer.allowedIps.join(',') : '(none)';
  const keepalive = peer.keepalive ? String(peer.keepalive) : 'off';
  return (
    `${prefix}${peer.publicKey}\t${peer.psk ?? '(none)'}\t${peer.endpoint ?? '(none)'}\t${allowed}\t` +
    `${peer.latestHandshake}\t${peer.rx.toString()}\t${peer.tx.toString()}\t${keepalive}\n`
  );
}

function render(wg: WgDumpInterface, withInterface: boolean): string {
  const prefix = withInterface ? `${wg.ifname}\t` : '';
  return interfaceLine(wg, prefix) + wg.peers.map((peer) => peerLine(peer, prefix)).join('');
}

/** `wg show <ifname> dump` */
export function renderWgDump(wg: WgDumpInterface): string {
  return render(wg, false);
}

/** `wg show all dump`: each interface in the order given (the kernel's link order), name first on every line. */
export function renderWgAllDump(interfaces: readonly WgDumpInterface[]): string {
  return interfaces.map((wg) => render(wg, true)).join('');
}
