import { describe, expect, it } from 'vitest';
import { keyOfName, namedKey, nameSegment, nameTag } from './tags.js';

const CUID = 'cmxbn0001a7k2qz9w0xxxxxxx';

describe('OPNsense name tags', () => {
  it('a name is the prefix, the WAN, i/p and the interface name or peer id, and reads back to the same key', () => {
    const key = namedKey('meshplane', 'wan1', 'tunnel', 'wg-mesh');
    expect(key).toBe('wan1:tunnel:wg-mesh');
    expect(nameTag('meshplane', key)).toBe('meshplane.wan1.i.wg-mesh');
    expect(keyOfName('meshplane.wan1.i.wg-mesh', 'meshplane')).toBe(key);
    expect(keyOfName(nameTag('meshplane', namedKey('meshplane', 'wan1', 'peer', 'b')), 'meshplane')).toBe('wan1:peer:b');
  });

  it('fits OPNsense\'s 64 characters with cuid WAN and peer ids, and only uses [0-9A-Za-z._-]', () => {
    const name = nameTag('meshplane', namedKey('meshplane', CUID, 'peer', CUID));
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/^[0-9A-Za-z._-]{1,64}$/);
    expect(name).toContain(CUID);
  });

  it('hashes a name part that would not fit or has other characters, the same way from desired and read', () => {
    const long = 'x'.repeat(60);
    const segment = nameSegment('meshplane', CUID, 'tunnel', long);
    expect(segment).toMatch(/^h[0-9a-f]{12}$/);
    expect(nameSegment('meshplane', 'wan1', 'tunnel', 'wg.mesh')).toMatch(/^h[0-9a-f]{12}$/);
    const name = nameTag('meshplane', namedKey('meshplane', CUID, 'tunnel', long));
    expect(name.length).toBeLessThanOrEqual(64);
    expect(keyOfName(name, 'meshplane')).toBe(`${CUID}:tunnel:${segment}`);
  });

  it('a prefix with characters OPNsense refuses is written with dashes and still recognised', () => {
    expect(nameTag('mesh:plane', 'wan1:tunnel:wg0')).toBe('mesh-plane.wan1.i.wg0');
    expect(keyOfName('mesh-plane.wan1.i.wg0', 'mesh:plane')).toBe('wan1:tunnel:wg0');
  });

  it.each(['rw', 'wg0', 'meshplane', 'meshplane.wan1.x.b', 'other.wan1.p.b', 'meshplane.wan1.p.', 'meshplane..p.b', 42, null])('%s is not Meshplane\'s', (name) => {
    expect(keyOfName(name, 'meshplane')).toBeNull();
  });
});
