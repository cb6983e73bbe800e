// The events Meshplane's own work emits, received by a loopback webhook receiver: drift found
// by a verify (items named as plans name them), a failed deploy, a device becoming unreachable
// and reachable again (once each, on the change), and the peer lifecycle (disabled, expired,
// deleted) — against the RouterOS simulator.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, finishedJob, liveFixture, managedRows, MENU, verify } from './harness.js';

interface Event {
  id: string;
  type: string;
  wan: { id: string; name: string } | null;
  subject: { kind: string; id: string; name: string };
  data: Record<string, unknown>;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('events emitted to webhooks', () => {
  const fx = liveFixture();
  const events: Event[] = [];
  let server: http.Server;
  let port = 0;

  async function next(type: string, after = 0): Promise<Event> {
    for (let poll = 0; poll < 600; poll++) {
      const found = events.slice(after).find((event) => event.type === type);
      if (found) return found;
      await wait(25);
    }
    throw new Error(`no ${type} event arrived`);
  }

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Event);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('subscribes to every non-tunnel event', async () => {
    await fx.overlay.admin.ok(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`, {
      input: {
        name: 'ops', url: `http://127.0.0.1:${port}/hook`, allowPrivateTargets: true,
        events: ['peer.created', 'peer.deleted', 'peer.disabled', 'peer.expired', 'deploy.failed', 'drift.detected', 'device.unreachable', 'device.reachable'],
      },
    });
  });

  it('drift.detected names the drifted items as plans do', async () => {
    const { admin, branchId, wanId } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    const { sim } = fx.counted;
    const [wg] = managedRows(sim, MENU.interface);
    sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': wg!['.id']!, mtu: '1280' } });
    const before = events.length;
    const job = await verify(admin, branchId);
    expect(job.drift).toHaveLength(1);
    const event = await next('drift.detected', before);
    expect(event).toMatchObject({ wan: { id: wanId, name: 'live' }, subject: { kind: 'peer', id: branchId, name: 'branch' }, data: { jobId: job.id, device: { name: 'sim-router' } } });
    expect(event.data.items).toEqual([expect.objectContaining({ state: 'DIFFERENT', fields: expect.arrayContaining(['mtu']) })]);
    expect(String((event.data.items as Array<{ label: string }>)[0]!.label)).toMatch(/WireGuard interface/);
    // In sync again: no further drift event.
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect((await verify(admin, branchId)).drift).toEqual([]);
  });

  it('deploy.failed when the device cannot be reached, then device.unreachable and device.reachable once each', async () => {
    const { admin, branchId, deviceId } = fx.overlay;
    const { sim } = fx.counted;
    // Device answering: the monitor knows it reachable before the change.
    for (let poll = 0; poll < 200; poll++) {
      const { device } = await admin.ok<{ device: { reachable: boolean | null } }>(`query ($id: ID!) { device(id: $id) { reachable } }`, { id: deviceId });
      if (device.reachable === true) break;
      await wait(25);
    }
    const before = events.length;
    await admin.ok(`mutation ($id: ID!, $secret: String!) { updateDevice(id: $id, input: { port: 9, secret: $secret }) { id } }`, { id: deviceId, secret: sim.password });
    const { deployPeer } = await admin.ok<{ deployPeer: { id: string } }>(`mutation ($peerId: ID!) { deployPeer(peerId: $peerId, approve: true) { id } }`, { peerId: branchId });
    const job = await finishedJob(admin, deployPeer.id);
    expect(job.status).toBe('FAILED');
    const failed = await next('deploy.failed', before);
    expect(failed).toMatchObject({ subject: { kind: 'job', id: job.id, name: 'deploy of branch to sim-router' }, data: { jobKind: 'DEPLOY', peer: { name: 'branch' }, device: { name: 'sim-router' } } });
    expect(String(failed.data.error)).toBe(job.error);
    expect(String(failed.data.error)).not.toContain(sim.password);
    const down = await next('device.unreachable', before);
    expect(down).toMatchObject({ wan: null, subject: { kind: 'device', id: deviceId, name: 'sim-router' }, data: { error: { code: 'DEVICE_UNREACHABLE' } } });
    const afterDown = events.length;
    await admin.ok(`mutation ($id: ID!, $secret: String!) { updateDevice(id: $id, input: { port: ${sim.apiPort}, secret: $secret }) { id } }`, { id: deviceId, secret: sim.password });
    const up = await next('device.reachable', afterDown);
    expect(up).toMatchObject({ subject: { kind: 'device', id: deviceId }, data: { error: null } });
    // Several more polls: no repeat of either.
    const polls = fx.live.app.services.monitor;
    for (let i = 0; i < 3; i++) await polls.pollOnce();
    expect(events.filter((event) => event.type === 'device.unreachable')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'device.reachable')).toHaveLength(1);
  });

  it('device.unreachable for a device added while the monitor watches that never answers, once; none for the devices it found at its start', async () => {
    const { admin } = fx.overlay;
    const { sim } = fx.counted;
    const before = events.length;
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'dead-router', kind: 'ROUTEROS_API', host: '127.0.0.1', port: 9, tls: false, username: 'admin', secret: sim.password, timeoutMs: 1000 },
    });
    const polls = fx.live.app.services.monitor;
    await polls.pollOnce();
    const down = await next('device.unreachable', before);
    expect(down).toMatchObject({ subject: { kind: 'device', id: createDevice.id, name: 'dead-router' }, data: { error: { code: 'DEVICE_UNREACHABLE' } } });
    for (let i = 0; i < 3; i++) await polls.pollOnce();
    await wait(200);
    expect(events.slice(before).filter((event) => event.type === 'device.unreachable')).toHaveLength(1);
    expect(events.slice(before).filter((event) => event.type === 'device.reachable')).toHaveLength(0);
    await admin.ok(`mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: createDevice.id });
  });

  it('peer.disabled, peer.expired and peer.deleted', async () => {
    const { admin, hqId, laptopId, wanId } = fx.overlay;
    const before = events.length;
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: false }) { peer { id } } }`, { id: hqId });
    expect(await next('peer.disabled', before)).toMatchObject({ wan: { id: wanId }, subject: { kind: 'peer', id: hqId, name: 'hq' }, data: { enabled: false, disabledBy: 'admin@example.net' } });
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    await admin.ok(`mutation ($id: ID!, $at: DateTime!) { updatePeer(id: $id, input: { expiresAt: $at }) { peer { id } } }`, { id: laptopId, at: expiresAt });
    await fx.live.app.services.expiry.sweep(new Date(Date.now() + 2 * 3600_000));
    expect(await next('peer.expired', before)).toMatchObject({ subject: { id: laptopId, name: 'laptop' }, data: { enabled: false, expiresAt } });
    await admin.ok(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: laptopId });
    expect(await next('peer.deleted', before)).toMatchObject({ subject: { id: laptopId, name: 'laptop' }, data: { deletedBy: 'admin@example.net' } });
  });
});
