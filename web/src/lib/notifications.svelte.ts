// The signed-in user's unread notification count, shared by the header's bell and the
// notifications page: read once, then kept live by notificationAdded, and set from the
// answer of every markNotificationsRead.
import { browserClient } from './api/client';
import { fetchFresh } from './api/run';
import { notificationAddedSubscription, unreadCountQuery } from './graphql/alerts';
import type { NotificationViewFragment } from './gql/graphql';

export const unread = $state({ count: 0, known: false });

const listeners = new Set<(notification: NotificationViewFragment) => void>();

/** Reads the count afresh (after a navigation, or when the socket came back). */
export async function refreshUnread(): Promise<void> {
  const outcome = await fetchFresh(unreadCountQuery, {});
  if (outcome.data) {
    unread.count = outcome.data.unreadNotificationCount;
    unread.known = true;
  }
}

/** Told of each new notification while the bell follows them (the notifications page lists it at once). */
export function onNotification(listener: (notification: NotificationViewFragment) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Follows new notifications: one subscription for the whole app; returns the stop function. */
export function followNotifications(): () => void {
  void refreshUnread();
  const { unsubscribe } = browserClient()
    .subscription(notificationAddedSubscription, {})
    .subscribe((result) => {
      const notification = result.data?.notificationAdded;
      if (!notification) return;
      if (!notification.read) unread.count += 1;
      for (const listener of listeners) listener(notification);
    });
  return unsubscribe;
}
