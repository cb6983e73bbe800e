// A fresh OpenWrt 24.10 as shipped: the stock `network` (loopback, the anonymous br-lan bridge
// device, lan 192.168.1.1/24, wan on DHCP with the ISP's 203.0.113.2/24 and default route, wan6)
// and fw4's stock `firewall`, the rpcd logins (root through /etc/shadow, plus Meshplane's own
// login), and the ACL files: rpcd's unauthenticated group, a luci-base subset (no uci commit or
// revert: LuCI applies), luci-proto-wireguard's, and meshplane.json as the README documents it.
import type { OpenWrtModel } from './model.js';

export const STOCK_NETWORK = `
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config globals 'globals'
	option ula_prefix 'fd4e:7a1c:93b2::/48'

config device
	option name 'br-lan'
	option type 'bridge'
	list ports 'eth0'

config interface 'lan'
	option device 'br-lan'
	option proto 'static'
	option ipaddr '192.168.1.1'
	option netmask '255.255.255.0'
	option ip6assign '60'

config interface 'wan'
	option device 'eth1'
	option proto 'dhcp'

config interface 'wan6'
	option device 'eth1'
	option proto 'dhcpv6'
`;

/** firewall4 root/etc/config/firewall. */
export const STOCK_FIREWALL = `
config defaults
	option syn_flood	1
	option input		REJECT
	option output		ACCEPT
	option forward		REJECT

config zone
	option name		lan
	list   network		'lan'
	option input		ACCEPT
	option output		ACCEPT
	option forward		ACCEPT

config zone
	option name		wan
	list   network		'wan'
	list   network		'wan6'
	option input		REJECT
	option output		ACCEPT
	option forward		REJECT
	option masq		1
	option mtu_fix		1

config forwarding
	option src		lan
	option dest		wan

config rule
	option name		Allow-DHCP-Renew
	option src		wan
	option proto		udp
	option dest_port	68
	option target		ACCEPT
	option family		ipv4

config rule
	option name		Allow-Ping
	option src		wan
	option proto		icmp
	option icmp_type	echo-request
	option family		ipv4
	option target		ACCEPT

config rule
	option name		Allow-IGMP
	option src		wan
	option proto		igmp
	option family		ipv4
	option target		ACCEPT

config rule
	option name		Allow-DHCPv6
	option src		wan
	option proto		udp
	option dest_port	546
	option family		ipv6
	option target		ACCEPT

config rule
	option name		Allow-MLD
	option src		wan
	option proto		icmp
	option src_ip		fe80::/10
	list icmp_type		'130/0'
	list icmp_type		'131/0'
	list icmp_type		'132/0'
	list icmp_type		'143/0'
	option family		ipv6
	option target		ACCEPT

config rule
	option name		Allow-ICMPv6-Input
	option src		wan
	option proto	icmp
	list icmp_type		echo-request
	list icmp_type		echo-reply
	list icmp_type		destination-unreachable
	list icmp_type		packet-too-big
	list icmp_type		time-exceeded
	list icmp_type		bad-header
	list icmp_type		unknown-header-type
	list icmp_type		router-solicitation
	list icmp_type		neighbour-solicitation
	list icmp_type		router-advertisement
	list icmp_type		neighbour-advertisement
	option limit		1000/sec
	option family		ipv6
	option target		ACCEPT

config rule
	option name		Allow-ICMPv6-Forward
	option src		wan
	option dest		*
	option proto		icmp
	list icmp_type		echo-request
	list icmp_type		echo-reply
	list icmp_type		destination-unreachable
	list icmp_type		packet-too-big
	list icmp_type		time-exceeded
	list icmp_type		bad-header
	list icmp_type		unknown-header-type
	option limit		1000/sec
	option family		ipv6
	option target		ACCEPT

config rule
	option name		Allow-IPSec-ESP
	option src		wan
	option dest		lan
	option proto		esp
	option target		ACCEPT

config rule
	option name		Allow-ISAKMP
	option src		wan
	option dest		lan
	option dest_port	500
	option proto		udp
	option target		ACCEPT
`;

export const ACL_DIR = '/usr/share/rpcd/acl.d';

/** rpcd's own unauthenticated group (the null session) and luci-base's addition to it. */
const UNAUTHENTICATED = { unauthenticated: { description: 'Access controls for unauthenticated requests', read: { ubus: { session: ['access', 'login'] } } } };

/** The part of luci-base.json the driver's world touches: no uci commit/revert/rollback/state/configs. */
const LUCI_BASE = {
  'luci-base': {
    description: 'Grant access to basic LuCI procedures',
    read: {
      ubus: { file: ['list', 'read', 'stat'], 'network.interface': ['dump'], network: ['get_proto_handlers'], session: ['access'], system: ['board', 'info'], uci: ['changes', 'get'] },
      uci: ['*'],
    },
    write: {
      file: { '/etc/crontabs/root': ['write'], '/etc/luci-uploads/*': ['write'] },
      ubus: { file: ['remove', 'write'], uci: ['add', 'apply', 'confirm', 'delete', 'order', 'rename', 'set'] },
      uci: ['*'],
    },
  },
};

const LUCI_WIREGUARD = {
  'luci-proto-wireguard': {
    description: 'Grant access to LuCI Wireguard procedures',
    read: { ubus: { 'luci.wireguard': ['getWgInstances'] }, uci: ['ddns', 'system', 'network'] },
    write: { ubus: { 'luci.wireguard': ['generateKeyPair', 'getPublicAndPrivateKeyFromPrivate', 'generatePsk'] } },
  },
};

/** /usr/share/rpcd/acl.d/meshplane.json: exactly what the driver needs (README "Devices › OpenWrt"). */
export const MESHPLANE_ACL = {
  meshplane: {
    description: 'Meshplane driver',
    read: {
      ubus: {
        session: ['access'],
        uci: ['get', 'changes'],
        'network.interface': ['dump', 'status'],
        system: ['board'],
        file: ['exec', 'read', 'list', 'stat'],
      },
      uci: ['network', 'firewall'],
      file: {
        '/usr/bin/wg': ['exec'],
        '/usr/sbin/nft list chain inet fw4 *': ['exec'],
        // The directory itself: the driver's preflight checks that it exists (the NAT include goes there).
        '/etc/meshplane': ['stat'],
        '/etc/meshplane/*': ['read'],
        '/var/run/rpcd/snapshot-files': ['list'],
      },
    },
    write: {
      ubus: {
        uci: ['add', 'set', 'delete', 'apply', 'confirm', 'rollback', 'revert'],
        'network.interface': ['up', 'down'],
        file: ['write', 'remove'],
        session: ['destroy'],
      },
      uci: ['network', 'firewall'],
      // rpcd checks a path's "write" for file.remove too.
      file: { '/etc/meshplane/*': ['write'], '/tmp/meshplane-psk': ['write'] },
    },
  },
};

export interface SeedOptions {
  /** Crypt hash of root's password in /etc/shadow (rpcd's `$p$root`); default '*' (no password login). */
  rootPasswordHash?: string;
  /** Crypt hash in Meshplane's `config login`; default '*' (no login). An empty hash accepts any password. */
  meshplanePasswordHash?: string;
  /** Leave out Meshplane's rpcd login and ACL file (a router before its one-time setup). */
  withoutMeshplane?: boolean;
}

const json = (value: unknown) => `${JSON.stringify(value, null, '\t')}\n`;

export function seedStock(model: OpenWrtModel, options: SeedOptions = {}): void {
  const { uci, files } = model;
  uci.setPackageText('network', STOCK_NETWORK);
  uci.setPackageText('firewall', STOCK_FIREWALL);
  uci.setPackageText('system', `\nconfig system\n\toption hostname '${model.board.hostname}'\n\toption timezone 'UTC'\n`);
  uci.setPackageText('dhcp', `\nconfig dnsmasq\n\toption domainneeded '1'\n\toption local '/lan/'\n\nconfig dhcp 'lan'\n\toption interface 'lan'\n\toption start '100'\n\toption limit '150'\n`);
  let rpcd = `\nconfig rpcd\n\toption socket '/var/run/ubus/ubus.sock'\n\toption timeout '30'\n\nconfig login\n\toption username 'root'\n\toption password '$p$root'\n\tlist read '*'\n\tlist write '*'\n`;
  if (!options.withoutMeshplane) rpcd += `\nconfig login\n\toption username 'meshplane'\n\toption password '${options.meshplanePasswordHash ?? '*'}'\n\tlist read 'meshplane'\n\tlist write 'meshplane'\n`;
  uci.setPackageText('rpcd', rpcd);
  files.write('/etc/shadow', `root:${options.rootPasswordHash ?? '*'}:20300:0:99999:7:::\ndaemon:*:0:0:99999:7:::\nnobody:*:0:0:99999:7:::\n`, { mode: 0o600 });
  files.write(`${ACL_DIR}/unauthenticated.json`, json(UNAUTHENTICATED));
  files.write(`${ACL_DIR}/luci-base.json`, json(LUCI_BASE));
  files.write(`${ACL_DIR}/luci-wireguard.json`, json(LUCI_WIREGUARD));
  if (!options.withoutMeshplane) {
    files.write(`${ACL_DIR}/meshplane.json`, json(MESHPLANE_ACL));
    files.mkdir('/etc/meshplane');
  }
  files.write('/usr/bin/wg', '', { mode: 0o755 });
  files.write('/usr/sbin/nft', '', { mode: 0o755 });
  files.mkdir('/tmp');
  model.boot();
}
