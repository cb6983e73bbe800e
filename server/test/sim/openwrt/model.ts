// The simulated OpenWrt router's state, one object the wire (server.ts, sessions.ts) and the tests
// share: committed UCI packages plus per-session deltas (uci-store.ts), the rpcd apply/rollback
// state machine (uci-apply.ts), what is running (runtime.ts: netifd interfaces and routes,
// WireGuard devices with their sessions, the fw4 ruleset), a small file system (files.ts) and the
// clock every timer runs on. ubus objects (objects/*.ts) are plain handlers over this model.
import { FileStore } from './files.js';
import { Runtime } from './runtime.js';
import { UciApply } from './uci-apply.js';
import { UciStore } from './uci-store.js';

/** ubus status codes (ubusmsg.h); `result[0]` of a legacy JSON-RPC reply. */
export const UBUS = {
  OK: 0,
  INVALID_COMMAND: 1,
  INVALID_ARGUMENT: 2,
  METHOD_NOT_FOUND: 3,
  NOT_FOUND: 4,
  NO_DATA: 5,
  PERMISSION_DENIED: 6,
  TIMEOUT: 7,
  NOT_SUPPORTED: 8,
  UNKNOWN_ERROR: 9,
  CONNECTION_FAILED: 10,
} as const;

/** What a handler sees of the caller: its session id and the session's ACL check. */
export interface UbusContext {
  sid: string;
  /** session.access(sid, scope, object, function): "uci"/"network"/"write", "file"/"/usr/bin/wg"/"exec", … */
  access(scope: string, object: string, fn: string): boolean;
}

export type UbusReply =
  | { status: number; data?: Record<string, unknown> }
  /** A JSON-RPC `error` instead of a `result` (e.g. -32000 for an object that is not there). */
  | { rpcError: { code: number; message: string } };

export type UbusArgs = Record<string, unknown>;
export type UbusHandler = (ctx: UbusContext, args: UbusArgs) => UbusReply | Promise<UbusReply>;
/** Argument types as JSON-RPC `list` prints them. */
export type UbusArgType = 'string' | 'number' | 'boolean' | 'array' | 'object';
export interface UbusMethod {
  args: Record<string, UbusArgType>;
  handler: UbusHandler;
}
/** One ubus object: function name → method. */
export type UbusObject = Record<string, UbusMethod>;

/** A UCI option value: a string or a list. */
export type UciValue = string | string[];

/** A section as a load of the package shows it (committed file + one session's deltas). */
export interface UciSection {
  type: string;
  name: string;
  anonymous: boolean;
  /** In file order. */
  options: Map<string, UciValue>;
}

/** One delta, as `uci changes` lists it: [op, section, option?/type?, value?]. */
export type UciChange =
  | ['add', string, string]
  | ['set', string, string]
  | ['set', string, string, string]
  | ['list-add', string, string, string]
  | ['list-del', string, string, string]
  | ['remove', string]
  | ['remove', string, string]
  | ['rename', string, string]
  | ['rename', string, string, string]
  | ['order', string, number];

export interface ModelFile {
  data: string;
  /** Unix permission bits, e.g. 0o600. */
  mode: number;
  /** Unix seconds (the model's clock). */
  mtime: number;
}

/** What wg reports about a peer's session; setPeerStats() fakes traffic with it. */
export interface PeerStats {
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rx: bigint;
  tx: bigint;
  /** The peer's current endpoint as wg prints it ("203.0.113.1:51820"), null = never seen. */
  endpoint?: string | null;
}

/**
 * Behaviour switches the state reads (the wire's `faults` object can be this very object: every
 * field is read at the moment it matters, so tests may flip them at any time).
 */
export interface OpenWrtBehaviour {
  /** classic: peer edits need down/up; renew: `renew` re-reads peers without a teardown (SNAPSHOT 2026). */
  handler: 'classic' | 'renew';
  /** An interface restart (option change, down/up) recreates the wg device: handshakes and counters reset. */
  teardownOnRestart: boolean;
  /** With handler 'renew': the PSK is read from `peer_psk` and a peer with several AllowedIPs keeps only the first (#21847). */
  psk2026Regression: boolean;
  /** A wireguard interface comes up without its addresses and routes (#22102). */
  ucodeNoAddresses: boolean;
  /** `uci get` of a missing section/option answers [0] without data (true, rpcd's behaviour) instead of [4]. */
  getMissingSectionEmpty: boolean;
  /** nftables accepts `dnat/snat … prefix to …`; false: an include using it fails the whole fw4 reload. */
  nftPrefixNat: boolean;
  /** Delay between `config.change` and the service reload, in real milliseconds (0 = at once). */
  reloadDelayMs: number;
  /** luci-proto-wireguard installed: the `luci.wireguard` object exists. */
  luciWireguard: boolean;
  /** Where Meshplane manages the router from; null = never cut. */
  managementSource: string | null;
}

export function defaultBehaviour(): OpenWrtBehaviour {
  return {
    handler: 'classic',
    teardownOnRestart: true,
    psk2026Regression: false,
    ucodeNoAddresses: false,
    getMissingSectionEmpty: true,
    nftPrefixNat: true,
    reloadDelayMs: 0,
    luciWireguard: true,
    managementSource: '198.51.100.50',
  };
}

/**
 * The session side the state needs (sessions.ts provides it): whether a sid still exists (the
 * rollback restores the initiator's deltas only then) and its ACL check.
 */
export interface SessionHooks {
  exists(sid: string): boolean;
  access(sid: string, scope: string, object: string, fn: string): boolean;
}

/**
 * Simulated time. `timeScale` = real milliseconds per simulated second (1000 = real time; tests use
 * 10–20 so a 60 s rollback window passes in about a second). Unix time starts at `epoch` and runs
 * at that scale, so handshake ages and uptimes stay consistent with the timers.
 */
export class SimClock {
  private readonly startedAt = performance.now();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    public readonly timeScale = 1000,
    private readonly epoch = 1_786_400_000,
  ) {}

  /** Simulated Unix seconds (whole). */
  now(): number {
    return this.epoch + Math.floor((performance.now() - this.startedAt) / this.timeScale);
  }

  /** Runs `fn` after `seconds` simulated seconds; returns a cancel function. */
  after(seconds: number, fn: () => void): () => void {
    return this.afterMs(seconds * this.timeScale, fn);
  }

  /** Runs `fn` after `ms` real milliseconds (service reload delays); returns a cancel function. */
  afterMs(ms: number, fn: () => void): () => void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  /** Cancels every pending timer (simulator stop). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

export interface BoardInfo {
  hostname: string;
  model: string;
  boardName: string;
  kernel: string;
  target: string;
  revision: string;
}

export interface OpenWrtModelOptions {
  /** release.version, e.g. "24.10.2", "22.03.7", "SNAPSHOT". Default "24.10.2". */
  version?: string;
  /** Real ms per simulated second. Default 1000. */
  timeScale?: number;
  /** The switches object to read (the wire passes its faults); default defaultBehaviour(). */
  behaviour?: OpenWrtBehaviour;
  board?: Partial<BoardInfo>;
}

/**
 * The whole simulated router. `sessions` is set by the wire (sessions.ts); until then every sid
 * exists and may do everything, which is what unit tests of the state want.
 */
export class OpenWrtModel {
  readonly clock: SimClock;
  readonly files: FileStore;
  readonly uci = new UciStore();
  readonly apply: UciApply;
  readonly runtime: Runtime;
  version: string;
  behaviour: OpenWrtBehaviour;
  board: BoardInfo;
  sessions: SessionHooks = { exists: () => true, access: () => true };
  /**
   * Device writes, as the contract's inspect() counts them: uci add/set/delete/rename/order,
   * file write/remove, `wg set`, network.interface up/down/renew (not login, apply, confirm, rollback).
   */
  writes = 0;

  constructor(options: OpenWrtModelOptions = {}) {
    this.version = options.version ?? '24.10.2';
    this.behaviour = options.behaviour ?? defaultBehaviour();
    this.clock = new SimClock(options.timeScale ?? 1000);
    this.files = new FileStore(() => this.clock.now());
    this.board = { hostname: 'OpenWrt', model: 'QEMU Standard PC (Q35 + ICH9, 2009)', boardName: 'qemu-standard-pc-q35-ich9-2009', kernel: '6.6.93', target: 'x86/64', revision: 'r28739-d9340319c6', ...options.board };
    this.apply = new UciApply(this.uci, this.clock, () => this.sessions);
    this.runtime = new Runtime(this.uci, this.clock, () => this.behaviour, (path) => this.files.read(path)?.data ?? null);
    this.uci.onConfigChange = (pkg) => this.runtime.configChanged(pkg);
    this.uci.missingIsEmpty = () => this.behaviour.getMissingSectionEmpty;
  }

  /** Boot: every service starts from the committed config (after seeding). */
  boot(): void {
    this.runtime.reloadNetwork();
    this.runtime.reloadFirewall();
  }

  /** The session ended (logout, expiry): rpcd removes its save directory with its deltas. */
  endSession(sid: string): void {
    this.uci.purgeSession(sid);
  }

  /** The simulator stops: no timer may fire afterwards. */
  stop(): void {
    this.apply.stop();
    this.runtime.stop();
    this.clock.stop();
  }
}
