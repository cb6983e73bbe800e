// A real OpenID Provider (panva's certified oidc-provider) in its own process, for the SSO
// tests: `tsx oidc-provider-server.ts '<json options>'` listens on 127.0.0.1 (port 0 = any
// free port) and prints one JSON line {"issuer": "..."} when ready. Its built-in development
// login page accepts any password for a known account (the login names below), so a browser
// or an HTTP client really fills the provider's form. PKCE is required for every client.
//
// A small test door, POST /__test/accounts/<id> with the admin token, changes an account's
// claims (groups, e-mail) so a test can move a user between groups between two sign-ins.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';

export interface ProviderAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  /** A list, or one group as a plain string (some providers send that). */
  groups?: string[] | string;
  /** Google's hosted domain (a Workspace account's domain). */
  hd?: string;
}

export interface ProviderOptions {
  port?: number;
  clients: ClientMetadata[];
  accounts: Record<string, ProviderAccount>;
  /** Secret for the test door (changing accounts). */
  adminToken: string;
  /** true (oidc-provider's default): scope claims only at userinfo; false: in the ID token too. */
  conformIdTokenClaims?: boolean;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ProviderOptions;
const accounts = new Map(Object.entries(options.accounts));

const server = http.createServer();
await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const provider = new Provider(issuer, {
  clients: options.clients,
  cookies: { keys: ['meshplane-test-provider-cookie-key'] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { email: ['email', 'email_verified'], profile: ['name', 'preferred_username', 'hd'], groups: ['groups'] },
  conformIdTokenClaims: options.conformIdTokenClaims ?? true,
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(_ctx: KoaContextWithOIDC, id: string) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: () => ({ sub: id, ...accounts.get(id) }) };
  },
  // A first-party client: no consent page, every requested scope is granted at once.
  async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
    const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    const grant = existing ?? new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! });
    grant.addOIDCScope(String(oidc.params!.scope ?? 'openid'));
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'preferred_username', 'groups']);
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => {
  const match = /^\/__test\/accounts\/([^/]+)$/.exec(ctx.path);
  if (!match || ctx.method !== 'POST') return next();
  if (ctx.get('authorization') !== `Bearer ${options.adminToken}`) {
    ctx.status = 401;
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  accounts.set(decodeURIComponent(match[1]!), JSON.parse(Buffer.concat(chunks).toString('utf8')) as ProviderAccount);
  ctx.status = 204;
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
