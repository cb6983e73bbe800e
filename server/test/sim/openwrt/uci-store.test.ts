import { describe, expect, it } from 'vitest';
import { OpenWrtModel } from './model.js';
import { seedStock } from './seed.js';
import { anonymousName } from './uci-store.js';

const SID = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

function stock(): OpenWrtModel {
  const model = new OpenWrtModel();
  seedStock(model);
  return model;
}

const names = (model: OpenWrtModel, pkg: string, sid: string | null = null) => model.uci.load(pkg, sid)!.sections.map((section) => section.name);

describe('UCI store', () => {
  it('numbers anonymous sections as libuci does: firewall defaults cfg01e63d, lan zone cfg02dc81, wan zone cfg03dc81', () => {
    const model = stock();
    expect(names(model, 'firewall').slice(0, 3)).toEqual(['cfg01e63d', 'cfg02dc81', 'cfg03dc81']);
    expect(anonymousName(0x1a, 'wireguard_wg0')).toBe('cfg1a96fc');
    const get = model.uci.get(SID, 'firewall', { section: 'cfg02dc81' });
    expect(get).toEqual({ status: 0, data: { values: { '.anonymous': true, '.type': 'zone', '.name': 'cfg02dc81', name: 'lan', network: ['lan'], input: 'ACCEPT', output: 'ACCEPT', forward: 'ACCEPT' } } });
  });

  it('renumbers later anonymous sections when an earlier one is deleted and committed', () => {
    const model = stock();
    const before = names(model, 'firewall');
    expect(model.uci.delete(SID, 'firewall', { section: 'cfg02dc81' })).toEqual({ status: 0 });
    // Not yet: the session sees it gone, the committed file (and other sessions) do not.
    expect(names(model, 'firewall', SID)).not.toContain('cfg02dc81');
    expect(names(model, 'firewall', OTHER)).toEqual(before);
    model.uci.commit(SID, 'firewall');
    const after = names(model, 'firewall');
    expect(after[1]).toBe('cfg02dc81'); // the wan zone took the lan zone's number
    expect(model.uci.get(SID, 'firewall', { section: 'cfg02dc81', option: 'name' })).toEqual({ status: 0, data: { value: 'wan' } });
    expect(after.length).toBe(before.length - 1);
  });

  it('gives a session add the running counter, and the committed file renumbers it by position', () => {
    const model = stock();
    const count = names(model, 'firewall').length;
    model.uci.delete(SID, 'firewall', { section: 'cfg01e63d' });
    const added = model.uci.add(SID, 'firewall', { type: 'rule', values: { name: 'x' } });
    expect(added).toEqual({ status: 0, data: { section: anonymousName(count + 1, 'rule') } });
    model.uci.commit(SID, 'firewall');
    expect(names(model, 'firewall').at(-1)).toBe(anonymousName(count, 'rule'));
  });

  it('merges a named add into an existing section: re-typed, lists appended', () => {
    const model = stock();
    expect(model.uci.add(SID, 'network', { type: 'interface', name: 'wg0', values: { proto: 'wireguard', addresses: ['10.0.0.1/24'] } })).toEqual({ status: 0, data: { section: 'wg0' } });
    expect(model.uci.add(SID, 'network', { type: 'iface2', name: 'wg0', values: { addresses: ['fd00::1/64'], mtu: 1420 } }).status).toBe(0);
    expect(model.uci.get(SID, 'network', { section: 'wg0' }).data).toEqual({ values: { '.anonymous': false, '.type': 'iface2', '.name': 'wg0', proto: 'wireguard', addresses: ['10.0.0.1/24', 'fd00::1/64'], mtu: '1420' } });
  });

  it('value rules: "" deletes, numbers and booleans become strings, unchanged scalars write no delta, an empty array is [2] and saves nothing', () => {
    const model = stock();
    expect(model.uci.set(SID, 'network', { section: 'lan', values: { ip6assign: '', mtu: 1500, force_link: true, proto: 'static' } })).toEqual({ status: 0 });
    expect(model.uci.changes(SID, 'network', () => true).data).toEqual({ changes: [['remove', 'lan', 'ip6assign'], ['set', 'lan', 'mtu', '1500'], ['set', 'lan', 'force_link', '1']] });
    expect(model.uci.set(SID, 'network', { section: 'lan', values: { dns: [], metric: '5' } })).toEqual({ status: 2 });
    expect(model.uci.deltasOf(SID, 'network')).toHaveLength(3);
    expect(model.uci.set(SID, 'network', { section: 'lan', values: { bad: { x: 1 } } })).toEqual({ status: 2 });
    expect(model.uci.add(SID, 'network', { type: 'interface', name: 'bad-name' })).toEqual({ status: 2 });
    expect(model.uci.set(SID, 'network', { section: 'nosuch', values: { a: '1' } })).toEqual({ status: 4 });
    expect(model.uci.get(SID, 'network', { section: 'nosuch' })).toEqual({ status: 0 });
  });

  it('writes change records in rpcd\'s shapes: add, set (section and option), list-add, remove, rename, order (a number)', () => {
    const model = stock();
    const { data } = model.uci.add(SID, 'network', { type: 'wireguard_wg0', values: { public_key: 'k', allowed_ips: ['10.0.0.2/32', '192.168.2.0/24'] } });
    const peer = (data as { section: string }).section;
    model.uci.add(SID, 'network', { type: 'route', name: 'mp_r', values: { target: '192.168.2.0/24' } });
    model.uci.set(SID, 'network', { type: 'wireguard_wg0', match: { public_key: 'k' }, values: { allowed_ips: ['10.0.0.3/32'] } });
    model.uci.rename(SID, 'network', { section: 'mp_r', name: 'mp_s' });
    model.uci.order(SID, 'network', { sections: ['mp_s'] });
    model.uci.delete(SID, 'network', { type: 'wireguard_wg0', match: { public_key: 'k' } });
    expect(model.uci.changes(SID, null, () => true).data).toEqual({
      changes: {
        network: [
          ['add', peer, 'wireguard_wg0'],
          ['set', peer, 'public_key', 'k'],
          ['list-add', peer, 'allowed_ips', '10.0.0.2/32'],
          ['list-add', peer, 'allowed_ips', '192.168.2.0/24'],
          ['set', 'mp_r', 'route'],
          ['set', 'mp_r', 'target', '192.168.2.0/24'],
          ['remove', peer, 'allowed_ips'],
          ['list-add', peer, 'allowed_ips', '10.0.0.3/32'],
          ['rename', 'mp_r', 'mp_s'],
          ['order', 'mp_s', 0],
          ['remove', peer],
        ],
      },
    });
    expect(names(model, 'network', SID)[0]).toBe('mp_s');
    expect(model.uci.changes(OTHER, null, () => true).data).toEqual({ changes: {} });
    model.uci.purgeSession(SID);
    expect(model.uci.changedPackages(SID)).toEqual([]);
  });

  it('whole-config gets carry .index and filter by type and match; @type[n] addresses by position', () => {
    const model = stock();
    const zones = model.uci.get(SID, 'firewall', { type: 'zone', match: { name: 'wan' } }).data as { values: Record<string, Record<string, unknown>> };
    expect(Object.keys(zones.values)).toEqual(['cfg03dc81']);
    expect(zones.values.cfg03dc81!['.index']).toBe(2);
    expect(model.uci.get(SID, 'firewall', { section: '@zone[-1]', option: 'name' }).data).toEqual({ value: 'wan' });
  });
});
