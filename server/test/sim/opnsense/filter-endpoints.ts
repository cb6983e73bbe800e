// Filter, 1:1 NAT and NPTv6 endpoints (/work/shared/ref/opnsense.md §3.2, §3.3): the generic MVC
// actions over filter-models.ts, `apply` (configd filter reload → {"status":"OK\n\n"}), and on
// ≤ 26.1 the savepoint actions every FilterBaseController child shares (rollback.ts). 26.7 removed
// savepoint/cancelRollback/revert (they 404) and `apply` takes no revision.
import { addBase, delBase, getBase, searchBase, setBase, toggleBase, type ModelDef } from './mvc.js';
import type { Fields, OpnSenseModel } from './model.js';
import { reloadFilter } from './management.js';
import { legacyRows, NPT, ONE_TO_ONE, RULE } from './filter-models.js';
import { rollbackOf } from './rollback.js';
import { requestValue, type Call, type Router } from './router.js';

const SAVEPOINT_UNTIL = '26.7';

function apply(call: Call): unknown {
  if (call.method !== 'POST') return { status: 'error' };
  const revision = call.params[0];
  if (revision !== undefined && call.features.savepoint) rollbackOf(call.model).applyWithRevision(revision, call.faults);
  else reloadFilter(call.model, call.faults, true);
  return { status: 'OK\n\n' };
}

/** searchRule's `interface` parameter: the rules on that interface; without it the floating ones (none or several interfaces). */
function onInterface(call: Call): (uuid: string, record: Fields) => boolean {
  const wanted = String(requestValue(call, 'interface') ?? '');
  const all = String(requestValue(call, 'show_all') ?? '') === '1';
  return (_uuid, record) => {
    if (all) return true;
    const interfaces = (record.interface ?? '') === '' ? [] : (record.interface as string).split(',');
    return wanted === '' ? interfaces.length !== 1 : interfaces.includes(wanted);
  };
}

/** searchRule merges the legacy rules in (shown with no interface filter, or on theirs). */
function searchRules(call: Call): unknown {
  const reply = searchBase(call, RULE, onInterface(call)) as { rows: unknown[]; rowCount: number; total: number; current: number };
  const wanted = String(requestValue(call, 'interface') ?? '');
  const legacy = legacyRows(call.model).filter((row) => wanted === '' || row.interface === wanted);
  const rows = [...reply.rows, ...legacy];
  return { ...reply, rows, rowCount: rows.length, total: reply.total + legacy.length };
}

function registerController(router: Router, controller: string, def: ModelDef, since?: string): void {
  const at = (action: string) => `firewall/${controller}/${action}`;
  const window = since === undefined ? {} : { since };
  router.register(at('searchRule'), controller === 'filter' ? searchRules : (call) => searchBase(call, def), window);
  router.register(at('getRule'), (call) => getBase(call, def), window);
  router.register(at('addRule'), (call) => addBase(call, def), { ...window, write: true });
  router.register(at('setRule'), (call) => setBase(call, def), { ...window, write: true, minParams: 1 });
  router.register(at('delRule'), (call) => delBase(call, def), { ...window, write: true, minParams: 1 });
  router.register(at('toggleRule'), (call) => toggleBase(call, def), { ...window, write: true, minParams: 1 });
  router.register(at('apply'), apply, { ...window, write: true, configd: true });
  const savepoint = { ...window, until: SAVEPOINT_UNTIL, write: true };
  router.register(at('savepoint'), (call) => (call.method === 'POST' ? rollbackOf(call.model).savepoint() : { status: 'failed' }), savepoint);
  router.register(at('cancelRollback'), (call) => ({ status: call.method === 'POST' ? rollbackOf(call.model).cancel(call.params[0] as string) : 'failed' }), { ...savepoint, minParams: 1, configd: true });
  router.register(at('revert'), (call) => (call.method === 'POST' ? rollbackOf(call.model).revert(call.params[0] as string, call.faults) : { status: 'failed' }), { ...savepoint, minParams: 1, configd: true });
}

export function registerFilterEndpoints(router: Router, _model: OpnSenseModel): void {
  registerController(router, 'filter', RULE);
  registerController(router, 'one_to_one', ONE_TO_ONE, '24.7');
  registerController(router, 'npt', NPT);
}
