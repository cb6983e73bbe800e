// The firewall's own safety net (design §2.4), so a deploy whose rules cut Meshplane's
// management path off undoes itself on the device:
// - up to 26.1: `filter/savepoint` before the first firewall write, `filter/apply/<rev>` arms
//   OPNsense's 60 s rollback timer, a probe on a NEW connection (the kept-alive one passes
//   through pf's existing state and proves nothing) and, when it answers, `cancelRollback/<rev>`.
//   When it does not, the driver waits (fresh probes) until OPNsense has restored the Filter
//   node by itself and reports the change failed, naming the revision.
// - 26.7+ (no savepoint): a "lifeline" connection opened before the writes, a fresh-connection
//   probe after the apply, and on failure the firewall items as read before the writes are put
//   back and applied through the lifeline (pf keeps its state, so it still passes).
// WireGuard routes are not covered by either: preflight refuses a route over the management address.
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceError } from '../driver.js';
import type { DedicatedConnection } from '../shared/http-transport.js';
import type { Capabilities } from './capabilities.js';
import type { OpnSenseClient } from './client.js';
import type { FirewallGuard } from './executor.js';

export interface SafetyOptions {
  /** One probe's timeout. */
  probeTimeoutMs: number;
  /** Fresh-connection probes before the change counts as cutting the management path. */
  probeTries: number;
  /** Between probes while waiting for OPNsense's rollback. */
  probeEveryMs: number;
  /** How long to wait for the rollback (OPNsense's timer is 60 s). */
  rollbackWaitMs: number;
  /** Lifeline keep-alive ping interval (26.7+). */
  pingEveryMs: number;
}

export const DEFAULT_SAFETY: SafetyOptions = { probeTimeoutMs: 5_000, probeTries: 2, probeEveryMs: 2_000, rollbackWaitMs: 75_000, pingEveryMs: 2_000 };

const PROBE_PATH = 'wireguard/general/get';

/** GET on a connection of its own: whether the management path takes new connections. */
async function probe(client: OpnSenseClient, options: SafetyOptions): Promise<boolean> {
  const connection = client.freshClient();
  try {
    const reply = await connection.send(client.request('GET', PROBE_PATH), options.probeTimeoutMs);
    return reply.status === 200;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function probeTries(client: OpnSenseClient, options: SafetyOptions): Promise<boolean> {
  for (let attempt = 0; attempt < options.probeTries; attempt++) if (await probe(client, options)) return true;
  return false;
}

function filterApplied(status: unknown): boolean {
  return /^OK/i.test(String(status ?? '').trim());
}

/** ≤ 26.1: OPNsense's savepoint and rollback timer. */
export function savepointGuard(client: OpnSenseClient, options: SafetyOptions = DEFAULT_SAFETY): FirewallGuard {
  let revision: string | null = null;
  return {
    beforeWrites: async (previous) => {
      // An interrupted run's timer may still run: OPNsense arms one at a time, so this run's
      // apply would arm none and that timer would roll the filter back under this run.
      // "Execute error" = no such timer any more (it fired, or was cancelled): nothing to do.
      if (previous !== undefined) await client.call('POST', `firewall/filter/cancelRollback/${encodeURIComponent(previous)}`, { body: {} });
      const reply = await client.call<{ status?: unknown; revision?: unknown }>('POST', 'firewall/filter/savepoint', { body: {} });
      if (reply.status !== 'ok' || typeof reply.revision !== 'string' || reply.revision === '') {
        throw new DeviceError('REFUSED', `${client.name}: the filter savepoint answered ${JSON.stringify(reply)}; nothing in the firewall was changed`);
      }
      revision = reply.revision;
      return revision;
    },
    apply: async () => {
      if (revision === null) throw new DeviceError('PROTOCOL', `${client.name}: the firewall was written without a savepoint`);
      const rev = revision;
      const reply = await client.call<{ status?: unknown }>('POST', `firewall/filter/apply/${encodeURIComponent(rev)}`, { body: {} });
      if (!filterApplied(reply.status)) throw new DeviceError('REFUSED', `${client.name}: the filter reload answered ${JSON.stringify(reply.status)}`);
      if (await probeTries(client, options)) {
        const cancel = await client.call<{ status?: unknown }>('POST', `firewall/filter/cancelRollback/${encodeURIComponent(rev)}`, { body: {} });
        if (String(cancel.status ?? '').trim() === '') return;
        // No timer of this revision: it fired already, or another one (OPNsense arms one at a
        // time: the GUI's, another client's) ran first and will roll back to its own savepoint.
        throw new DeviceError('REFUSED', `${client.name}: the firewall change could not be confirmed (cancelRollback answered ${JSON.stringify(cancel.status)}): no rollback timer of revision ${rev} was running, so OPNsense rolled it back already or another savepoint's timer (armed before this deploy) will roll the filter back to that savepoint within 60 s; run the deploy again after that`);
      }
      // Cut off: OPNsense puts the Filter node of the savepoint back by itself; wait for it.
      const attempts = Math.max(1, Math.ceil(options.rollbackWaitMs / options.probeEveryMs));
      for (let attempt = 0; attempt < attempts; attempt++) {
        await sleep(options.probeEveryMs);
        if (await probe(client, options)) {
          throw new DeviceError('REFUSED', `${client.name}: the firewall change cut off Meshplane's management path (no new connection got through); OPNsense rolled it back to revision ${rev}`);
        }
      }
      throw new DeviceError('UNREACHABLE', `${client.name}: the firewall change cut off Meshplane's management path and the firewall did not answer within ${Math.round(options.rollbackWaitMs / 1000)} s; OPNsense rolls it back to revision ${rev} by itself (check the GUI)`);
    },
    finish: async () => {
      revision = null;
    },
  };
}

type Row = Record<string, unknown>;

/** The firewall items the revert may have to put back: every controller's rows as read before the writes. */
const CONTROLLERS = ['filter', 'one_to_one', 'npt'] as const;
const RULE_INTERFACES = ['', 'wan', 'wireguard'];

async function readRows(connection: DedicatedConnection, client: OpnSenseClient, controller: string): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  const interfaces = controller === 'filter' ? RULE_INTERFACES : [''];
  for (const name of interfaces) {
    const body = { current: 1, rowCount: -1, searchPhrase: '', ...(name === '' ? {} : { interface: name }) };
    const path = `firewall/${controller}/searchRule`;
    const reply = client.parse<{ rows?: Row[] }>('POST', path, await connection.send(client.request('POST', path, body)));
    for (const row of reply.rows ?? []) if (!row.legacy && !row.is_automatic && typeof row.uuid === 'string') rows.set(row.uuid, row);
  }
  return rows;
}

/** A search row as a write body: raw values (26.7 rows are), no uuid, no labels. */
function writable(row: Row): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([key, value]) => key !== 'uuid' && !key.startsWith('%') && (typeof value === 'string' || typeof value === 'number')));
}

/** 26.7+: a kept-open connection, and the firewall as it was, put back through it when the change cuts. */
export function lifelineGuard(client: OpnSenseClient, capabilities: Capabilities, options: SafetyOptions = DEFAULT_SAFETY): FirewallGuard {
  let lifeline: DedicatedConnection | null = null;
  let ping: NodeJS.Timeout | null = null;
  const before = new Map<string, Map<string, Row>>();
  let controllers: string[] = CONTROLLERS.filter((controller) => controller !== 'one_to_one' || capabilities.oneToOne);

  const send = async (path: string, body: unknown = {}) => {
    if (lifeline === null) throw new DeviceError('UNREACHABLE', 'no lifeline');
    return client.parse<Record<string, unknown>>('POST', path, await lifeline.send(client.request('POST', path, body)));
  };

  const revert = async (): Promise<void> => {
    for (const controller of controllers) {
      const was = before.get(controller) ?? new Map<string, Row>();
      const now = await readRows(lifeline as DedicatedConnection, client, controller);
      for (const uuid of now.keys()) if (!was.has(uuid)) await send(`firewall/${controller}/delRule/${uuid}`);
      for (const [uuid, row] of was) {
        const current = now.get(uuid);
        if (current === undefined) await send(`firewall/${controller}/addRule`, { rule: writable(row) });
        else if (JSON.stringify(writable(current)) !== JSON.stringify(writable(row))) await send(`firewall/${controller}/setRule/${uuid}`, { rule: writable(row) });
      }
    }
    const reply = await send('firewall/filter/apply');
    if (!filterApplied(reply.status)) throw new DeviceError('REFUSED', `the filter reload answered ${JSON.stringify(reply.status)}`);
  };

  return {
    beforeWrites: async () => {
      lifeline = client.lifeline();
      for (const controller of controllers) {
        try {
          before.set(controller, await readRows(lifeline, client, controller));
        } catch (error) {
          // A key without the NAT privileges can neither read nor write NAT: nothing of it to put back.
          if (controller === 'filter' || !(error instanceof DeviceError) || error.code !== 'AUTH_FAILED') throw error;
        }
      }
      controllers = controllers.filter((controller) => before.has(controller));
      ping = setInterval(() => {
        void lifeline?.send(client.request('GET', PROBE_PATH)).catch(() => undefined);
      }, options.pingEveryMs);
      ping.unref();
    },
    apply: async () => {
      const reply = await client.call<{ status?: unknown }>('POST', 'firewall/filter/apply', { body: {} });
      if (!filterApplied(reply.status)) throw new DeviceError('REFUSED', `${client.name}: the filter reload answered ${JSON.stringify(reply.status)}`);
      if (await probeTries(client, options)) return;
      try {
        await revert();
      } catch (error) {
        throw new DeviceError('UNREACHABLE', `${client.name}: the firewall change cut off Meshplane's management path, and reverting it through the open connection failed (${(error as Error).message}): restore the firewall rules in the GUI`);
      }
      throw new DeviceError('REFUSED', `${client.name}: the firewall change cut off Meshplane's management path (no new connection got through); it was reverted through the open connection`);
    },
    finish: async () => {
      if (ping !== null) clearInterval(ping);
      ping = null;
      before.clear();
      await lifeline?.close().catch(() => undefined);
      lifeline = null;
    },
  };
}

/** The guard for this firewall's version. */
export function safetyNet(options: Partial<SafetyOptions> = {}): (client: OpnSenseClient, capabilities: Capabilities) => FirewallGuard {
  const merged = { ...DEFAULT_SAFETY, ...options };
  return (client, capabilities) => (capabilities.savepoint ? savepointGuard(client, merged) : lifelineGuard(client, capabilities, merged));
}
