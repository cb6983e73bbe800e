// graphql-ws sends each result a subscription yields, then asks for the next one; until then
// its `for await` (and graphql-tools' per-event generator) keep the result sent last. A
// WAN's status subscription starts with the whole list (1,000 peers with their status: about
// 0.4 MB of result objects), so 200 subscribers waiting for the next change kept ~80 MB of
// lists already sent (a heap snapshot of the live bench: 200,000 `{ id, status }` objects held
// by those suspended loops). The result handed out last is emptied when the next one is asked
// for: graphql-ws asks only once it has serialised and sent it.

/** `source`'s results, each emptied (its keys deleted) once the consumer asks for the next. */
export function releasingSent<T extends object>(source: AsyncIterable<T>): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let handedOut: Record<string, unknown> | null = null;
  const release = () => {
    if (!handedOut) return;
    for (const key of Object.keys(handedOut)) delete handedOut[key];
    handedOut = null;
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      release();
      const result = await iterator.next();
      if (!result.done && typeof result.value === 'object' && result.value !== null) handedOut = result.value as Record<string, unknown>;
      return result;
    },
    async return(value?: unknown) {
      release();
      return iterator.return ? iterator.return(value) : { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      release();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
}

/** An operation's outcome with its result stream (a subscription's) wrapped by releasingSent. */
export async function releasingSentResults<T>(outcome: T | Promise<T>): Promise<T> {
  const value = await outcome;
  if (typeof value === 'object' && value !== null && Symbol.asyncIterator in value) return releasingSent(value as AsyncIterable<object>) as T;
  return value;
}
