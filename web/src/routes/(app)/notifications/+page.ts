import { loadPageQuery } from '$lib/api/load';
import { notificationsQuery } from '$lib/graphql/alerts';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const unreadOnly = event.url.searchParams.get('unread') === '1';
  const data = await loadPageQuery(event, 'meshplane:notifications', notificationsQuery, { unreadOnly });
  return { unreadOnly, unreadCount: data.unreadNotificationCount, notifications: data.notifications.edges.map((edge) => edge.node) };
};
