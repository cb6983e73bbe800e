// Why the live connection was closed (graphql-ws 4403, see $lib/api/client.ts), as the sign-in
// page says it. Only known reasons are named: the text never comes from the URL.
const messages: Record<string, string> = {
  'session revoked': 'Your session was revoked. Sign in again to continue.',
  'signed out': 'This session was signed out, in another tab or window. Sign in again to continue.',
  'signed out everywhere': 'You were signed out everywhere. Sign in again to continue.',
  'user disabled': 'Your account was disabled. Ask an admin to enable it again.',
  'session expired': 'Your session expired. Sign in again to continue.',
};

/** The message for `?ended=<reason>`, or null without one. */
export function endedMessage(reason: string | null): string | null {
  if (reason === null) return null;
  return messages[reason] ?? 'Your session ended. Sign in again to continue.';
}
