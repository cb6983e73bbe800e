// Each area's pending-changes endpoint: GET reports {applied}, POST starts the area's
// dispatcher in the background (async=true, the default) and answers with the status as
// it was before the apply, as pfSense does.
import { addRoute, type Routes } from './call.js';
import type { ApplyArea, PfSenseModel } from './model.js';

export type ApplyStatus = (model: PfSenseModel) => Record<string, unknown>;

export function addApplyRoute(routes: Routes, path: string, area: ApplyArea, extra: ApplyStatus = () => ({})): void {
  const status = (model: PfSenseModel) => ({ applied: model.isApplied(area), ...extra(model) });
  addRoute(routes, path, {
    GET: (call) => status(call.model),
    POST: (call) => {
      const before = status(call.model);
      call.requestApply(area, call.control.async);
      return before;
    },
  });
}

/** Runs applies in the background after a delay; stop() cancels what is still queued. */
export class ApplyScheduler {
  private readonly timers = new Map<ApplyArea, NodeJS.Timeout>();

  constructor(private readonly model: PfSenseModel, private readonly delayMs: number) {}

  request(area: ApplyArea, async: boolean): void {
    const queued = this.timers.get(area);
    if (queued) clearTimeout(queued);
    this.timers.delete(area);
    if (!async || this.delayMs <= 0) {
      this.model.runApply(area);
      return;
    }
    this.timers.set(area, setTimeout(() => {
      this.timers.delete(area);
      this.model.runApply(area);
    }, this.delayMs));
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
