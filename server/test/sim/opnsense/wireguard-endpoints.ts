// WireGuard endpoints (/work/shared/ref/opnsense.md §2.2): general, server (instances), client
// (peers, with the `servers` write-through of §2.6) and service (reconfigure, show, status).
import { generateKeyPair, generatePresharedKey } from '../../../src/domain/keys.js';
import type { OpnSenseModel } from './model.js';
import { addBase, applyWrite, bodyObject, delBase, getBase, searchBase, setBase, toggleBase, validateRecord } from './mvc.js';
import { PhpError, requestValue, type Call, type JsonObject, type Router } from './router.js';
import { reconfigure, showRows, wgShowAllDump } from './runtime.js';
import { scalarOf } from './fields.js';
import { clientDef, generalDef, serverDef, setMembership } from './wireguard-models.js';
import { splitList } from './model.js';

const FAILED = { result: 'failed' };

function generalGet(call: Call): unknown {
  return { general: { enabled: call.model.config.general.enabled } };
}

function generalSet(call: Call): unknown {
  if (call.method !== 'POST') return FAILED;
  const input = bodyObject(call, 'general');
  if (!input) return FAILED;
  const record = { ...call.model.config.general };
  const written = applyWrite(generalDef, call.model, record, input);
  const validations = validateRecord(generalDef, { model: call.model, uuid: 'general', record }, written);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  call.model.config.general = { enabled: record.enabled ?? '0' };
  call.model.save();
  return { result: 'saved' };
}

/** An empty `instance` on write means "the next free one" (AutoNumberField). */
const serverHooks = (model: OpnSenseModel) => ({
  beforeSave: (_uuid: string, record: Record<string, string>) => {
    if (record.instance === '') record.instance = model.nextInstance();
  },
});

/**
 * ClientController::setClientAction(): `servers` (comma string) rewrites every instance's `peers`;
 * absent or empty means attached to nothing (24.1+, §2.6) unless that quirk is switched off.
 */
const clientHooks = (call: Call) => ({
  beforeSave: (uuid: string, _record: Record<string, string>, input: JsonObject) => {
    if (!call.features.clientServers) return;
    let servers: string[];
    if (Object.hasOwn(input, 'servers')) servers = splitList(scalarOf('servers', input.servers, call.features.invalidInputType));
    else if (call.faults.setClientWithoutServersDetaches) servers = [];
    else return;
    setMembership(call.model, uuid, servers.filter((server) => call.model.config.servers.has(server)));
  },
});

function delClient(call: Call): unknown {
  return delBase(call, clientDef, (uuid) => {
    // 24.1.6+ unlinks the peer from every instance; before, its UUID dangles in `peers`.
    if (!call.faults.danglingPeerUuid) setMembership(call.model, uuid, []);
  });
}

/** searchClient's optional `servers` array: only peers attached to one of those instances. */
function searchClient(call: Call): unknown {
  const servers = requestValue(call, 'servers');
  if (!Array.isArray(servers) || servers.length === 0) return searchBase(call, clientDef);
  const wanted = new Set(servers.map(String));
  return searchBase(call, clientDef, (uuid) => call.model.clientServers(uuid).some((server) => wanted.has(server)));
}

function listServers(call: Call): unknown {
  return { rows: [...call.model.config.servers.entries()].map(([uuid, server]) => ({ uuid, name: server.name ?? '' })), status: 'ok' };
}

function serviceReconfigure(call: Call): unknown {
  if (call.method !== 'POST') return FAILED;
  reconfigure(call.model, call.faults);
  return { result: 'ok' };
}

/** showAction: rowCount from the POST body (default 9999), `type` must be an array. */
function serviceShow(call: Call): unknown {
  const type = call.post.type;
  if (type !== undefined && !Array.isArray(type)) throw new PhpError('in_array(): Argument #2 ($haystack) must be of type array');
  const types = Array.isArray(type) ? type.map(String) : null;
  let rows = showRows(call.model, wgShowAllDump(call.model));
  if (types) rows = rows.filter((row) => types.includes(String(row.type)));
  const parsedRowCount = Number.parseInt(String(call.post.rowCount ?? '9999'), 10);
  const rowCount = Number.isNaN(parsedRowCount) ? 9999 : parsedRowCount;
  const current = Math.max(1, Number.parseInt(String(call.post.current ?? '1'), 10) || 1);
  const page = rowCount < 0 ? rows : rows.slice((current - 1) * rowCount, current * rowCount);
  return { total: rows.length, rowCount: page.length, current, rows: page };
}

function serviceStatus(call: Call): unknown {
  // There is no `wireguard status` configd action: the generic status answers unknown/disabled.
  return { status: call.model.config.general.enabled === '1' ? 'unknown' : 'disabled', widget: { caption_stop: 'stop service', caption_start: 'start service', caption_restart: 'restart service' } };
}

export function registerWireGuardEndpoints(router: Router, model: OpnSenseModel): void {
  router.register('wireguard/general/get', generalGet);
  router.register('wireguard/general/set', generalSet, { write: true });

  router.register('wireguard/server/searchServer', (call) => searchBase(call, serverDef));
  router.register('wireguard/server/getServer', (call) => getBase(call, serverDef));
  router.register('wireguard/server/addServer', (call) => addBase(call, serverDef, serverHooks(model)), { write: true });
  router.register('wireguard/server/setServer', (call) => setBase(call, serverDef, serverHooks(model)), { write: true, minParams: 1 });
  router.register('wireguard/server/delServer', (call) => delBase(call, serverDef), { write: true, minParams: 1 });
  router.register('wireguard/server/toggleServer', (call) => toggleBase(call, serverDef, false), { write: true, minParams: 1 });
  router.register('wireguard/server/keyPair', () => {
    const pair = generateKeyPair();
    return { privkey: pair.privateKey, pubkey: pair.publicKey, status: 'ok' };
  });

  router.register('wireguard/client/searchClient', searchClient);
  router.register('wireguard/client/getClient', (call) => getBase(call, clientDef));
  router.register('wireguard/client/addClient', (call) => addBase(call, clientDef, clientHooks(call)), { write: true });
  router.register('wireguard/client/setClient', (call) => setBase(call, clientDef, clientHooks(call)), { write: true, minParams: 1 });
  router.register('wireguard/client/delClient', delClient, { write: true, minParams: 1 });
  router.register('wireguard/client/toggleClient', (call) => toggleBase(call, clientDef, false), { write: true, minParams: 1 });
  router.register('wireguard/client/psk', () => ({ psk: generatePresharedKey(), status: 'ok' }), { since: '24.1' });
  router.register('wireguard/client/listServers', listServers, { since: '24.7' });

  router.register('wireguard/service/reconfigure', serviceReconfigure, { write: true, configd: true });
  router.register('wireguard/service/show', serviceShow);
  router.register('wireguard/service/status', serviceStatus);
}

