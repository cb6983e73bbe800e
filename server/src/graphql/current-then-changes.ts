// Subscription sources that start with the current value, then send changes. Listening
// starts before the current value is read, so a change in between is not lost; it may be
// sent twice instead, which is harmless because resolvers read the state afresh per event.

/** `current()`'s events first, then every event of `changes`, until the client stops. */
export function currentThenChanges<T>(changes: AsyncIterable<T>, current: () => Promise<readonly T[]>): AsyncIterable<T> {
  return (async function* () {
    const iterator = changes[Symbol.asyncIterator]();
    // The pub/sub iterator subscribes on its first next(): ask now, take the answer later.
    let first: Promise<IteratorResult<T>> | null = iterator.next();
    try {
      for (const event of await current()) yield event;
      // Delegating keeps return() (the client unsubscribing) reaching the pub/sub iterator
      // even while it waits for the next event.
      yield* {
        [Symbol.asyncIterator]() {
          return this;
        },
        next() {
          const pending = first ?? iterator.next();
          first = null;
          return pending;
        },
        return(value?: unknown) {
          return iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined });
        },
      } as AsyncIterableIterator<T>;
    } finally {
      await iterator.return?.();
    }
  })();
}
