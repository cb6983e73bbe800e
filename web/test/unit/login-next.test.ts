// The sign-in page's `next`: only ever a path on this site, however the text is dressed up.
import { describe, expect, it } from 'vitest';
import { nextPath } from '../../src/routes/login/next.js';

describe('nextPath', () => {
  it('keeps a path on this site, with its query and fragment', () => {
    expect(nextPath('/wans/abc?tab=peers#top')).toBe('/wans/abc?tab=peers#top');
    expect(nextPath('/x//y')).toBe('/x//y');
    expect(nextPath(null)).toBe('/');
  });

  it('turns anything a browser would resolve to another site into "/"', () => {
    for (const next of [
      '//evil.example/x', 'https://evil.example/', 'evil.example', 'javascript:alert(1)',
      '/\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example',
      '/.//evil.example', '/a/..//evil.example', '/%2e//evil.example', '/a/%2E%2E//evil.example',
    ]) {
      expect(nextPath(next), JSON.stringify(next)).toBe('/');
    }
  });

  it('does not send a signed-in visitor into another sign-in flow', () => {
    expect(nextPath('/auth/oidc/login?next=/')).toBe('/');
    expect(nextPath('/./auth/oidc/login')).toBe('/');
  });
});
