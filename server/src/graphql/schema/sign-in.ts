// What the sign-in page offers (password form, SSO button, registration) and where the sign-out
// button sends the browser afterwards (the identity provider's sign-out, for OIDC sessions).
import { builder } from '../builder.js';

interface SignInOptionsShape {
  password: boolean;
  registration: boolean;
  sso: { label: string } | null;
  ldap: boolean;
}

const SsoOption = builder.objectRef<{ label: string }>('SsoOption').implement({
  description: 'Single sign-on through the configured OIDC provider: the button starts at GET /auth/oidc/login.',
  fields: (t) => ({
    label: t.exposeString('label', { description: 'The button reads "Sign in with <label>".' }),
  }),
});

const SignInOptions = builder.objectRef<SignInOptionsShape>('SignInOptions').implement({
  description: 'The ways to sign in that this Meshplane offers.',
  fields: (t) => ({
    password: t.exposeBoolean('password', { description: 'Sign-in with an e-mail address and password (false in SSO-only mode).' }),
    registration: t.exposeBoolean('registration', { description: 'Accounts with a Meshplane password can be registered (the first account, or by invitation); false in SSO-only mode.' }),
    sso: t.field({ type: SsoOption, nullable: true, resolve: (options) => options.sso, description: 'Null when no OIDC provider is configured.' }),
    ldap: t.exposeBoolean('ldap', { description: 'The password form also accepts directory (LDAP) logins.' }),
  }),
});

builder.queryFields((t) => ({
  signInOptions: t.field({
    type: SignInOptions,
    authScopes: { public: true },
    description: 'What the sign-in page shows: the password form, the SSO button, registration.',
    resolve: (_root, _args, ctx) => {
      const oidc = ctx.services.oidc?.config ?? null;
      const passwords = !oidc?.ssoOnly;
      return { password: passwords, registration: passwords, sso: oidc ? { label: oidc.label } : null, ldap: passwords && ctx.services.directory !== null };
    },
  }),
  signOutUrl: t.string({
    nullable: true,
    authScopes: { public: true },
    description:
      "Where the browser goes after `logout` to sign out at the identity provider too (its end-session endpoint, which returns to the sign-in page): only for a session opened through OIDC with a provider that has one; otherwise null. Ask before `logout`.",
    resolve: (_root, _args, ctx) => ctx.services.oidc?.signOutUrl(ctx.identity?.via === 'session' ? ctx.identity.sessionId : undefined) ?? null,
  }),
}));
