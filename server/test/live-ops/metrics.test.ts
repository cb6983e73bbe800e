// /metrics after real work: a deploy to the simulated RouterOS and a handshake it reports
// show up as the peer's up/handshake/traffic series, the job counter and duration histogram,
// and the device's reachability (1, then 0 once it stops answering), labelled with names.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricsTokenFile } from '../../src/infra/metrics-token.js';
import { deploy, liveFixture } from './harness.js';

describe('Prometheus metrics', () => {
  const fx = liveFixture({ app: { monitorIntervalMs: 100 } });

  async function scrape(): Promise<string> {
    // The token generated into the data directory on first start, as Prometheus would read it.
    const token = fs.readFileSync(metricsTokenFile(fx.live.dataDir), 'utf8');
    const response = await fetch(new URL('/metrics', fx.live.graphqlUrl), { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  }

  /** Scrapes until `line` appears (the monitor polls every 100 ms; bounded). */
  async function scrapeUntil(line: string): Promise<string> {
    let body = '';
    for (let poll = 0; poll < 200 && !body.split('\n').includes(line); poll++) {
      if (poll > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      body = await scrape();
    }
    expect(body.split('\n')).toContain(line);
    return body;
  }

  it('reports peer status, jobs and device reachability from a deploy and a simulated handshake', async () => {
    const { admin, branchId, deviceId, hqPublicKey } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    fx.counted.sim.setHandshake(hqPublicKey, 5, { rx: 1500, tx: 4200, endpointAddress: '203.0.113.7', endpointPort: 51820 });

    const lines = (await scrapeUntil('meshplane_peer_up{wan="live",peer="hq"} 1')).split('\n');
    // Seen from hq's side: what the router sent (tx) is what hq received.
    expect(lines).toEqual(expect.arrayContaining([
      'meshplane_peer_received_bytes{wan="live",peer="hq"} 4200',
      'meshplane_peer_sent_bytes{wan="live",peer="hq"} 1500',
      'meshplane_peer_up{wan="live",peer="laptop"} 0',
      'meshplane_jobs_total{kind="DEPLOY",status="SUCCEEDED"} 1',
      'meshplane_job_duration_seconds_count{kind="DEPLOY"} 1',
      `meshplane_device_reachable{device="${deviceId}",name="sim-router"} 1`,
    ]));
    const handshake = lines.find((line) => line.startsWith('meshplane_peer_last_handshake_timestamp_seconds{wan="live",peer="hq"} '));
    expect(Number(handshake?.split(' ')[1])).toBeGreaterThan(0);
    expect(lines.some((line) => line.startsWith('meshplane_process_'))).toBe(true);

    // Pointed at a port where nothing listens (a new destination needs its password again),
    // the device stops answering the monitor.
    await admin.ok(`mutation ($id: ID!, $secret: String!) { updateDevice(id: $id, input: { port: 1, secret: $secret }) { id } }`, { id: deviceId, secret: fx.counted.sim.password });
    await scrapeUntil(`meshplane_device_reachable{device="${deviceId}",name="sim-router"} 0`);
  });
});
