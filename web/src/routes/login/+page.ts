import { redirect } from '@sveltejs/kit';
import { loadClient } from '$lib/api/client';
import { describeError } from '$lib/api/errors';
import { setupStateQuery } from '$lib/graphql/session';
import type { PageLoad } from './$types';
import { endedMessage } from './ended';

/** Only paths on this site: never `//elsewhere` or an absolute URL. */
function nextPath(url: URL): string {
  const next = url.searchParams.get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

export const load: PageLoad = async ({ fetch, parent, url }) => {
  const next = nextPath(url);
  const { user } = await parent();
  if (user) redirect(303, next);
  const result = await loadClient(fetch).query(setupStateQuery, {}, { fetch, requestPolicy: 'network-only' }).toPromise();
  return {
    next,
    invite: url.searchParams.get('invite') ?? undefined,
    ended: endedMessage(url.searchParams.get('ended')),
    needsFirstUser: result.data?.setupState.needsFirstUser ?? false,
    problem: result.data ? null : describeError(result.error).message,
  };
};
