// A clear (every Meshplane object removed) and a revert (back to the previous deployment) with
// the connection dropped at each of their requests in turn (reads, every delete, create and
// update, every area's apply and its status). pfSense stages each change until its area is
// applied, so a rerun must also apply what the interrupted run left staged: it converges to
// what an undisturbed run leaves (nothing pending, none of Meshplane's objects after a clear,
// the previous deployment after a revert), with the admin's objects untouched. Also dual-stack
// (a gateway per family, NETMAP and NPTv6, port forwards): cleared, and reverted to and from
// the single-stack deployment.
import { describeDropSweep } from '../../../test/contract/drop-sweep.js';
import { SWEEP_FAILURE, dualStackSiteSpec, olderSweepSpec, pfSweepDevice, stateFor, sweepSpec } from './test-fixtures.js';

const PSK = Buffer.alloc(32, 5).toString('base64');
const current = () => stateFor(sweepSpec(PSK));
const previous = () => stateFor(olderSweepSpec(sweepSpec(PSK)));
const dualStack = () => stateFor({ ...dualStackSiteSpec(), presharedKeys: [{ peerAId: 'pf', peerBId: 'b', key: PSK }] });

describeDropSweep('pfSense driver', [
  {
    operation: 'clear',
    from: 'a deployment',
    writes: [
      'DELETE firewall/nat/one_to_one/mapping', 'DELETE firewall/rule', 'DELETE routing/static_route', 'DELETE routing/gateway', 'DELETE interface',
      'DELETE vpn/wireguard/peer', 'DELETE vpn/wireguard/tunnel', 'POST vpn/wireguard/apply', 'POST interface/apply', 'POST routing/apply', 'POST firewall/apply',
    ],
    failure: SWEEP_FAILURE,
    start: () => pfSweepDevice({ state: current(), startFrom: current(), secrets: [PSK] }),
  },
  {
    operation: 'revert',
    from: 'a newer deployment back to the previous one',
    writes: ['DELETE vpn/wireguard/peer', 'POST vpn/wireguard/peer', 'PATCH vpn/wireguard/peer', 'POST routing/static_route', 'POST vpn/wireguard/apply', 'POST routing/apply'],
    failure: SWEEP_FAILURE,
    start: () => pfSweepDevice({ state: previous(), startFrom: current(), secrets: [PSK] }),
  },
  {
    operation: 'clear',
    from: 'a dual-stack deployment',
    writes: ['DELETE firewall/nat/port_forward', 'DELETE firewall/nat/one_to_one/mapping', 'DELETE routing/gateway', 'POST routing/apply', 'POST firewall/apply'],
    failure: SWEEP_FAILURE,
    start: () => pfSweepDevice({ state: dualStack(), startFrom: dualStack(), secrets: [PSK] }),
  },
  {
    operation: 'revert',
    from: 'a dual-stack deployment back to a single-stack one',
    failure: SWEEP_FAILURE,
    start: () => pfSweepDevice({ state: current(), startFrom: dualStack(), secrets: [PSK] }),
  },
  {
    operation: 'revert',
    from: 'a single-stack deployment back to a dual-stack one',
    failure: SWEEP_FAILURE,
    start: () => pfSweepDevice({ state: dualStack(), startFrom: current(), secrets: [PSK] }),
  },
]);
