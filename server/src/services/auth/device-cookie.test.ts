import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeviceCookies } from './device-cookie.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('device cookies', () => {
  const cookies = new DeviceCookies(randomBytes(32));

  it('proves the device for its account only, and keeps the id when reissued', () => {
    const cookie = cookies.issue('alice', null);
    const device = cookies.verify('alice', cookie);
    expect(device).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cookies.verify('bob', cookie)).toBeNull();
    expect(cookies.verify('alice', cookies.issue('alice', cookie))).toBe(device);
    expect(new DeviceCookies(randomBytes(32)).verify('alice', cookie)).toBeNull();
  });

  it('refuses every other spelling of the signature, including the last character whose low bits base64 ignores', () => {
    for (let round = 0; round < 20; round++) {
      const cookie = cookies.issue('alice', null);
      const cut = cookie.lastIndexOf('.') + 1;
      for (const position of [cut, cut + 21, cookie.length - 1]) {
        for (const letter of ALPHABET) {
          if (letter === cookie[position]) continue;
          const forged = cookie.slice(0, position) + letter + cookie.slice(position + 1);
          expect(cookies.verify('alice', forged), forged).toBeNull();
        }
      }
    }
  });

  it('refuses expired, future-dated and malformed cookies', () => {
    const now = Date.now();
    const old = cookies.issue('alice', null, now - 181 * 24 * 3600 * 1000);
    expect(cookies.verify('alice', old, now)).toBeNull();
    expect(cookies.verify('alice', cookies.issue('alice', null, now + 3600 * 1000), now)).toBeNull();
    for (const junk of ['', 'a.b.c', `${'A'.repeat(22)}.1.${'A'.repeat(44)}`]) expect(cookies.verify('alice', junk)).toBeNull();
  });
});
