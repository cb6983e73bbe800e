// In-app notifications: written in the transaction of what caused them (an alert firing or
// resolving), announced after commit on the shared pub/sub (every replica's
// notificationAdded subscribers hear it), read by every VIEWER and up with a read state per
// user, and kept bounded: older than RETENTION_DAYS or beyond MAX_ROWS are pruned in slices.
import type { Db } from '../../infra/db/client.js';
import type { PubSub } from '../../infra/pubsub/topics.js';
import type { DbOrTx } from './events.js';

export const NOTIFICATION_RETENTION_DAYS = 90;
export const NOTIFICATION_MAX_ROWS = 10_000;
/** Rows deleted per statement when pruning (a long delete would hold SQLite's write lock). */
const PRUNE_SLICE = 500;

export type NotificationSeverity = 'INFO' | 'WARNING' | 'CRITICAL';

export interface NewNotification {
  severity: NotificationSeverity;
  title: string;
  body: string;
  link: string | null;
  wanId: string | null;
  ruleId: string | null;
  incidentId: string | null;
}

export class Notifications {
  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    private readonly options: { now?: () => Date; maxRows?: number; retentionDays?: number } = {},
  ) {}

  /** Writes it in `db` (the caller's transaction); call announce() with the id after commit. */
  async create(notification: NewNotification, db: DbOrTx = this.prisma): Promise<string> {
    const row = await db.notification.create({ data: { ...notification, createdAt: this.options.now?.() ?? new Date() }, select: { id: true } });
    return row.id;
  }

  announce(notificationId: string): void {
    this.pubsub.publish('notificationAdded', { notificationId });
  }

  async unreadCount(userId: string): Promise<number> {
    return this.prisma.notification.count({ where: { reads: { none: { userId } } } });
  }

  /**
   * Marks these notifications (or all) read for the user; returns how many became read.
   * Reading twice (two tabs) is not an error: the rows already read are skipped.
   */
  async markRead(userId: string, target: { ids: readonly string[] } | { all: true }): Promise<number> {
    const unread = await this.prisma.notification.findMany({
      where: { reads: { none: { userId } }, ...('ids' in target ? { id: { in: [...target.ids] } } : {}) },
      select: { id: true },
    });
    if (unread.length === 0) return 0;
    let marked = 0;
    for (let start = 0; start < unread.length; start += PRUNE_SLICE) {
      const slice = unread.slice(start, start + PRUNE_SLICE);
      try {
        marked += (await this.prisma.notificationRead.createMany({ data: slice.map(({ id }) => ({ notificationId: id, userId })) })).count;
      } catch {
        // Another request marked some of these meanwhile: mark the rest one by one.
        for (const { id } of slice) {
          marked += await this.prisma.notificationRead.create({ data: { notificationId: id, userId } }).then(() => 1, () => 0);
        }
      }
    }
    return marked;
  }

  /** Deletes notifications past the retention or beyond the newest maxRows, a slice at a time; returns how many. */
  async prune(): Promise<number> {
    const now = this.options.now?.() ?? new Date();
    const cutoff = new Date(now.getTime() - (this.options.retentionDays ?? NOTIFICATION_RETENTION_DAYS) * 86_400_000);
    const maxRows = this.options.maxRows ?? NOTIFICATION_MAX_ROWS;
    let deleted = 0;
    for (let round = 0; round < 100; round++) {
      const boundary = await this.prisma.notification.findFirst({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: maxRows, select: { createdAt: true } });
      const before = boundary && boundary.createdAt > cutoff ? new Date(boundary.createdAt.getTime() + 1) : cutoff;
      const old = await this.prisma.notification.findMany({ where: { createdAt: { lt: before } }, orderBy: { createdAt: 'asc' }, take: PRUNE_SLICE, select: { id: true } });
      if (old.length === 0) break;
      deleted += (await this.prisma.notification.deleteMany({ where: { id: { in: old.map(({ id }) => id) } } })).count;
      if (old.length < PRUNE_SLICE) break;
    }
    return deleted;
  }
}
