import { redirect } from '@sveltejs/kit';
import { loadClient } from '$lib/api/client';
import { describeError } from '$lib/api/errors';
import { setupStateQuery } from '$lib/graphql/session';
import { invitationQuery } from '$lib/graphql/users';
import type { PageLoad } from './$types';
import { endedMessage } from './ended';
import { nextPath } from './next';
import { ssoErrorMessage } from './sso-errors';

export const load: PageLoad = async ({ fetch, parent, url }) => {
  const next = nextPath(url.searchParams.get('next'));
  const { user } = await parent();
  if (user) redirect(303, next);
  const invite = url.searchParams.get('invite') ?? undefined;
  const client = loadClient(fetch);
  // The invited address comes from the invitation the token opens, never from the link's own
  // text, so a link cannot pre-fill someone else's address.
  const [result, invited] = await Promise.all([
    client.query(setupStateQuery, {}, { fetch, requestPolicy: 'network-only' }).toPromise(),
    invite ? client.query(invitationQuery, { token: invite }, { fetch, requestPolicy: 'network-only' }).toPromise() : undefined,
  ]);
  return {
    next,
    invite,
    /** The invitation of the link (null: revoked, used, expired or unknown; undefined: no link or not known). */
    invitation: invited?.data ? invited.data.invitation : undefined,
    ended: endedMessage(url.searchParams.get('ended')),
    needsFirstUser: result.data?.setupState.needsFirstUser ?? false,
    /** What this Meshplane offers: the password form, an SSO button (SSO-only: the button alone). */
    signIn: result.data?.signInOptions ?? { password: true, registration: true, sso: null, ldap: false },
    /** Why the last single sign-on failed (`?error=` from /auth/oidc/callback), in our own words. */
    ssoError: ssoErrorMessage(url.searchParams.get('error')),
    problem: result.data ? null : describeError(result.error).message,
  };
};
