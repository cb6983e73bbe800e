import { describe, expect, it } from 'vitest';
import { JoinedReads } from './event-reader.js';

/** A load the test ends by hand, recording when it started. */
function manualLoads() {
  const started: Array<{ key: string; finish: (value: string) => void; fail: (error: Error) => void }> = [];
  const load = (key: string) => () =>
    new Promise<string>((resolve, reject) => {
      started.push({ key, finish: resolve, fail: reject });
    });
  return { started, load };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('JoinedReads', () => {
  it('gives callers of the same turn one read of their key, and another key its own', async () => {
    const reads = new JoinedReads();
    const { started, load } = manualLoads();
    const a = [reads.read('wan-1', load('wan-1')), reads.read('wan-1', load('wan-1')), reads.read('wan-1', load('wan-1'))];
    const b = reads.read('wan-2', load('wan-2'));
    await turn();
    expect(started.map((s) => s.key)).toEqual(['wan-1', 'wan-2']);
    started[0]!.finish('rows of wan-1');
    started[1]!.finish('rows of wan-2');
    await expect(Promise.all(a)).resolves.toEqual(['rows of wan-1', 'rows of wan-1', 'rows of wan-1']);
    await expect(b).resolves.toBe('rows of wan-2');
    expect(reads.size).toBe(0);
  });

  it('never hands a caller a read that was running before it asked: callers arriving meanwhile share the next one', async () => {
    const reads = new JoinedReads();
    const { started, load } = manualLoads();
    const first = reads.read('wan', load('wan'));
    await turn();
    expect(started).toHaveLength(1);

    const late = [reads.read('wan', load('wan')), reads.read('wan', load('wan'))];
    await turn();
    await turn();
    // The running read is not theirs, and theirs waits for it to end.
    expect(started).toHaveLength(1);
    started[0]!.finish('before');
    await expect(first).resolves.toBe('before');
    await turn();
    await turn();
    expect(started).toHaveLength(2);
    started[1]!.finish('after');
    await expect(Promise.all(late)).resolves.toEqual(['after', 'after']);
    expect(reads.size).toBe(0);
  });

  it('hands a failed read\'s error to each caller that shared it, and the next caller reads again', async () => {
    const reads = new JoinedReads();
    const { started, load } = manualLoads();
    const shared = [reads.read('wan', load('wan')), reads.read('wan', load('wan'))];
    await turn();
    started[0]!.fail(new Error('database gone'));
    for (const read of shared) await expect(read).rejects.toThrow('database gone');
    expect(reads.size).toBe(0);

    const again = reads.read('wan', load('wan'));
    await turn();
    expect(started).toHaveLength(2);
    started[1]!.finish('rows');
    await expect(again).resolves.toBe('rows');
  });
});
