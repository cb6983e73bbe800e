// The `print` query stack machine (routeros.md §1.8), with the reference's examples.
import { describe, expect, it } from 'vitest';
import { matchesQuery } from './query.js';

const ether = { '.id': '*1', name: 'ether1', type: 'ether', mtu: '1500' };
const vlan = { '.id': '*2', name: 'vlan10', type: 'vlan', mtu: '1500', comment: 'office' };
const wg = { '.id': '*3', name: 'wg0', type: 'wg', mtu: '1420', comment: '' };
const rows = [ether, vlan, wg];
const select = (...words: string[]) => rows.filter((row) => matchesQuery(row, words)).map((row) => row.name);

describe('print queries', () => {
  it('matches everything without query words', () => {
    expect(select()).toEqual(['ether1', 'vlan10', 'wg0']);
  });

  it('tests equality with `name=x` and `=name=x`', () => {
    expect(select('type=vlan')).toEqual(['vlan10']);
    expect(select('=type=vlan')).toEqual(['vlan10']);
    expect(select('comment=office')).toEqual(['vlan10']);
  });

  it('tests presence with `name` and absence with `-name`', () => {
    expect(select('comment')).toEqual(['vlan10', 'wg0']);
    expect(select('-comment')).toEqual(['ether1']);
  });

  it('compares with < and >, numerically for integers; `>comment=` means a non-empty comment', () => {
    expect(select('<mtu=1500')).toEqual(['wg0']);
    expect(select('>mtu=1420')).toEqual(['ether1', 'vlan10']);
    expect(select('>comment=')).toEqual(['vlan10']);
  });

  it('ANDs plain words (the stack starts with infinite trues)', () => {
    expect(select('mtu=1500', 'type=ether')).toEqual(['ether1']);
  });

  it('ORs with #| and negates with #|! (reference examples)', () => {
    expect(select('type=ether', 'type=vlan', '#|')).toEqual(['ether1', 'vlan10']);
    expect(select('type=ether', 'type=vlan', '#|!')).toEqual(['wg0']);
  });

  it('builds librouteros-style In() and != queries', () => {
    expect(select('=name=ether1', '=name=wg0', '=name=nope', '#|', '#|')).toEqual(['ether1', 'wg0']);
    expect(select('=type=vlan', '#!')).toEqual(['ether1', 'wg0']);
  });

  it('supports stack indexes: copy with a following char, replace-all at the end, `.` semantics', () => {
    // Push false, true; `1` at the end replaces the stack with the value at index 1 (false).
    expect(matchesQuery(ether, ['type=vlan', 'type=ether', '#1'])).toBe(false);
    expect(matchesQuery(ether, ['type=vlan', 'type=ether', '#0'])).toBe(true);
    // `1.` pushes a copy of index 1 (false) and the dot does nothing; AND with the rest stays false.
    expect(matchesQuery(ether, ['type=ether', 'type=vlan', 'type=ether', '#1.&&'])).toBe(false);
    // `!.` duplicates the negated top: stack [true(ether), false→true, true] all true.
    expect(matchesQuery(ether, ['type=vlan', '#!.'])).toBe(true);
  });

  it('&& on the implicit trues below the explicit values stays true', () => {
    expect(matchesQuery(ether, ['#&&&'])).toBe(true);
  });
});
