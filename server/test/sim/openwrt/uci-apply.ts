// rpcd's apply / confirm / rollback (uci.c, reference §4.6), step for step:
//   apply {rollback, timeout=60}: [6] when an apply is pending and rollback is asked; the snapshot
//   directories are purged unconditionally (so a non-rollback apply during a pending one silently
//   drops the protection); with nothing pending: no deltas → [5], a changed config the session may
//   not write → [6], else each changed config is copied to the snapshot, committed, announced, and
//   with rollback the session becomes apply_sid and the timer is armed.
//   confirm: nothing pending → [5], another session → [6], else snapshots purged and timer cancelled.
//   rollback / timer: the snapshot files go back, config.change again, and the initiating session
//   (if it still exists and may write those configs) gets its deltas back.
// While an apply is pending, commit and revert from any session answer [6].
import { UBUS, type SessionHooks, type SimClock, type UciChange } from './model.js';
import type { UciStore } from './uci-store.js';
import type { StoredSection } from './uci-text.js';

export const DEFAULT_APPLY_TIMEOUT = 60;

export class UciApply {
  /** The session whose protected apply is pending. */
  applySid: string | null = null;
  /** Simulated Unix second the rollback fires at, while pending. */
  deadline: number | null = null;
  private readonly snapshotFiles = new Map<string, StoredSection[]>();
  private readonly snapshotDelta = new Map<string, UciChange[]>();
  /** rpcd creates the snapshot directories on the first apply; before that `file.list` finds nothing. */
  private snapshotDirs = false;
  private cancelTimer: (() => void) | null = null;
  /** How often the timer fired (tests and the wire's logs). */
  timerRollbacks = 0;

  constructor(
    private readonly uci: UciStore,
    private readonly clock: SimClock,
    private readonly sessions: () => SessionHooks,
  ) {}

  private purgeSnapshots(): void {
    this.snapshotFiles.clear();
    this.snapshotDelta.clear();
  }

  /** Names in /var/run/rpcd/snapshot-files, or null when the directory does not exist yet. */
  snapshotFileNames(): string[] | null {
    return this.snapshotDirs ? [...this.snapshotFiles.keys()].sort() : null;
  }

  /** The text of a snapshot file (file.read of /var/run/rpcd/snapshot-files/<cfg>). */
  snapshotFile(pkg: string): StoredSection[] | null {
    return this.snapshotFiles.get(pkg) ?? null;
  }

  apply(sid: string, args: { rollback?: unknown; timeout?: unknown }): number {
    const rollback = args.rollback === true || args.rollback === 1 || args.rollback === '1';
    if (this.applySid !== null && rollback) return UBUS.PERMISSION_DENIED;
    const timeout = typeof args.timeout === 'number' && Number.isInteger(args.timeout) && args.timeout >= 0 ? args.timeout : DEFAULT_APPLY_TIMEOUT;
    this.purgeSnapshots();
    if (this.applySid === null) {
      this.snapshotDirs = true;
      const changed = this.uci.changedPackages(sid);
      if (changed.length === 0) return UBUS.NO_DATA;
      const hooks = this.sessions();
      if (changed.some((pkg) => !hooks.access(sid, 'uci', pkg, 'write'))) return UBUS.PERMISSION_DENIED;
      for (const pkg of changed) {
        this.snapshotFiles.set(pkg, this.uci.storedPackage(pkg) ?? []);
        this.snapshotDelta.set(pkg, this.uci.deltasOf(sid, pkg));
        this.uci.commit(sid, pkg);
      }
      if (rollback) {
        this.applySid = sid;
        this.deadline = this.clock.now() + timeout;
        this.cancelTimer = this.clock.after(timeout, () => {
          this.timerRollbacks++;
          this.doRollback();
        });
      }
    }
    return UBUS.OK;
  }

  confirm(sid: string): number {
    if (this.applySid === null) return UBUS.NO_DATA;
    if (this.applySid !== sid) return UBUS.PERMISSION_DENIED;
    this.purgeSnapshots();
    this.disarm();
    return UBUS.OK;
  }

  rollback(sid: string): number {
    if (this.applySid === null) return UBUS.NO_DATA;
    if (this.applySid !== sid) return UBUS.PERMISSION_DENIED;
    this.doRollback();
    return UBUS.OK;
  }

  /** commit/revert are refused from every session while an apply is pending. */
  get pending(): boolean {
    return this.applySid !== null;
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.applySid = null;
    this.deadline = null;
  }

  private doRollback(): void {
    const sid = this.applySid;
    const hooks = this.sessions();
    for (const [pkg, sections] of this.snapshotFiles) this.uci.restorePackage(pkg, sections);
    if (sid !== null && hooks.exists(sid)) {
      for (const [pkg, changes] of this.snapshotDelta) if (hooks.access(sid, 'uci', pkg, 'write')) this.uci.setDeltas(sid, pkg, changes);
    }
    this.purgeSnapshots();
    this.disarm();
  }

  /** Simulator stop: no timer may fire afterwards. */
  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }
}
