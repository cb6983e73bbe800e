// Everything in (app) needs a signed-in user; others go to /login and come back afterwards.
// A self-service user sees My devices only: any other page sends them there, before it loads
// anything (its queries would be refused, and they should never meet an error page for it).
import { redirect } from '@sveltejs/kit';
import { isSelfService, MY_DEVICES_PATH, selfServiceMayVisit } from '$lib/roles';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals, url }) => {
  if (!locals.user) {
    const back = url.pathname === '/' ? '' : `?next=${encodeURIComponent(url.pathname + url.search)}`;
    redirect(303, `/login${back}`);
  }
  if (isSelfService(locals.user) && !selfServiceMayVisit(url.pathname)) redirect(303, MY_DEVICES_PATH);
  return { user: locals.user };
};
