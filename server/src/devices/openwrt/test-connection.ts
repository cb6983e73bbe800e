// "Test connection" for OpenWrt: log in, read `system board` (release and hostname; 21.02 and
// older are refused: firewall3), then ask rpcd through `session.access` for every grant the
// driver uses, so the answer names each one missing instead of failing later mid-deploy.
import type { ConnectionReport } from '../driver.js';
import { DeviceError } from '../driver.js';
import { compareVersions } from '../shared/versions.js';
import { ACL_FILE } from './errors.js';
import type { UbusCall, UbusClient } from './ubus-client.js';

export const MINIMUM_RELEASE = '22.03';

/** [scope, object, function] rpcd must grant meshplane's session (README › Devices › OpenWrt). */
export const REQUIRED_GRANTS: ReadonlyArray<readonly [string, string, string]> = [
  ...(['access', 'destroy'] as const).map((fn) => ['ubus', 'session', fn] as const),
  ...(['get', 'changes', 'add', 'set', 'delete', 'apply', 'confirm', 'rollback', 'revert'] as const).map((fn) => ['ubus', 'uci', fn] as const),
  ...(['dump', 'status', 'up', 'down'] as const).map((fn) => ['ubus', 'network.interface', fn] as const),
  ['ubus', 'system', 'board'],
  ...(['exec', 'read', 'list', 'stat', 'write', 'remove'] as const).map((fn) => ['ubus', 'file', fn] as const),
  ['uci', 'network', 'read'], ['uci', 'network', 'write'], ['uci', 'firewall', 'read'], ['uci', 'firewall', 'write'],
  ['file', '/usr/bin/wg', 'exec'],
  ['file', '/usr/sbin/nft list chain inet fw4 mp_00000000_dst', 'exec'],
  ['file', '/etc/meshplane', 'stat'],
  // rpcd's file.remove checks the path's "write".
  ...(['read', 'write'] as const).map((fn) => ['file', '/etc/meshplane/meshplane.nft', fn] as const),
  ['file', '/tmp/meshplane-psk', 'write'],
  ['file', '/var/run/rpcd/snapshot-files', 'list'],
];

function grantText([scope, object, fn]: readonly [string, string, string]): string {
  if (scope === 'ubus') return `${object}.${fn}`;
  if (scope === 'uci') return `uci ${object} ${fn}`;
  return `file ${object.replace(/ mp_00000000_dst$/, ' *')} ${fn}`;
}

/** Pure: whether a `system board` release is one Meshplane drives (22.03+ or a snapshot). */
export function releaseSupported(version: string): boolean {
  return version === 'SNAPSHOT' || compareVersions(version, MINIMUM_RELEASE) >= 0;
}

export async function testOpenWrtConnection(client: UbusClient): Promise<ConnectionReport> {
  let version: string | null = null;
  let identity: string | null = null;
  try {
    await client.login();
    const [board, ...access] = await client.batch([
      { object: 'system', method: 'board' },
      ...REQUIRED_GRANTS.map(([scope, object, fn]): UbusCall => ({ object: 'session', method: 'access', args: { scope, object, function: fn } })),
    ]);
    const release = (board?.data as { hostname?: unknown; release?: { version?: unknown } } | undefined);
    version = typeof release?.release?.version === 'string' ? release.release.version : null;
    identity = typeof release?.hostname === 'string' ? release.hostname : null;
    if (version !== null && !releaseSupported(version)) {
      return {
        reachable: true, loggedIn: true, version, identity, failure: 'REFUSED',
        message: `REFUSED: OpenWrt ${version} runs firewall3 (iptables); Meshplane needs ${MINIMUM_RELEASE} or later (firewall4/nftables)`,
      };
    }
    const missing = REQUIRED_GRANTS.filter((_, index) => (access[index]?.data as { access?: unknown } | undefined)?.access !== true).map(grantText);
    if (missing.length > 0) {
      return {
        reachable: true, loggedIn: true, version, identity, failure: 'AUTH_FAILED',
        message: `AUTH_FAILED: logged in, but rpcd does not grant meshplane: ${missing.join(', ')}; install ${ACL_FILE} as the README shows`,
      };
    }
    // rpcd-mod-file answers for the `file` object; without it uhttpd says -32000.
    const snapshots = await client.call('file', 'list', { path: '/var/run/rpcd/snapshot-files' });
    return {
      reachable: true, loggedIn: true, version, identity,
      message: `OpenWrt ${version ?? '?'} (${identity ?? 'no hostname'}); every grant present${snapshots.status === 0 && ((snapshots.data as { entries?: unknown[] })?.entries ?? []).length > 0 ? '; a protected apply is pending on the router' : ''}`,
    };
  } catch (error) {
    if (!(error instanceof DeviceError)) throw error;
    const reachable = error.code === 'AUTH_FAILED' || error.code === 'REFUSED' || error.code === 'PROTOCOL';
    const loggedIn = client.session !== null;
    return { reachable, loggedIn, version, identity, message: `${error.code}: ${error.message}`, failure: error.code };
  }
}
