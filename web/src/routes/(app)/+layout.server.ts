// Everything in (app) needs a signed-in user; others go to /login and come back afterwards.
import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals, url }) => {
  if (!locals.user) {
    const back = url.pathname === '/' ? '' : `?next=${encodeURIComponent(url.pathname + url.search)}`;
    redirect(303, `/login${back}`);
  }
  return { user: locals.user };
};
