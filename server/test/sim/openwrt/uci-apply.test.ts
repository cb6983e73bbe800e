import { afterEach, describe, expect, it } from 'vitest';
import { OpenWrtModel, type SessionHooks } from './model.js';
import { uciObject } from './objects/uci.js';
import { seedStock } from './seed.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
let model: OpenWrtModel;

function start(sessions?: SessionHooks): OpenWrtModel {
  model = new OpenWrtModel({ timeScale: 10 });
  seedStock(model);
  if (sessions) model.sessions = sessions;
  return model;
}

afterEach(() => model.stop());

/** Waits (bounded) until the rollback timer has fired. */
async function timerFired(): Promise<void> {
  for (let i = 0; i < 200 && model.apply.pending; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(model.apply.pending).toBe(false);
}

const mtu = () => model.uci.get(B, 'network', { section: 'lan', option: 'mtu' }).data;

describe('uci apply / confirm / rollback', () => {
  it('apply without deltas is [5]; confirm and rollback with nothing pending are [5]', () => {
    start();
    expect(model.apply.apply(A, { rollback: true })).toBe(5);
    expect(model.apply.confirm(A)).toBe(5);
    expect(model.apply.rollback(A)).toBe(5);
  });

  it('a protected apply commits, snapshots, and is confirmed only by its own session; commit/revert/second apply are [6] meanwhile', () => {
    start();
    expect(model.apply.snapshotFileNames()).toBeNull();
    model.uci.set(A, 'network', { section: 'lan', values: { mtu: '1400' } });
    model.uci.set(B, 'firewall', { section: 'cfg01e63d', values: { input: 'DROP' } });
    expect(model.apply.apply(A, { rollback: true, timeout: 30 })).toBe(0);
    expect(mtu()).toEqual({ value: '1400' });
    expect(model.apply.snapshotFileNames()).toEqual(['network']);
    expect(model.apply.apply(B, { rollback: true })).toBe(6);
    expect(model.apply.confirm(B)).toBe(6);
    expect(model.apply.rollback(B)).toBe(6);
    const uci = uciObject(model);
    const ctxB = { sid: B, access: () => true };
    expect(uci.commit!.handler(ctxB, { config: 'firewall' })).toEqual({ status: 6 });
    expect(uci.revert!.handler(ctxB, { config: 'firewall' })).toEqual({ status: 6 });
    expect(model.apply.confirm(A)).toBe(0);
    expect(model.apply.pending).toBe(false);
    expect(model.apply.snapshotFileNames()).toEqual([]);
    expect(mtu()).toEqual({ value: '1400' });
  });

  it('rollback restores the files and gives the session its deltas back', () => {
    start();
    model.uci.set(A, 'network', { section: 'lan', values: { mtu: '1400' } });
    model.apply.apply(A, { rollback: true, timeout: 30 });
    expect(model.uci.changedPackages(A)).toEqual([]);
    expect(model.apply.rollback(A)).toBe(0);
    expect(mtu()).toBeUndefined();
    expect(model.uci.changes(A, 'network', () => true).data).toEqual({ changes: [['set', 'lan', 'mtu', '1400']] });
  });

  it('the timer rolls back by itself after `timeout` simulated seconds and restores the deltas; a later confirm is [5]', async () => {
    start();
    model.uci.set(A, 'network', { section: 'lan', values: { mtu: '1400' } });
    expect(model.apply.apply(A, { rollback: true, timeout: 3 })).toBe(0);
    await timerFired();
    expect(model.apply.timerRollbacks).toBe(1);
    expect(mtu()).toBeUndefined();
    expect(model.uci.deltasOf(A, 'network')).toEqual([['set', 'lan', 'mtu', '1400']]);
    expect(model.apply.confirm(A)).toBe(5);
  });

  it('the timer restores no deltas to a session that is gone', async () => {
    let alive = true;
    start({ exists: () => alive, access: () => true });
    model.uci.set(A, 'network', { section: 'lan', values: { mtu: '1400' } });
    model.apply.apply(A, { rollback: true, timeout: 2 });
    alive = false;
    model.endSession(A);
    await timerFired();
    expect(mtu()).toBeUndefined();
    expect(model.uci.changedPackages(A)).toEqual([]);
  });

  it('a non-rollback apply during a pending one answers 0, applies nothing and drops the protection', async () => {
    start();
    model.uci.set(A, 'network', { section: 'lan', values: { mtu: '1400' } });
    model.apply.apply(A, { rollback: true, timeout: 2 });
    model.uci.set(B, 'network', { section: 'lan', values: { metric: '7' } });
    expect(model.apply.apply(B, { rollback: false })).toBe(0);
    expect(model.uci.get(B, 'network', { section: 'lan', option: 'metric' }).data).toEqual({ value: '7' }); // B's own delta, not committed
    expect(model.uci.get(A, 'network', { section: 'lan', option: 'metric' })).toEqual({ status: 0 });
    expect(model.apply.snapshotFileNames()).toEqual([]);
    await timerFired();
    expect(mtu()).toEqual({ value: '1400' }); // nothing left to restore
  });

  it('a changed config the session may not write is [6] and nothing is committed', () => {
    start({ exists: () => true, access: (_sid, _scope, object) => object !== 'firewall' });
    model.uci.set(A, 'network', { section: 'lan', values: { mtu: '1400' } });
    model.uci.set(A, 'firewall', { section: 'cfg01e63d', values: { input: 'DROP' } });
    expect(model.apply.apply(A, { rollback: true })).toBe(6);
    expect(mtu()).toBeUndefined();
    expect(model.apply.pending).toBe(false);
  });
});
