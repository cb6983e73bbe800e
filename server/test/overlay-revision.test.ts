// Wan.overlayRevision and its change journal, kept by database triggers (migration
// overlay_revision), and the shared overlay view cache that trusts them: on SQLite (two apps
// on one file) and on PostgreSQL (a private cluster), every kind of change to a WAN's overlay
// bumps the revision, delivery and monitor writes do not, the triggers watch every column the
// overlay spec reads, and a view patched from the journal equals a whole read, on the replica
// that made the change and on the other.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { overlayView } from '../src/services/overlay/overlay-cache.js';
import { loadOverlayRows, OVERLAY_COLUMNS, overlaySpecFromRows } from '../src/services/overlay/overlay-spec.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { seedOverlay, type OverlayFixture } from './support/overlay-fixture.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';

interface Replica { app: App; graphqlUrl: string; dataDir: string }

async function startTwo(databaseUrl: string): Promise<Replica[]> {
  const env = { ...process.env, MESHPLANE_MASTER_KEY: randomBytes(32).toString('base64'), MESHPLANE_CONFIG: '', DATABASE_URL: '', REDIS_URL: '' };
  const replicas: Replica[] = [];
  for (let i = 0; i < 2; i++) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `meshplane-revision-${i}-`));
    const app = await buildApp({ dataDir, databaseUrl, port: 0, host: '127.0.0.1', web: false, monitor: false, env, logger: createLogger('silent') });
    replicas.push({ app, graphqlUrl: (await app.start()).graphqlUrl, dataDir });
  }
  return replicas;
}

/** Trigger name → its definition as the database reports it. */
async function triggers(app: App, postgres: boolean): Promise<Map<string, string>> {
  const prisma = app.database.prisma;
  const rows = postgres
    ? await prisma.$queryRawUnsafe<Array<{ name: string; sql: string }>>(`SELECT tgname AS name, pg_get_triggerdef(oid) AS sql FROM pg_trigger WHERE NOT tgisinternal`)
    : await prisma.$queryRawUnsafe<Array<{ name: string; sql: string }>>(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger'`);
  return new Map(rows.map((row) => [row.name, row.sql]));
}

const TRIGGERED_TABLES: Record<keyof typeof OVERLAY_COLUMNS, string> = {
  Wan: 'overlay_wan_update', Peer: 'overlay_peer_update', Subnet: 'overlay_subnet_update',
  PublishedService: 'overlay_publishedservice_update', PresharedKey: 'overlay_presharedkey_update', Device: 'overlay_device_update',
};

function suite(label: string, postgres: boolean, databaseUrl: () => Promise<string>) {
  describe(label, () => {
    let replicas: Replica[] = [];
    let admin: GraphQLTestClient;
    /** The admin's session on the other replica. */
    let onB: { ok: (query: string, variables?: Record<string, unknown>) => Promise<unknown> };
    let seeded: OverlayFixture;

    beforeAll(async () => {
      replicas = await startTwo(await databaseUrl());
      admin = await registerAdmin(replicas[0]!.graphqlUrl);
      const cookie = admin.sessionCookie!;
      onB = {
        async ok(query, variables = {}) {
          const response = await fetch(replicas[1]!.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ query, variables }) });
          const result = (await response.json()) as { data?: unknown; errors?: unknown[] };
          if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
          return result.data;
        },
      };
      seeded = await seedOverlay(admin, `rev-${label.replace(/\W+/g, '-').toLowerCase()}`);
    });
    afterAll(async () => {
      for (const replica of replicas) {
        await replica.app.stop();
        fs.rmSync(replica.dataDir, { recursive: true, force: true });
      }
    });

    const prisma = () => replicas[0]!.app.database.prisma;
    const revision = async () => (await prisma().wan.findUniqueOrThrow({ where: { id: seeded.wanId }, select: { overlayRevision: true } })).overlayRevision;
    const lastChange = () => prisma().overlayChange.findFirst({ where: { wanId: seeded.wanId }, orderBy: { revision: 'desc' }, select: { revision: true, entity: true, entityId: true, deleted: true } });

    /** The view each replica's cache returns equals a whole read of the WAN. */
    async function expectViewsCurrent(): Promise<void> {
      for (const { app } of replicas) {
        const view = await overlayView(app.database.prisma, app.services.secrets, seeded.wanId);
        const whole = overlaySpecFromRows(await loadOverlayRows(app.database.prisma, seeded.wanId), { secrets: app.services.secrets });
        expect(view.spec).toEqual(whole);
      }
    }

    /** `change` bumps the revision by `bumps` and journals `entity` last (with `deleted`), and both caches follow. */
    async function expectBump(entity: string, change: () => Promise<unknown>, { bumps = 1, deleted = false } = {}): Promise<void> {
      await expectViewsCurrent();
      const before = await revision();
      await change();
      expect(await revision()).toBe(before + bumps);
      expect(await lastChange()).toMatchObject({ revision: before + bumps, entity, deleted });
      await expectViewsCurrent();
    }

    async function expectNoBump(change: () => Promise<unknown>): Promise<void> {
      const before = await revision();
      const view = await overlayView(prisma(), replicas[0]!.app.services.secrets, seeded.wanId);
      await change();
      expect(await revision()).toBe(before);
      // Nothing to rebuild: the same view object.
      expect(await overlayView(prisma(), replicas[0]!.app.services.secrets, seeded.wanId)).toBe(view);
    }

    it('watches every column the overlay spec reads, in each update trigger\'s column list and its condition', async () => {
      const defined = await triggers(replicas[0]!.app, postgres);
      for (const [table, name] of Object.entries(TRIGGERED_TABLES)) {
        const sql = defined.get(name);
        expect(sql, `trigger ${name}`).toBeDefined();
        const listed = /UPDATE OF (.+?) ON /i.exec(sql!)?.[1]?.split(',').map((column) => column.trim().replace(/"/g, '')) ?? [];
        for (const column of OVERLAY_COLUMNS[table as keyof typeof OVERLAY_COLUMNS]) {
          expect(listed, `${name} watches ${column}`).toContain(column);
          expect(sql, `${name} compares ${column}`).toMatch(new RegExp(`OLD\\.(?:"${column}"|${column}\\b)`, 'i'));
        }
      }
      for (const table of ['peer', 'subnet', 'publishedservice', 'presharedkey']) {
        expect([...defined.keys()].filter((name) => name.startsWith(`overlay_${table}_`)).length, table).toBeGreaterThanOrEqual(postgres ? 2 : 3);
      }
    });

    it('bumps the revision on every kind of change to the overlay, through the API and through any other writer', async () => {
      const peerId = seeded.siteId;
      await expectBump('PEER', () => admin.ok(`mutation ($wanId: ID!) { addPeer(wanId: $wanId, input: { name: "extra" }) { peer { id } } }`, { wanId: seeded.wanId }));
      const extra = (await lastChange())!.entityId;
      await expectBump('PEER', () => admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { name: "extra-renamed", keepalive: 17 }) { peer { id } } }`, { id: extra }));
      await expectBump('PEER', () => onB.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: false }) { peer { id } } }`, { id: peerId }));
      await expectBump('PEER', () => admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: true }) { peer { id } } }`, { id: peerId }));
      await expectBump('PEER', () => onB.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: seeded.hubId }));
      await expectBump('PEER', () => prisma().peer.update({ where: { id: peerId }, data: { endpointHost: 'site.example.net', endpointPort: 51000 } }));
      await expectBump('SUBNET', () => admin.ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.20.0/24" }) { id } }`, { peerId }));
      const subnetId = (await lastChange())!.entityId;
      await expectBump('SUBNET', () => prisma().subnet.update({ where: { id: subnetId }, data: { description: 'lab' } }));
      await expectBump('SUBNET', () => onB.ok(`mutation ($id: ID!) { deleteSubnet(id: $id) }`, { id: subnetId }), { deleted: true });
      await expectBump('SERVICE', () => prisma().publishedService.update({ where: { id: seeded.serviceId }, data: { localPort: 8080 } }));
      await expectBump('SERVICE', () => admin.ok(`mutation ($id: ID!) { unpublishService(id: $id) }`, { id: seeded.serviceId }), { deleted: true });
      await expectBump('PSK', () => admin.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: false) }`, { a: seeded.hubId, b: peerId }), { deleted: true });
      await expectBump('PSK', () => onB.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: seeded.hubId, b: peerId }));
      await expectBump('WAN', () => admin.ok(`mutation ($id: ID!) { updateWan(id: $id, input: { mtu: 1380 }) { wan { id } } }`, { id: seeded.wanId }));
      await expectBump('WAN', () => prisma().wan.update({ where: { id: seeded.wanId }, data: { keepalive: 21 } }));
      // A peer bound to a device, then the device gone: the binding is part of the overlay.
      await expectBump('PEER', () => prisma().peer.update({ where: { id: peerId }, data: { deviceId: seeded.deviceId } }));
      await expectBump('PEER', () => admin.ok(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: extra }), { deleted: true });
    });

    it('leaves the revision (and the cached view) alone for downloads, delivery, drift and other columns, and for writes that change nothing', async () => {
      await expectNoBump(() => admin.ok(`mutation ($p: ID!) { downloadPeerConfig(peerId: $p) { hash } }`, { p: seeded.hubId }));
      await expectNoBump(() => onB.ok(`mutation ($p: ID!) { downloadPeerConfig(peerId: $p, format: ROUTEROS) { hash } }`, { p: seeded.byoId }));
      await expectNoBump(() => prisma().peer.update({
        where: { id: seeded.hubId },
        data: { deliveredHash: 'x', deliveredAt: new Date(), deliveredVia: 'deploy', driftCheckedAt: new Date(), driftItems: '[]', driftSince: null, autoDeploy: true, expiresAt: null },
      }));
      await expectNoBump(() => prisma().wan.update({ where: { id: seeded.wanId }, data: { selfService: true, selfServicePeerLimit: 5 } }));
      const { name } = await prisma().peer.findUniqueOrThrow({ where: { id: seeded.hubId }, select: { name: true } });
      await expectNoBump(() => prisma().peer.update({ where: { id: seeded.hubId }, data: { name } }));
    });

    it('refuses a write that sets the revision back (a writer that wrote back a row it read)', async () => {
      const current = await revision();
      await prisma().peer.update({ where: { id: seeded.hubId }, data: { keepalive: 13 } });
      await expect(prisma().wan.update({ where: { id: seeded.wanId }, data: { overlayRevision: current } })).rejects.toThrow();
      expect(await revision()).toBe(current + 1);
    });

    it('reads the WAN whole when the journal no longer reaches back to a cached view', async () => {
      await expectViewsCurrent();
      const before = await revision();
      await prisma().peer.update({ where: { id: seeded.hubId }, data: { keepalive: 11 } });
      await prisma().peer.update({ where: { id: seeded.hubId }, data: { keepalive: 12 } });
      // As pruning does: the older entry of the two is gone.
      await prisma().overlayChange.deleteMany({ where: { wanId: seeded.wanId, revision: before + 1 } });
      await expectViewsCurrent();
    });

    it('a download on one replica renders what the other replica just changed', async () => {
      const download = async (client: { ok: GraphQLTestClient['ok'] }) =>
        (await client.ok<{ downloadPeerConfig: { content: string; hash: string } }>(`mutation ($p: ID!) { downloadPeerConfig(peerId: $p) { content hash } }`, { p: seeded.hubId })).downloadPeerConfig;
      const first = await download(admin);
      await onB.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { listenPort: 51999, endpointPort: 51999 }) { peer { id } } }`, { id: seeded.hubId });
      const second = await download(admin);
      expect(second.hash).not.toBe(first.hash);
      expect(second.content).toContain('ListenPort = 51999');
      expect(first.content).not.toContain('ListenPort = 51999');
    });
  });
}

suite('SQLite (two apps on one file)', false, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-revision-db-'));
  const file = path.join(dir, 'shared.db');
  fs.copyFileSync(inject('sqliteTemplate'), file);
  return `file:${file}`;
});

const pgBin = postgresOrSkip('overlay revision on PostgreSQL (test/overlay-revision.test.ts)');
let cluster: PostgresCluster | null = null;
afterAll(async () => {
  await cluster?.stop();
});
if (pgBin) {
  suite('PostgreSQL (two apps on one database)', true, async () => {
    cluster = await startPostgres({ database: 'revision' });
    return cluster.url;
  });
}
