// The filter dead-man switch of OPNsense ≤ 26.1 (/work/shared/ref/opnsense.md §3.2):
// savepoint saves the config and names its revision; apply/<rev> reloads the filter and arms
// ONE background timer (rollback_timer.php under `flock -n`: a second arm while one runs starts
// none); cancelRollback/<rev> disarms it; when it fires, the whole OPNsense/Firewall/Filter node
// (rules, snatrules, npt, onetoone) is copied back from that revision and the filter reloaded
// (nothing happens when the revision was rotated out); revert/<rev> does the same at once.
// One switch per device: every FilterBaseController child (filter, one_to_one, npt) shares it.
import type { OpnSenseFaults } from './faults.js';
import { reloadFilter } from './management.js';
import type { OpnSenseModel } from './model.js';

export class FilterRollback {
  private armed: { revision: string; timer: NodeJS.Timeout } | null = null;
  /** How many rollbacks the timer carried out (tests observe it). */
  fired = 0;

  constructor(private readonly model: OpnSenseModel) {}

  /** The revision whose timer is running, or null. */
  get pending(): string | null {
    return this.armed?.revision ?? null;
  }

  savepoint(): { status: string; retention: string; revision: string } {
    const revision = this.model.save();
    return { status: 'ok', retention: String(this.model.backupCount), revision: revision.time };
  }

  /** apply/<rev>: reloads the filter and arms the timer unless one is running. */
  applyWithRevision(revision: string, faults: OpnSenseFaults): void {
    reloadFilter(this.model, faults, true);
    if (this.armed !== null) return;
    const timer = setTimeout(() => {
      this.model.timers.delete(timer);
      this.armed = null;
      this.fired++;
      this.restore(revision, faults);
    }, faults.rollbackSeconds * 1000);
    this.model.timers.add(timer);
    this.armed = { revision, timer };
  }

  /** cancelRollback/<rev>: configd's raw reply, "\n\n" when the timer was disarmed. */
  cancel(revision: string): string {
    if (this.armed === null || this.armed.revision !== revision) return 'Execute error\n\n';
    this.clear();
    return '\n\n';
  }

  /** revert/<rev>: the rollback, now. */
  revert(revision: string, faults: OpnSenseFaults): { status: string } {
    return this.restore(revision, faults) ? { status: 'ok' } : { status: 'unknown (or removed) savepoint' };
  }

  private clear(): void {
    if (this.armed === null) return;
    clearTimeout(this.armed.timer);
    this.model.timers.delete(this.armed.timer);
    this.armed = null;
  }

  private restore(revision: string, faults: OpnSenseFaults): boolean {
    const saved = this.model.revision(revision);
    if (saved === undefined) return false;
    this.model.config.filter = structuredClone(saved.config.filter);
    this.model.save();
    reloadFilter(this.model, faults, false);
    return true;
  }
}

const switches = new WeakMap<OpnSenseModel, FilterRollback>();

/** The device's one rollback switch. */
export function rollbackOf(model: OpnSenseModel): FilterRollback {
  let rollback = switches.get(model);
  if (rollback === undefined) {
    rollback = new FilterRollback(model);
    switches.set(model, rollback);
  }
  return rollback;
}
