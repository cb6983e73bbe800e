import { loadPageQuery } from '$lib/api/load';
import { usersQuery } from '$lib/graphql/users';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, 'meshplane:users', usersQuery, {});
  return { users: data.users.edges.map((edge) => edge.node), invitations: data.pendingInvitations, directory: data.directory };
};
