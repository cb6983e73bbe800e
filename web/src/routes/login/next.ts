// Where the sign-in page sends someone after signing in (`/login?next=…`): a path on this site
// only. The browser reads the path as a URL, so what matters is what it resolves to: it drops
// tabs and newlines (`/\t/host` is `//host`), reads `\` as `/`, and resolves dot segments
// (`/.//host` is `//host`): each of those would leave the site. The server's /auth/oidc/login
// applies the same rule to the `next` it carries through the provider (services/auth/oidc.ts).
const base = new URL('http://meshplane.invalid/');

/** The path to go to after signing in, or "/" for anything that is not plainly a path here. */
export function nextPath(next: string | null): string {
  if (!next || !next.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/';
  }
  if (url.origin !== base.origin || url.pathname.startsWith('//') || url.pathname.startsWith('/auth/')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
