// Subscription sources that start with the current value, then send changes. Listening
// starts before the current value is read, so a change in between is not lost; it may be
// sent twice instead, which is harmless because resolvers read the state afresh per event.
//
// A plain iterator rather than an async generator: a generator queues return() (the client
// unsubscribing) behind the next() that waits for an event, so the pub/sub listener would
// stay until the topic's next event, if any. Here return() reaches the pub/sub iterator at
// once, which also ends the waiting next().

/** `current()`'s events first, then every event of `changes`, until the client stops. */
export function currentThenChanges<T>(changes: AsyncIterable<T>, current: () => Promise<readonly T[]>): AsyncIterableIterator<T> {
  const iterator = changes[Symbol.asyncIterator]();
  let opening: Promise<readonly T[]> | null = null;
  let firstChange: Promise<IteratorResult<T>> | null = null;
  let initial: T[] = [];
  let stopped = false;
  const stop = async (): Promise<IteratorResult<T>> => {
    stopped = true;
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (!opening) {
        // The pub/sub iterator subscribes on its first next(): ask now, take the answer later.
        firstChange = iterator.next();
        opening = current();
        try {
          initial = [...(await opening)];
        } catch (error) {
          await stop();
          throw error;
        }
      }
      if (stopped) return { done: true, value: undefined };
      if (initial.length > 0) return { done: false, value: initial.shift()! };
      const change = firstChange ?? iterator.next();
      firstChange = null;
      return change;
    },
    return: stop,
  };
}

/**
 * `derived` (an async generator reading `changes`), stoppable at once: return() first ends
 * `changes`, which ends the generator's waiting `for await`, then returns the generator.
 * Without this, a client unsubscribing would wait behind the generator's pending next()
 * until the topic's next event, and the pub/sub listener would stay meanwhile.
 */
export function endingWith<T>(changes: AsyncIterator<unknown>, derived: AsyncGenerator<T>): AsyncIterableIterator<T> {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => derived.next(),
    async return() {
      await changes.return?.();
      return derived.return(undefined);
    },
  };
}
