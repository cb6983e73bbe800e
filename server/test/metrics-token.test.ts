// /metrics behind MESHPLANE_METRICS_TOKEN: scrapers without the bearer token get 401 and no
// series; with it, the exposition. (Without the variable it is open: live-ops/metrics.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

describe('/metrics with MESHPLANE_METRICS_TOKEN', () => {
  const token = 'scrape-me-0123456789';
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { MESHPLANE_METRICS_TOKEN: token } });
  });
  afterAll(() => t.stop());

  it('refuses scrapers without the token or with another one', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: token }, { authorization: `Bearer ${token}x` }];
    for (const headers of attempts) {
      const response = await fetch(`${t.url}/metrics`, { headers });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.text()).not.toContain('meshplane_');
    }
  });

  it('serves the exposition to a scraper with the token', async () => {
    const response = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toMatch(/^# TYPE meshplane_\w+ /m);
  });
});
