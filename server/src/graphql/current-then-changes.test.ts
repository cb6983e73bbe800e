import { describe, expect, it } from 'vitest';
import { createTopics, type JobEvent } from '../infra/pubsub/topics.js';
import { currentThenChanges, endingWith } from './current-then-changes.js';

const event = (wanId: string | null): JobEvent => ({ jobId: 'j', wanId });

/**
 * With a next() pending (waiting for a change), return() must settle at once, end that
 * next(), and leave the source done even when a change comes later.
 */
async function expectStopsWhileWaiting(source: AsyncIterator<unknown>, pubsub: ReturnType<typeof createTopics>): Promise<void> {
  const waiting = source.next();
  await new Promise((resolve) => setImmediate(resolve));
  await expect(source.return!()).resolves.toMatchObject({ done: true });
  await expect(waiting).resolves.toMatchObject({ done: true });
  pubsub.publish('jobProgress:byId', 'j', event('late'));
  await expect(source.next()).resolves.toMatchObject({ done: true });
}

describe('currentThenChanges', () => {
  it('sends the current events, then each change', async () => {
    const pubsub = createTopics();
    const source = currentThenChanges(pubsub.subscribe('jobProgress:byId', 'j'), async () => [event('now-1'), event('now-2')]);
    expect((await source.next()).value).toEqual(event('now-1'));
    expect((await source.next()).value).toEqual(event('now-2'));
    pubsub.publish('jobProgress:byId', 'j', event('changed'));
    expect((await source.next()).value).toEqual(event('changed'));
    await source.return!();
  });

  it('keeps a change published while the current value is read', async () => {
    const pubsub = createTopics();
    const source = currentThenChanges(pubsub.subscribe('jobProgress:byId', 'j'), async () => {
      pubsub.publish('jobProgress:byId', 'j', event('meanwhile'));
      return [event('now')];
    });
    expect((await source.next()).value).toEqual(event('now'));
    expect((await source.next()).value).toEqual(event('meanwhile'));
    await source.return!();
  });

  it('stops listening when the client unsubscribes while waiting for a change', async () => {
    const pubsub = createTopics();
    await expectStopsWhileWaiting(currentThenChanges(pubsub.subscribe('jobProgress:byId', 'j'), async () => []), pubsub);
  });

  it('stops listening when the current value cannot be read', async () => {
    const pubsub = createTopics();
    const source = currentThenChanges(pubsub.subscribe('jobProgress:byId', 'j'), async () => Promise.reject(new Error('database down')));
    await expect(source.next()).rejects.toThrow('database down');
    await expect(source.next()).resolves.toMatchObject({ done: true });
  });
});

describe('endingWith', () => {
  it('ends a generator that waits on its changes as soon as the client unsubscribes', async () => {
    const pubsub = createTopics();
    const changes = pubsub.subscribe('jobProgress:byId', 'j')[Symbol.asyncIterator]();
    const seen: string[] = [];
    const derived = (async function* () {
      for await (const change of { [Symbol.asyncIterator]: () => changes }) {
        seen.push(String(change.wanId));
        yield `job ${change.jobId}`;
      }
    })();
    const source = endingWith(changes, derived);
    const first = source.next();
    await new Promise((resolve) => setImmediate(resolve));
    pubsub.publish('jobProgress:byId', 'j', event('one'));
    expect((await first).value).toBe('job j');
    // A plain async generator's return() would wait for the next event, which never comes.
    await expectStopsWhileWaiting(source, pubsub);
    expect(seen).toEqual(['one']);
  });
});
