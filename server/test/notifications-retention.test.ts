// In-app notifications stay bounded: older than the retention or beyond the newest N rows are
// pruned (in slices), with their read state; the newest are kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopics } from '../src/infra/pubsub/topics.js';
import { Notifications } from '../src/services/integrations/notifications.js';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin } from './support/graphql.js';

const DAY = 86_400_000;

describe('notification retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('prunes past the retention and beyond the newest rows, read state with them', async () => {
    const prisma = t.app.database.prisma;
    const admin = await registerAdmin(t.graphqlUrl);
    const { me } = await admin.ok<{ me: { id: string } }>(`{ me { id } }`);
    const now = new Date('2026-12-01T12:00:00Z');
    const make = (title: string, ageDays: number) => prisma.notification.create({ data: { severity: 'WARNING', title, body: title, createdAt: new Date(now.getTime() - ageDays * DAY) } });
    const old = await make('91 days old', 91);
    for (let i = 0; i < 1200; i++) await make(`recent ${i}`, 10 - i / 200);
    await prisma.notificationRead.create({ data: { notificationId: old.id, userId: me.id } });

    const notifications = new Notifications(prisma, createTopics(), { now: () => now, maxRows: 1000, retentionDays: 90 });
    expect(await notifications.prune()).toBe(201);
    expect(await prisma.notification.count()).toBe(1000);
    expect(await prisma.notification.count({ where: { title: '91 days old' } })).toBe(0);
    expect(await prisma.notificationRead.count()).toBe(0);
    // The newest are the ones kept.
    expect(await prisma.notification.count({ where: { title: 'recent 1199' } })).toBe(1);
    expect(await prisma.notification.count({ where: { title: 'recent 0' } })).toBe(0);
    expect(await notifications.prune()).toBe(0);

    const { unreadNotificationCount } = await admin.ok<{ unreadNotificationCount: number }>(`{ unreadNotificationCount }`);
    expect(unreadNotificationCount).toBe(1000);
  });
});
