// Meshplane's management path through the simulated firewall (design §1.5), so tests can prove
// that a deploy which locks Meshplane out is undone by the device itself:
// - a filter cut: armed by the `cutManagementOnFilterApply` fault, set by the next filter apply;
//   while the running Filter node is the one that apply loaded, NEW connections are dropped on
//   accept (pf passes packets of states it already has, so open sockets keep working); a
//   rollback, revert or any apply that changes the running Filter node lifts it;
// - a route cut: after a WireGuard reconfigure a running wg route covers the address Meshplane
//   connects from, so replies go into the tunnel: every socket, old and new, is dropped.
import { contains, tryParseAddress, hostRange, tryParseCidr } from '../../../src/domain/ip.js';
import type { OpnSenseFaults } from './faults.js';
import { filterHash, type OpnSenseModel } from './model.js';

/**
 * `configctl filter reload`: the running Filter node becomes the configured one. `byApply` is
 * a filter apply from the API (which an armed cut fault hits), not a rollback or revert.
 */
export function reloadFilter(model: OpnSenseModel, faults: OpnSenseFaults, byApply: boolean): void {
  model.running.filter = structuredClone(model.config.filter);
  const hash = filterHash(model.running.filter);
  if (byApply && faults.cutManagementOnFilterApply) {
    faults.cutManagementOnFilterApply = false;
    model.cut = { kind: 'filter', filterHash: hash };
  } else if (model.cut?.kind === 'filter' && model.cut.filterHash !== hash) {
    model.cut = null;
  }
}

/** The running wg route that covers the management source, or null. */
export function routeCovering(model: OpnSenseModel): string | null {
  const source = tryParseAddress(model.managementSource);
  if (source === null) return null;
  for (const instance of model.running.wg.values()) {
    for (const destination of instance.routes) {
      const range = tryParseCidr(destination);
      if (range !== null && contains(range, hostRange(source))) return destination;
    }
  }
  return null;
}

/** After every WireGuard reconfigure: a route into the tunnel over the management source cuts everything. */
export function updateRouteCut(model: OpnSenseModel): void {
  const destination = routeCovering(model);
  if (destination !== null) {
    model.cut = { kind: 'route', destination };
    for (const socket of model.sockets) socket.destroy();
  } else if (model.cut?.kind === 'route') {
    model.cut = null;
  }
}
