import { describe, expect, it } from 'vitest';
import { releasingSent, releasingSentResults } from './sent-results.js';

async function* results() {
  yield { data: { peers: [{ id: 'a' }, { id: 'b' }] } };
  yield { data: { peers: [{ id: 'b' }] } };
}

describe('releasingSent', () => {
  it('hands each result out whole and empties it when the next is asked for', async () => {
    const stream = releasingSent(results());
    const first = await stream.next();
    expect(first).toEqual({ done: false, value: { data: { peers: [{ id: 'a' }, { id: 'b' }] } } });
    const second = await stream.next();
    expect(first.value).toEqual({});
    expect(second.value).toEqual({ data: { peers: [{ id: 'b' }] } });
    await expect(stream.next()).resolves.toMatchObject({ done: true });
    expect(second.value).toEqual({});
  });

  it('empties the last result and stops the source when the client unsubscribes', async () => {
    let stopped = false;
    async function* endless() {
      try {
        for (;;) yield { data: { n: 1 } };
      } finally {
        stopped = true;
      }
    }
    const stream = releasingSent(endless());
    const { value } = await stream.next();
    await stream.return!();
    expect(value).toEqual({});
    expect(stopped).toBe(true);
  });

  it('leaves a single result (a refused subscription) as it is', async () => {
    const refused = { errors: [{ message: 'no' }] };
    await expect(releasingSentResults(Promise.resolve(refused))).resolves.toBe(refused);
  });
});
