// Reads the menus Meshplane manages into plan resources: every item (managed or not, so
// preflight and the route demotion can see the rest of the router), keyed by this WAN's
// tag. Only the API user's own /user row is read. Both families' menus are read for every
// WAN, so a WAN that stops being dual-stack loses its IPv6 items on the next deploy; a
// dual-stack peer's deploy also reads /ipv6/settings (not managed: preflight checks it).
import type { ActualResource } from '../../domain/plan.js';
import { safeId } from '../../domain/render/safe-values.js';
import { routingNames } from '../../domain/render/routeros-routing.js';
import { DeviceError, type DesiredDeviceState } from '../driver.js';
import { familiesOf } from '../../domain/compiled.js';
import { FAMILY_KINDS, MENU, PROPLISTS } from './menus.js';
import { withoutSecrets } from './secrets.js';
import { keyFromComment } from './tags.js';
import type { Row, RouterOsTransport } from './transport.js';

function toResource(kind: string, row: Row, prefix: string, wanId: string): ActualResource {
  const { '.id': id, ...props } = row;
  if (id === undefined || id === '') throw new DeviceError('PROTOCOL', `an item of ${kind} came back without its .id`);
  return { kind, id, key: keyFromComment(props.comment, prefix, wanId), props: withoutSecrets(props) };
}

export async function readRouterOsState(transport: RouterOsTransport, desired: DesiredDeviceState, apiUser: string | null): Promise<ActualResource[]> {
  const wanId = safeId(desired.overlay.wan.id);
  // The routing menus are read for every WAN, so a WAN that stops using redundant hubs
  // loses its BGP items on the next deploy like any other item it no longer wants.
  const menus = [MENU.interface, MENU.peers, ...FAMILY_KINDS, MENU.routingFilter, MENU.bfd, MENU.bgp];
  const toResources = (kind: string) => (rows: Row[]) => rows.map((row) => toResource(kind, row, desired.commentPrefix, wanId));
  const reads = menus.map(async (kind) => toResources(kind)(await transport.print(kind, { proplist: PROPLISTS[kind] ?? [] })));
  // Address lists can hold blocklists of many thousands of entries: only this WAN's lists are read.
  const names = routingNames(desired.commentPrefix, wanId);
  const lists: [string, string][] = [
    [MENU.addressList, names.originate], [MENU.addressList, names.pinned],
    // Read for every WAN, like the other IPv6 menus: a WAN that stops being dual-stack loses them.
    [MENU.addressList6, names.originate6], [MENU.addressList6, names.pinned6],
  ];
  for (const [menu, list] of lists) {
    reads.push(transport.print(menu, { proplist: PROPLISTS[menu] ?? [], where: { list } }).then(toResources(menu)));
  }
  if (apiUser !== null) {
    reads.push(transport.print(MENU.user, { proplist: PROPLISTS[MENU.user] ?? [], where: { name: apiUser } })
      // The user row is never tagged: it is adjusted, not managed.
      .then((rows) => rows.map((row) => ({ ...toResource(MENU.user, row, desired.commentPrefix, wanId), key: null }))));
  }
  if (familiesOf(desired.peer).includes(6)) {
    // A singleton: one row without `.id`, never tagged, never written.
    reads.push(transport.print(MENU.ipv6Settings, { proplist: PROPLISTS[MENU.ipv6Settings] ?? [] })
      .then((rows) => rows.slice(0, 1).map((row) => ({ kind: MENU.ipv6Settings, id: MENU.ipv6Settings, key: null, props: withoutSecrets(row) }))));
  }
  return (await Promise.all(reads)).flat();
}
