// The current time as a reactive value: components that show "N s ago" read `now()` and are
// re-rendered every second while any of them is on screen, not only when a new event arrives.
import { createSubscriber } from 'svelte/reactivity';

const TICK_MS = 1000;

const subscribe = createSubscriber((update) => {
  const timer = setInterval(update, TICK_MS);
  return () => clearInterval(timer);
});

/** Date.now(), read so that the reading component ticks. */
export function now(): number {
  subscribe();
  return Date.now();
}
