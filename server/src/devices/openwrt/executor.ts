// Applies a plan as ONE transaction on the router: every UCI write is staged in this
// driver's rpcd session, then `uci apply` with rollback, checks, `uci confirm` (safe-apply.ts).
// Sections are addressed by their own name when UCI did not make it up, else by content
// (`type` + `match`): an anonymous `cfgNNHHHH` read earlier may name another section by now.
// After the confirm, the running WireGuard devices are brought in line with `wg set`, so
// sessions survive (netifd would only apply peer sections by tearing the device down).
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import { secretsOf, updateContext, type Plan, type PlanOperation } from '../../domain/plan.js';
import { redactSecrets } from '../../domain/secret-masking.js';
import type { ApplyResult, ProgressListener } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { SecretStore } from '../shared/secrets.js';
import { parseWgInterfaceDump } from '../shared/wg-dump.js';
import { WITNESSES } from './adoption.js';
import { refusalText, statusText } from './errors.js';
import { KIND, KIND_SPECS, MARKER_KINDS, sectionType } from './kinds.js';
import { INCLUDE_DIR, isAnonymous, isIncludeFile, leftoversPath, parseKey, PSK_FILE, sectionName, tagOf, TAG_OPTION } from './names.js';
import { dstChain, renderInclude } from './netmap-nft.js';
import { runtimeDiff, runtimePeersOf, wgSetArgs, type UciValues } from './runtime-sync.js';
import { safeApply, type ApplyCheck, type SafeApplyTiming } from './safe-apply.js';
import { LEFTOVERS_ID, sectionsOf } from './snapshot.js';
import { WG } from './stats.js';
import type { UbusCall, UbusClient, UbusResult } from './ubus-client.js';

export const NFT = '/usr/sbin/nft';

export interface ExecutorContext {
  client: UbusClient;
  device: string;
  prefix: string;
  secrets: SecretStore;
  timing: SafeApplyTiming;
  /** Props of a section as last read, by "<kind>\0<id>": what finds an adopted anonymous section again. */
  lastRead: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** A line for the server log (never a secret). */
  log?: (message: string) => void;
}

/** A step of the plan that failed: where, and the message with any secret of the operation removed. */
class StepFailure extends Error {
  constructor(readonly operation: PlanOperation, readonly error: DeviceError) {
    super(error.message);
  }
}

const CONFIGS = ['network', 'firewall'] as const;

function configOf(kind: string): 'network' | 'firewall' {
  const spec = KIND_SPECS[kind];
  if (!spec) throw new DeviceError('PROTOCOL', `unknown resource kind ${kind}`);
  return spec.config;
}

/** Plan props → UCI values: lists as arrays, fingerprints as the keys they stand for, '' deletes. */
function uciValues(ctx: ExecutorContext, kind: string, props: Readonly<Record<string, string>>, creating: boolean): Record<string, string | string[]> {
  const spec = KIND_SPECS[kind]!;
  const values: Record<string, string | string[]> = {};
  for (const [prop, value] of Object.entries(props)) {
    const role = spec.props[prop];
    if (role === undefined || role === 'readOnly' || role === 'virtual') continue;
    if (value === '') {
      if (!creating) values[prop] = '';
      continue;
    }
    if (role === 'list') values[prop] = value.split(',').filter(Boolean);
    else if ((prop === 'private_key' || prop === 'preshared_key') && value.startsWith('sha256:')) values[prop] = ctx.secrets.reveal(value);
    else values[prop] = value;
  }
  return values;
}

function contextOf(ctx: ExecutorContext, operation: PlanOperation): Readonly<Record<string, string>> {
  const id = 'id' in operation ? operation.id : '';
  return { ...ctx.lastRead.get(`${operation.kind}\u0000${id}`), ...(operation.op === 'delete' ? operation.props : {}), ...updateContext.get(operation) };
}

/** The section type of an existing item: a peer's comes from its interface. */
function typeOf(ctx: ExecutorContext, operation: PlanOperation): string {
  if (operation.kind !== KIND.peer) return KIND_SPECS[operation.kind]!.type;
  const known = contextOf(ctx, operation).interface;
  const fromKey = operation.key === null ? undefined : parseKey(operation.key)?.name.split('/')[0];
  return `wireguard_${known ?? fromKey ?? ''}`;
}

/** How an update or delete names its section: by name when stable, else by type and content. */
function selector(ctx: ExecutorContext, operation: PlanOperation & { id: string }): Record<string, unknown> {
  if (!isAnonymous(operation.id)) return { section: operation.id };
  const type = typeOf(ctx, operation);
  const context = contextOf(ctx, operation);
  if (operation.op === 'update' && operation.reason === ADOPTED_REASON) {
    const witness = WITNESSES[operation.kind] ?? [];
    const match: Record<string, string> = {};
    for (const prop of witness) if (context[prop]) match[prop] = context[prop] as string;
    if (operation.kind === KIND.rule && operation.before.name) match.name = operation.before.name;
    if (Object.keys(match).length < witness.length) {
      throw new DeviceError('REFUSED', `${operation.kind} ${operation.id} was read by another driver instance, so it cannot be found again safely: read and adopt again`);
    }
    return { type, match };
  }
  if (operation.key !== null && KIND_SPECS[operation.kind]?.tagIn === 'mp_tag') return { type, match: { [TAG_OPTION]: tagOf(ctx.prefix, operation.key) } };
  // The name it has now: as read (an update's context holds the name it will get).
  const read = ctx.lastRead.get(`${operation.kind}\u0000${operation.id}`);
  const name = operation.op === 'update' && operation.changes.name !== undefined ? operation.before.name : read?.name ?? (operation.op === 'delete' ? operation.props.name : undefined);
  if (!name) throw new DeviceError('REFUSED', `${operation.kind} ${operation.id} cannot be found again (its name is not known): read the device and plan again`);
  return { type, match: { name } };
}

/** The uci (and file) calls that stage one operation. */
function stagingCalls(ctx: ExecutorContext, operation: PlanOperation): UbusCall[] {
  const config = configOf(operation.kind);
  const calls: UbusCall[] = [];
  /** The files this operation starts or stops using, listed before any is written (names.ts leftoversPath). */
  const noteFiles = (...paths: Array<string | undefined>) => {
    const files = paths.filter((path): path is string => path !== undefined && isIncludeFile(path));
    const wanId = operation.key === null ? undefined : parseKey(operation.key)?.wanId;
    if (operation.kind !== KIND.include || files.length === 0 || wanId === undefined) return;
    calls.push({ object: 'file', method: 'write', args: { path: leftoversPath(ctx.prefix, wanId), data: files.map((path) => `${path}\n`).join(''), append: true, mode: 0o644 } });
  };
  /** `stopped`: the file an update moves away from. */
  const include = (props: Readonly<Record<string, string>>, stopped?: string) => {
    if (operation.kind !== KIND.include || props.path === undefined || operation.key === null) return;
    const spec = props.netmap ?? contextOf(ctx, operation).netmap ?? '';
    noteFiles(stopped, props.path);
    // Content-addressed: the file under a new path is written before the section points at it.
    calls.push({ object: 'file', method: 'write', args: { path: props.path, data: renderInclude(tagOf(ctx.prefix, operation.key), spec), mode: 0o644 } });
  };
  switch (operation.op) {
    case 'create': {
      include(operation.props);
      const tag = operation.props[TAG_OPTION] ?? operation.props.name?.split(' ')[0] ?? tagOf(ctx.prefix, operation.key);
      const name = operation.kind === KIND.iface ? operation.props.name ?? '' : sectionName(tag);
      // Undo re-creates a peer from its writable props: its interface is then the key's.
      const type = operation.kind === KIND.peer && !operation.props.interface ? typeOf(ctx, operation) : sectionType(operation.kind, operation.props);
      calls.push({ object: 'uci', method: 'add', args: { config, type, name, values: uciValues(ctx, operation.kind, operation.props, true) } });
      break;
    }
    case 'update': {
      include(operation.changes, operation.before.path);
      const values = uciValues(ctx, operation.kind, operation.changes, false);
      if (Object.keys(values).length > 0) calls.push({ object: 'uci', method: 'set', args: { config, ...selector(ctx, operation), values } });
      break;
    }
    case 'delete':
      noteFiles(operation.props.path);
      calls.push({ object: 'uci', method: 'delete', args: { config, ...selector(ctx, operation) } });
      break;
  }
  return calls;
}

async function revertAll(ctx: ExecutorContext): Promise<void> {
  await ctx.client.batch(CONFIGS.map((config) => ({ object: 'uci', method: 'revert', args: { config } }))).catch(() => undefined);
}

/** Stages every operation in this session, in plan order; a refusal reverts the lot. Redone once when the session was replaced mid-way. */
async function stage(ctx: ExecutorContext, operations: readonly PlanOperation[]): Promise<void> {
  const owners: PlanOperation[] = [];
  const calls: UbusCall[] = [];
  for (const operation of operations) {
    let staged: UbusCall[];
    try {
      staged = stagingCalls(ctx, operation);
    } catch (error) {
      throw new StepFailure(operation, error instanceof DeviceError ? error : new DeviceError('REFUSED', String((error as Error).message)));
    }
    for (const call of staged) {
      owners.push(operation);
      calls.push(call);
    }
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    if (ctx.client.session === null) await ctx.client.login();
    const generation = ctx.client.generation;
    // Deltas an interrupted run left in this session would be applied with ours.
    const changes = await ctx.client.call('uci', 'changes', {});
    const staged = changes.status === 0 && changes.data && typeof changes.data.changes === 'object' ? Object.keys(changes.data.changes as object) : [];
    if (staged.length > 0) await ctx.client.batch(staged.map((config) => ({ object: 'uci', method: 'revert', args: { config } })));
    const results = await ctx.client.batch(calls);
    // An expired session lost the deltas staged before the fresh login: stage all again.
    if (ctx.client.generation !== generation) continue;
    const refused = results.findIndex((result) => result.status !== 0);
    if (refused === -1) return;
    await revertAll(ctx);
    const call = calls[refused]!;
    throw new StepFailure(owners[refused]!, new DeviceError('REFUSED', refusalText(call.object, call.method, call.args ?? {}, results[refused]!.status)));
  }
  throw new DeviceError('AUTH_FAILED', 'the rpcd session expired twice while the change was staged');
}

/** Read-only checks before the confirm: each managed interface up with its addresses, each include's chain loaded. */
function checksFor(ctx: ExecutorContext, operations: readonly PlanOperation[]): ApplyCheck[] {
  const checks: ApplyCheck[] = [];
  for (const operation of operations) {
    if (operation.kind === KIND.iface && operation.op !== 'delete') {
      const ifname = operation.op === 'create' ? operation.props.name ?? '' : operation.id;
      const addresses = operation.op === 'create' ? operation.props.addresses : updateContext.get(operation)?.addresses;
      const disabled = (operation.op === 'create' ? operation.props.disabled : updateContext.get(operation)?.disabled) === '1';
      if (disabled) continue;
      checks.push({
        calls: [{ object: 'network.interface', method: 'status', args: { interface: ifname } }],
        verdict: ([result]) => {
          if (result?.status !== 0) return `${ifname}: network.interface status ${statusText(result?.status ?? -1)}`;
          const status = result.data as { up?: boolean; 'ipv4-address'?: Array<{ address: string }>; 'ipv6-address'?: Array<{ address: string }>; errors?: Array<{ code?: string }> };
          if (status.up !== true) return `${ifname} is not up${status.errors?.length ? ` (${status.errors.map((entry) => entry.code).join(', ')})` : ''}`;
          const live = new Set([...(status['ipv4-address'] ?? []), ...(status['ipv6-address'] ?? [])].map((entry) => entry.address));
          const missing = (addresses ?? '').split(',').filter(Boolean).map((address) => address.split('/')[0] as string).filter((address) => !live.has(address));
          return missing.length === 0 ? null : `${ifname} is up without ${missing.join(', ')}`;
        },
      });
    }
    if (operation.kind === KIND.include && operation.op !== 'delete' && operation.key !== null) {
      const spec = (operation.op === 'create' ? operation.props.netmap : operation.changes.netmap) ?? contextOf(ctx, operation).netmap ?? '';
      const chain = dstChain(tagOf(ctx.prefix, operation.key), spec);
      checks.push({
        calls: [{ object: 'file', method: 'exec', args: { command: NFT, params: ['list', 'chain', 'inet', 'fw4', chain] } }],
        verdict: ([result]) => (result?.status === 0 && (result.data as { code?: number })?.code === 0 ? null
          : `fw4 did not load chain ${chain}: this router's nftables cannot load prefix NAT (NETMAP), or the include failed`),
      });
    }
  }
  return checks;
}

/**
 * The include files this plan stopped pointing at (an update moved to a new path, or the
 * include went), and the files the leftovers marker found unused, removed after the confirm:
 * before it, a rollback may still need them. Not those of a marker (null) whose reading is out
 * of date.
 */
async function removeStaleIncludes(ctx: ExecutorContext, operations: readonly PlanOperation[], leftovers: PlanOperation | undefined | null): Promise<void> {
  const old = new Set<string>();
  const current = new Set<string>();
  for (const operation of operations.filter((item) => item.kind === KIND.include)) {
    if (operation.op === 'delete' && operation.props.path) old.add(operation.props.path);
    if (operation.op === 'update' && operation.changes.path) {
      current.add(operation.changes.path);
      if (operation.before.path) old.add(operation.before.path);
    }
    if (operation.op === 'create' && operation.props.path) current.add(operation.props.path);
  }
  const marker = leftovers === undefined || leftovers === null ? {} : contextOf(ctx, leftovers);
  for (const path of (marker.unused ?? '').split(',')) if (isIncludeFile(path) || path === PSK_FILE) old.add(path);
  const stale = [...old].filter((path) => !current.has(path) && (path.startsWith(`${INCLUDE_DIR}/`) || path === PSK_FILE));
  const removals = stale.map((path) => ({ object: 'file', method: 'remove', args: { path } }));
  const results = removals.length > 0 ? await ctx.client.batch(removals) : [];
  // NOT_FOUND: already gone. Any other answer keeps the list, so the next run tries again.
  const refused = results.findIndex((result) => result.status !== 0 && result.status !== 4);
  if (refused !== -1) throw new DeviceError('REFUSED', refusalText('file', 'remove', removals[refused]!.args, results[refused]!.status));
}

/** This WAN's leftovers list: from the keys of the plan's items, else as last read. */
function leftoversListOf(ctx: ExecutorContext, operations: readonly PlanOperation[]): string | null {
  for (const operation of operations) {
    const wanId = operation.key === null ? undefined : parseKey(operation.key)?.wanId;
    if (wanId !== undefined) return leftoversPath(ctx.prefix, wanId);
  }
  return ctx.lastRead.get(`${KIND.leftovers}\u0000${LEFTOVERS_ID}`)?.list ?? null;
}

/**
 * Brings each running WireGuard device of `interfaces` in line with its committed peer sections,
 * peer by peer with `wg set` (sessions and counters of the others stay). A PSK goes through a
 * 0600 file that is removed again, never the command line. Returns what it did.
 */
export async function syncRuntime(ctx: ExecutorContext, interfaces: readonly string[], list: string | null): Promise<{ done: string[]; noted: boolean }> {
  const done: string[] = [];
  let noted = false;
  if (interfaces.length === 0) return { done, noted };
  const [network, ...dumps] = await ctx.client.batch([
    { object: 'uci', method: 'get', args: { config: 'network' } },
    ...interfaces.map((ifname) => ({ object: 'file', method: 'exec', args: { command: WG, params: ['show', ifname, 'dump'] } })),
  ]);
  if (network?.status !== 0) throw new DeviceError('REFUSED', `uci.get network: ${statusText(network?.status ?? -1)}`);
  const sections = sectionsOf((network.data?.values ?? {}) as Record<string, UciValues>);
  await ctx.client.call('file', 'remove', { path: PSK_FILE });
  for (const [index, ifname] of interfaces.entries()) {
    const exec = dumps[index] as UbusResult<{ code?: number; stdout?: string }>;
    if (exec.status !== 0 || exec.data?.code !== 0) continue; // not running: netifd brings it up from UCI
    const own = sections.find((section) => section['.name'] === ifname && section['.type'] === 'interface') ?? {};
    const peers = sections.filter((section) => section['.type'] === `wireguard_${ifname}`);
    const psks = new Map<string, string>();
    const fingerprint = (key: string) => {
      const print = ctx.secrets.remember(key);
      psks.set(print, key);
      return print;
    };
    const diff = runtimeDiff(runtimePeersOf(peers, fingerprint), parseWgInterfaceDump(exec.data.stdout ?? ''), {
      privateKey: typeof own.private_key === 'string' && own.private_key !== '' ? ctx.secrets.remember(own.private_key) : null,
      listenPort: typeof own.listen_port === 'string' ? own.listen_port : '',
    });
    if (diff.restart !== null) {
      ctx.log?.(`${ctx.device}: ${ifname} runs with another ${diff.restart} than UCI: restarting it (sessions on it start again)`);
      await ctx.client.batch([
        { object: 'network.interface', method: 'down', args: { interface: ifname } },
        { object: 'network.interface', method: 'up', args: { interface: ifname } },
      ]);
      done.push(`restarted ${ifname} (${diff.restart})`);
      continue;
    }
    for (const step of diff.steps) {
      const psk = step.op === 'set' && step.presharedKey !== null ? psks.get(step.presharedKey) ?? null : null;
      if (psk !== null) {
        // Listed first: a run cut off before its removal leaves the file to the next run.
        if (!noted && list !== null) {
          const listed = await ctx.client.call('file', 'write', { path: list, data: `${PSK_FILE}\n`, append: true, mode: 0o644 });
          if (listed.status !== 0) throw new DeviceError('REFUSED', refusalText('file', 'write', { path: list }, listed.status));
          noted = true;
        }
        const wrote = await ctx.client.call('file', 'write', { path: PSK_FILE, data: psk, mode: 0o600 });
        if (wrote.status !== 0) throw new DeviceError('REFUSED', refusalText('file', 'write', { path: PSK_FILE }, wrote.status));
      }
      let left: DeviceError | null = null;
      try {
        const result = await ctx.client.call<{ code?: number }>('file', 'exec', { command: WG, params: wgSetArgs(ifname, step, psk === null ? null : PSK_FILE) });
        if (result.status !== 0 || result.data?.code !== 0) {
          throw new DeviceError('REFUSED', `wg set ${ifname} peer ${step.publicKey}: ${result.status !== 0 ? refusalText('file', 'exec', { command: WG }, result.status) : `exit ${String(result.data?.code)}`}`);
        }
      } finally {
        if (psk !== null) left = await removePskFile(ctx);
      }
      // Not removed: the run fails, so its leftovers list stays for the next run to remove it.
      if (left !== null) throw left;
      done.push(`${step.op === 'remove' ? 'removed' : 'set'} peer ${step.publicKey} on ${ifname} (${step.why})`);
    }
  }
  return { done, noted };
}

/** Removes the preshared-key file; what went wrong, or null (NOT_FOUND: already gone). */
async function removePskFile(ctx: ExecutorContext): Promise<DeviceError | null> {
  try {
    const removed = await ctx.client.call('file', 'remove', { path: PSK_FILE });
    return removed.status === 0 || removed.status === 4 ? null : new DeviceError('REFUSED', `${PSK_FILE} was not removed after wg set: ${refusalText('file', 'remove', { path: PSK_FILE }, removed.status)}`);
  } catch (error) {
    const cause = error instanceof DeviceError ? error : new DeviceError('PROTOCOL', String((error as Error)?.message ?? error));
    return new DeviceError(cause.code, `${PSK_FILE} was not removed after wg set: ${cause.message}`);
  }
}

/** The WireGuard interfaces whose running peers may differ after this plan: every interface it touched or whose peers it touched. */
function runtimeInterfaces(operations: readonly PlanOperation[], ctx: ExecutorContext): string[] {
  const names = new Set<string>();
  for (const operation of operations) {
    if (operation.kind === KIND.runtime) for (const name of (contextOf(ctx, operation).differs ?? '').split(',')) names.add(name);
    if (operation.kind === KIND.peer && !(operation.op === 'update' && operation.reason === ADOPTED_REASON)) {
      // A tag or description alone changes nothing that runs.
      if (operation.op === 'update' && Object.keys(operation.changes).every((prop) => prop === TAG_OPTION || prop === 'description')) continue;
      names.add(typeOf(ctx, operation).slice('wireguard_'.length));
    }
    if (operation.kind === KIND.iface && operation.op === 'update' && operation.reason !== ADOPTED_REASON) names.add(operation.id);
  }
  const deleted = new Set(operations.filter((operation) => operation.kind === KIND.iface && operation.op === 'delete').map((operation) => (operation as { id: string }).id));
  return [...names].filter((name) => name !== '' && !deleted.has(name)).sort();
}

function failure(operation: PlanOperation, error: unknown): NonNullable<ApplyResult['failed']> {
  const secrets = secretsOf(operation);
  const deviceError = error instanceof DeviceError ? error : new DeviceError('PROTOCOL', String((error as Error)?.message ?? error));
  const message = redactSecrets(`${deviceError.code}: ${deviceError.message}`, secrets);
  return deviceError.code === 'REFUSED' ? { operation, message } : { operation, message, cause: new DeviceError(deviceError.code, redactSecrets(deviceError.message, secrets)) };
}

export async function executePlan(ctx: ExecutorContext, plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult> {
  const operations = plan.operations;
  const total = operations.length;
  if (total === 0) return { applied: 0, failed: null };
  const last = operations[total - 1]!;
  const pending = operations.find((operation) => operation.kind === KIND.apply);
  const config = operations.filter((operation) => !MARKER_KINDS.has(operation.kind));
  const leftovers = operations.find((operation) => operation.kind === KIND.leftovers);
  // A pending apply the router's timer had already rolled back: the reading this plan came from
  // is older than the config now there, so a file it saw unused may be in use again.
  let rolledBackMeanwhile = false;

  // 1. A protected apply still waiting (an interrupted run): confirm it first.
  if (pending) {
    try {
      const confirmed = await ctx.client.call('uci', 'confirm', {});
      if (confirmed.status === 6) return { applied: 0, failed: failure(pending, new DeviceError('REFUSED', 'uci.confirm: PERMISSION_DENIED (6): another session\'s change is pending on the router (LuCI?); retry after its rollback window')) };
      // NO_DATA: nothing is pending. Either the router's timer rolled the earlier change back
      // (this plan, read since, puts it back), or the snapshot files are left over from an apply
      // without rollback (LuCI's "apply unchecked", `uci apply` by hand), which rpcd leaves until
      // the next apply. Refusing would refuse every deploy until then; an apply without rollback
      // from this session, which has nothing staged yet, purges them and commits nothing (5), so
      // the next reading no longer shows a pending apply. No one else's apply is pending (the
      // confirm would have answered 6), so no one's protection is lost.
      if (confirmed.status === 5) {
        rolledBackMeanwhile = true;
        const purged = await ctx.client.call('uci', 'apply', { rollback: false });
        ctx.log?.(`${ctx.device}: no change was pending to confirm (rpcd's snapshot files were left by an earlier apply, or its timer already rolled the change back); ${purged.status === 5 ? 'cleared the leftover snapshot files' : `clearing the leftover snapshot files answered ${statusText(purged.status)}`}`);
      } else if (confirmed.status !== 0) return { applied: 0, failed: failure(pending, new DeviceError('REFUSED', `uci.confirm: ${statusText(confirmed.status)}`)) };
    } catch (error) {
      return { applied: 0, failed: failure(pending, error) };
    }
  }

  // 2–4. Stage, apply with rollback, check on a new connection, confirm.
  if (config.length > 0) {
    try {
      await stage(ctx, config);
    } catch (error) {
      if (error instanceof StepFailure) return { applied: 0, failed: failure(error.operation, error.error) };
      return { applied: 0, failed: failure(config[0]!, error) };
    }
    let outcome;
    try {
      outcome = await safeApply(ctx.client, ctx.device, checksFor(ctx, config), ctx.timing);
    } catch (error) {
      // The apply itself got no answer: it may have taken effect; the next run's marker says.
      return { applied: Math.max(0, total - 1), failed: failure(last, error) };
    }
    if (outcome.outcome === 'refused') {
      // Nothing was committed: the staged deltas go with the session (rpcd refuses `uci revert`
      // while another apply is pending), so no later reading shows them and no apply takes them.
      await ctx.client.dropSession();
      return { applied: 0, failed: failure(config.at(-1)!, outcome.error) };
    }
    if (outcome.outcome === 'rolled-back' || outcome.outcome === 'cut') return { applied: 0, failed: failure(config.at(-1)!, outcome.error) };
  }
  operations.forEach((operation, index) => onProgress?.({ index, total, operation, message: `${operation.op} ${operation.kind} ${operation.key ?? ('id' in operation ? operation.id : '')}: applied and confirmed` }));

  // 6. Tidy the include files, then the running WireGuard devices.
  try {
    await removeStaleIncludes(ctx, config, rolledBackMeanwhile ? null : leftovers);
  } catch (error) {
    const failed = failure(last, error);
    return { applied: total, failed: { ...failed, message: `applied and confirmed; an include file it stopped using was not removed: ${failed.message}` } };
  }
  const list = leftoversListOf(ctx, operations);
  // Whether there is a list to remove: the marker read one, or this run wrote to it.
  let listed = leftovers !== undefined || config.some((operation) => operation.kind === KIND.include && operation.key !== null);
  try {
    const synced = await syncRuntime(ctx, runtimeInterfaces(operations, ctx), list);
    for (const line of synced.done) ctx.log?.(`${ctx.device}: ${line}`);
    listed ||= synced.noted;
  } catch (error) {
    const failed = failure(last, error);
    return { applied: total, failed: { ...failed, message: `applied and confirmed; the running WireGuard device was not updated: ${failed.message}` } };
  }
  // Last, once every file it names is dealt with.
  if (list !== null && listed && !rolledBackMeanwhile) {
    try {
      await ctx.client.call('file', 'remove', { path: list });
    } catch (error) {
      const failed = failure(last, error);
      return { applied: total, failed: { ...failed, message: `applied and confirmed; an include file it stopped using was not removed: ${failed.message}` } };
    }
  }
  return { applied: total, failed: null };
}

