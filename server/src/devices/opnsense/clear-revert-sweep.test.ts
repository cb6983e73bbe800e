// A clear (every Meshplane item removed) and a revert (back to the previous deployment) with the
// connection dropped at each of their requests in turn (the request lost before the firewall
// carried it out, or its reply after), on a savepoint version (26.1: the filter
// savepoint and its rollback timer) and on 26.7 (lifeline), with translated LANs on 26.7 (an
// assignment, 1:1 NAT and NPTv6 to remove or put back). Each rerun must converge to what an
// undisturbed run leaves: no leftover item or pending marker, everything written also running,
// the admin's items untouched, and (26.1) still so once an interrupted round's timer ran out.
import { describeDropSweep, type DropSweepCase } from '../../../test/contract/drop-sweep.js';
import type { OverlaySpec } from '../../domain/model.js';
import { olderSpec, opnSiteSpec, opnSweepDevice, stateFor, translatedSpec } from './test-fixtures.js';

const PSK = Buffer.alloc(32, 5).toString('base64');
const withPsk = (spec: OverlaySpec): OverlaySpec => ({ ...spec, presharedKeys: [{ peerAId: 'pf', peerBId: 'b', key: PSK }] });

/** The apply (or, after it, the pending marker's removal) may be what the drop hit: the run stands, a rerun finishes. */
const bestEffort = (made: readonly string[]) => made.some((write) => /reconfigure|filter\/apply/.test(write));

type Drop = 'request' | 'reply';
const DROPS: readonly Drop[] = ['request', 'reply'];
/** The sweep's name says which is lost (vitest shortens a long `from` in the test's name). */
const named = (name: string, drop: Drop) => (drop === 'reply' ? `${name}, replies lost after the request was carried out` : name);

/** `drop`: the request is lost before the device carries it out, or its reply after (test-fixtures.ts). */
function cases(version: string, current: OverlaySpec, previous: OverlaySpec, failure: RegExp, drop: Drop): DropSweepCase[] {
  return [
    {
      operation: 'clear',
      from: 'a deployment',
      failure,
      bestEffort,
      start: () => opnSweepDevice({ version, state: stateFor(current), startFrom: stateFor(current), secrets: [PSK], drop }),
    },
    {
      operation: 'revert',
      from: 'a newer deployment back to the previous one',
      failure,
      bestEffort,
      start: () => opnSweepDevice({ version, state: stateFor(previous), startFrom: stateFor(current), secrets: [PSK], drop }),
    },
  ];
}

const UNREACHABLE = /^(written but not applied: )?UNREACHABLE: cannot talk to opn-sim \((GET|POST) \/api\/[A-Za-z_/]+(\/[0-9a-f-]{36}|\/opt\d+)?\): /;
// ≤ 26.1 a failure may also be the savepoint guard's: its cancel found no timer of its revision.
const SAVEPOINT_FAILURE = /^(written but not applied: )?(UNREACHABLE|REFUSED): (cannot talk to )?opn-sim/;

for (const drop of DROPS) {
  describeDropSweep(named('OPNsense 26.1 driver (filter savepoint)', drop), cases('26.1.5', withPsk(opnSiteSpec()), withPsk(olderSpec(opnSiteSpec())), SAVEPOINT_FAILURE, drop));

  describeDropSweep(named('OPNsense 26.7 driver', drop), cases('26.7.2', withPsk(opnSiteSpec()), withPsk(olderSpec(opnSiteSpec())), UNREACHABLE, drop));

  // Reverting a deploy that added translations removes the NAT entries and the assignment;
  // reverting one that dropped them puts them back.
  describeDropSweep(named('OPNsense 26.7 driver with translated LANs', drop), [
    ...cases('26.7.2', withPsk(translatedSpec()), withPsk(olderSpec(translatedSpec({}))), UNREACHABLE, drop),
    {
      operation: 'revert',
      from: 'a deployment without translations back to one with them',
      failure: UNREACHABLE,
      bestEffort,
      start: () => opnSweepDevice({ version: '26.7.2', state: stateFor(withPsk(translatedSpec())), startFrom: stateFor(withPsk(olderSpec(translatedSpec({})))), secrets: [PSK], drop }),
    },
  ]);
}
