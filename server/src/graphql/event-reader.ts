// One OverlayReader per pub/sub event, shared by every subscription the event reaches: the
// in-process and the Redis pub/sub hand each listener the same event object, so K
// subscriptions on a WAN read its rows once per event and build its compiled view at most
// once, instead of once each.
import type { Context } from './context.js';
import { OverlayReader } from '../services/overlay/overlays.js';

const readerOfEvent = new WeakMap<object, OverlayReader>();

/** The event's reader; the subscription's context reads through it until its next event. */
export function readEventThrough(ctx: Context, event: object): OverlayReader {
  let reader = readerOfEvent.get(event);
  if (!reader) {
    reader = new OverlayReader(ctx.prisma, ctx.services.secrets, ctx.services.metrics.overlayCompiled);
    readerOfEvent.set(event, reader);
  }
  ctx.overlays = reader;
  return reader;
}
