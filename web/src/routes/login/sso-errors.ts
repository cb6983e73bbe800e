// Why a single sign-on did not sign the user in (`/login?error=<code>`, set by the server's
// /auth/oidc/callback), as the sign-in page says it. Only known codes are named: the text
// never comes from the URL or from the identity provider.
const messages: Record<string, string> = {
  provider_unavailable: 'The identity provider could not be reached. Try again in a moment, or ask an admin to check the single sign-on settings.',
  provider_error: 'The identity provider could not sign you in. Try again, or ask an admin.',
  access_denied: 'The sign-in was cancelled at the identity provider.',
  flow_expired: 'The sign-in took too long or was started again in another tab. Please try again.',
  state_mismatch: 'This sign-in answer does not belong to the sign-in started in this browser. Please try again.',
  invalid_response: 'The identity provider’s answer could not be verified, so you were not signed in. Please try again.',
  email_missing: 'The identity provider did not share your e-mail address, which Meshplane needs. Ask an admin.',
  email_unverified: 'Your e-mail address is not verified at the identity provider. Verify it there, then sign in again.',
  domain_not_allowed: 'Accounts of your e-mail domain cannot sign in to this Meshplane.',
  no_role: 'Your account is not in any group that gives access to Meshplane. Ask an admin to add you to one.',
  rate_limited: 'Too many sign-in attempts from your network in the last minute. Wait a minute, then try again.',
  account_disabled: 'Your Meshplane account is disabled. Ask an admin to enable it again.',
  account_conflict:
    'A Meshplane account with your e-mail address already exists and signs in another way (for example with a password). Meshplane does not merge accounts: sign in that way, or ask an admin to remove the other account first.',
};

/** The sentence for `?error=<code>`, or null without one. */
export function ssoErrorMessage(code: string | null): string | null {
  if (code === null) return null;
  return messages[code] ?? 'Single sign-on did not succeed. Please try again.';
}
