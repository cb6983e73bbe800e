// Reads that subscriptions share instead of each making its own.
//
// One OverlayReader per pub/sub event, shared by every subscription the event reaches: the
// in-process and the Redis pub/sub hand each listener the same event object, so K
// subscriptions on a WAN read its rows once per event and build its compiled view at most
// once, instead of once each.
//
// Subscriptions that start together (a server restart reconnecting every open tab, a page
// opened by many users at once) each ask for their current value: JoinedReads lets those
// asking for the same thing share one read.
import type { Context } from './context.js';
import { OverlayReader } from '../services/overlay/overlays.js';

const readerOfEvent = new WeakMap<object, OverlayReader>();

/** The event's reader; the subscription's context reads through it until its next event. */
export function readEventThrough(ctx: Context, event: object): OverlayReader {
  let reader = readerOfEvent.get(event);
  if (!reader) {
    reader = new OverlayReader(ctx.prisma, ctx.services.secrets);
    readerOfEvent.set(event, reader);
  }
  ctx.overlays = reader;
  return reader;
}

/**
 * Reads by key that callers asking together share. A caller joins the key's read that has not
 * started yet, or opens one; an opened read starts once the key's running read (if any) has
 * ended, after the callers of the current turn of the event loop have joined. So every answer
 * was read after its caller asked (never an older read that happened to be running), and a key
 * has at most one read running and one gathering: K callers arriving while a read runs cost
 * one more read, not K.
 */
export class JoinedReads {
  private readonly gathering = new Map<string, Promise<unknown>>();
  private readonly running = new Map<string, Promise<unknown>>();

  read<T>(key: string, load: () => Promise<T>): Promise<T> {
    const open = this.gathering.get(key);
    if (open) return open as Promise<T>;
    const previous = this.running.get(key);
    const read: Promise<T> = (previous ? previous.then(nextTurn, nextTurn) : nextTurn())
      .then(() => {
        this.gathering.delete(key);
        this.running.set(key, read);
        return load();
      })
      .finally(() => {
        if (this.running.get(key) === read) this.running.delete(key);
      });
    this.gathering.set(key, read);
    return read;
  }

  /** Keys with a read running or gathering callers (none once every read has ended). */
  get size(): number {
    return new Set([...this.gathering.keys(), ...this.running.keys()]).size;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
