// Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser
// that signed in to an account gets a long-lived httpOnly cookie naming a random device id,
// signed with a key derived from the master key. Its later sign-ins to that account are
// limited per device only (login-limiter.ts), so attackers elsewhere cannot lock it out.
// Nothing is stored: the signature is the proof, any replica with the master key checks it,
// and rotating the master key just makes every device unknown again.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEVICE_COOKIE = 'mp_device';
export const DEVICE_COOKIE_TTL_SECONDS = 180 * 24 * 3600;

export class DeviceCookies {
  constructor(private readonly key: Buffer) {}

  private mac(account: string, device: string, issuedAt: number): Buffer {
    return createHmac('sha256', this.key).update(`${account}\n${device}\n${issuedAt}`).digest();
  }

  /** A cookie value for this account; a device that already had a valid one keeps its id. */
  issue(account: string, previous: string | null | undefined, now = Date.now()): string {
    const device = (previous && this.verify(account, previous, now)) || randomBytes(16).toString('base64url');
    const issuedAt = Math.floor(now / 1000);
    return `${device}.${issuedAt}.${this.mac(account, device, issuedAt).toString('base64url')}`;
  }

  /** The device id a cookie proves for this account, or null: absent, malformed, forged, for another account or expired. */
  verify(account: string, cookie: string | null | undefined, now = Date.now()): string | null {
    const match = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(cookie ?? '');
    if (!match) return null;
    const [, device, issued, mac] = match as unknown as [string, string, string, string];
    const issuedAt = Number(issued);
    const age = now / 1000 - issuedAt;
    if (age < -60 || age > DEVICE_COOKIE_TTL_SECONDS) return null;
    // Compared as text: decoding would ignore the last character's two spare bits, so four
    // spellings of one signature would pass.
    const expected = Buffer.from(this.mac(account, device, issuedAt).toString('base64url'));
    return timingSafeEqual(Buffer.from(mac), expected) ? device : null;
  }
}
