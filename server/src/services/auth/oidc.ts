// OIDC sign-in (authorization code flow with PKCE S256) through openid-client against any
// standard provider found by discovery. The flow's state, nonce, PKCE verifier and the page to
// return to travel in a short-lived cookie sealed with a key derived from the master key, so
// any replica can finish a flow another one started, and nothing is stored per flow. The
// callback checks state, then openid-client checks the issuer (RFC 9207 `iss` when the
// provider sends it), the ID token's signature, audience, nonce and expiry, and exchanges the
// code (one use at the provider, so a replayed callback fails there too).
//
// Users are found by (OIDC, "<issuer>|<sub>"), created at their first sign-in, and their
// e-mail, name and role follow the provider at every sign-in (role from the groups claim,
// domain/identity-mapping.ts). A user the provider no longer puts in any mapped group is
// refused and their Meshplane sessions end. An existing account with the same e-mail address
// (a password account, or one from another provider) is never taken over: refused, named.
import * as client from 'openid-client';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import { SecretBox } from '../../infra/crypto/secret-box.js';
import type { Role } from '../../generated/prisma/enums.js';
import { groupsFromClaims, roleForGroups } from '../../domain/identity-mapping.js';
import { fieldChanges, recordAudit } from '../audit.js';
import type { AccessRevoked, PubSub } from '../../infra/pubsub/topics.js';
import { normalizeEmail, type Accounts } from './accounts.js';
import type { OidcConfig } from './oidc-config.js';

export const OIDC_FLOW_COOKIE = 'mp_oidc';
export const OIDC_FLOW_TTL_SECONDS = 600;
/** How long a request to the provider may take (discovery, token, userinfo, keys). */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** Why a sign-in was refused: the login page turns each into a sentence (never the provider's own text). */
export type OidcFailure =
  | 'provider_unavailable'
  | 'provider_error'
  | 'access_denied'
  | 'flow_expired'
  | 'state_mismatch'
  | 'invalid_response'
  | 'email_missing'
  | 'email_unverified'
  | 'domain_not_allowed'
  | 'no_role'
  | 'account_disabled'
  | 'account_conflict'
  | 'rate_limited';

/** Refusals of someone the provider vouched for (audited); the others come before any identity is known. */
const IDENTIFIED_REFUSALS = new Set<OidcFailure>(['email_missing', 'email_unverified', 'domain_not_allowed', 'no_role', 'account_disabled', 'account_conflict']);

export class OidcRefusal extends Error {
  override readonly name = 'OidcRefusal';
  constructor(
    readonly code: OidcFailure,
    message: string,
    readonly email: string | null = null,
  ) {
    super(message);
  }
}

interface Flow {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  /** Seconds since the epoch. */
  at: number;
}

/** The longest `next` carried through a sign-in; a longer one goes to "/". */
const MAX_NEXT_LENGTH = 1024;

/**
 * Where to go after signing in: a path on this site only. Anything else (an absolute URL,
 * `//host`, `/\host` which browsers read as `//host`, control characters, and dot segments
 * that normalize to `//host`, like `/.//host`) becomes "/".
 */
export function safeNext(next: string | null | undefined): string {
  // It travels in the flow cookie, which a browser drops whole past ~4 KB (and the sign-in with it).
  if (!next || next.length > MAX_NEXT_LENGTH || !next.startsWith('/') || next.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  const base = new URL('http://meshplane.invalid/');
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/';
  }
  // The normalized path is what goes into Location: `/.//host` and `/a/..//host` become `//host` here.
  if (url.origin !== base.origin || url.pathname.startsWith('//') || url.pathname.startsWith('/auth/')) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Percent-encoding can make the path several times longer than what was given.
  return path.length > MAX_NEXT_LENGTH ? '/' : path;
}

/** What the logs may say about a failure: openid-client's code and message (never a token, code or URL). */
function describe(error: unknown): { code?: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { ...(typeof code === 'string' ? { code } : {}), message: error.message.slice(0, 300) };
  }
  return { message: String(error).slice(0, 300) };
}

/**
 * Whether a request to the provider failed for want of an answer (refused, reset, no route, DNS,
 * timeout) rather than because of what it answered: fetch rejects with a plain TypeError, and
 * openid-client turns a timeout or abort into OAUTH_TIMEOUT / OAUTH_ABORT.
 */
function unreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // oauth4webapi's own argument errors are TypeErrors too, but carry a code (ERR_INVALID_ARG_…).
  if (error instanceof TypeError) return code === undefined;
  return code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT';
}

const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** A display name from the claims: `name`, else `preferred_username`, else the e-mail's local part. */
function nameFrom(claims: Record<string, unknown>, email: string): string {
  for (const candidate of [claims.name, claims.preferred_username]) {
    if (typeof candidate !== 'string') continue;
    const clean = candidate.replace(CONTROL, '').trim().slice(0, 100);
    if (clean) return clean;
  }
  return email.split('@')[0]!.slice(0, 100);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

type SignedInUser = { id: string; email: string; name: string; role: Role };

/**
 * Failed code exchanges per client address and minute. Anyone can start a flow and come back
 * with a made-up code, and each such callback costs a request to the provider: this bounds what
 * one address can make Meshplane send.
 */
export const CALLBACK_EXCHANGES_PER_MINUTE = 20;

/** Google's issuer: its ID tokens name a Workspace account's domain in `hd`, the claim its documentation says to check. */
const GOOGLE_ISSUER = 'https://accounts.google.com';

export class OidcSignIn {
  private discovered: Promise<client.Configuration> | null = null;
  private readonly flows: SecretBox;
  private readonly exchanges = new RateLimiterMemory({ points: CALLBACK_EXCHANGES_PER_MINUTE, duration: 60 });

  constructor(
    readonly config: OidcConfig,
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly accounts: Accounts,
    private readonly pubsub: PubSub,
    private readonly log: Logger,
  ) {
    this.flows = new SecretBox(secrets.deriveKey('oidc-flow'));
    // Google has no groups to map: with a default role and no domain fence, every Google account
    // in the world gets that role, unless the client's audience at Google is Internal (which
    // Meshplane cannot see).
    if (new URL(config.issuer).origin === GOOGLE_ISSUER && config.defaultRole !== null && config.allowedDomains.length === 0) {
      log.warn(
        { issuer: config.issuer, defaultRole: config.defaultRole },
        `OIDC with Google, a defaultRole and no allowedDomains: any Google account can sign in as ${config.defaultRole} unless the client's audience at Google is Internal; set oidc.allowedDomains (MESHPLANE_OIDC_ALLOWED_DOMAINS)`,
      );
    }
  }

  /** The provider's configuration, discovered once; a failed discovery is tried again at the next sign-in. */
  private configuration(): Promise<client.Configuration> {
    this.discovered ??= this.discover().catch((error: unknown) => {
      this.discovered = null;
      throw error;
    });
    return this.discovered;
  }

  private async discover(): Promise<client.Configuration> {
    const insecure = new URL(this.config.issuer).protocol === 'http:';
    const found = await client.discovery(new URL(this.config.issuer), this.config.clientId, undefined, client.None(), {
      ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      timeout: PROVIDER_TIMEOUT_SECONDS,
    });
    const server = found.serverMetadata();
    const configuration = new client.Configuration(server, this.config.clientId, this.config.clientSecret ? { client_secret: this.config.clientSecret } : {}, this.clientAuth(server));
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    if (insecure) client.allowInsecureRequests(configuration);
    // The ID token's signature is checked against the provider's published keys, not only trusted for arriving over TLS.
    client.enableNonRepudiationChecks(configuration);
    if (server.code_challenge_methods_supported && !server.code_challenge_methods_supported.includes('S256')) {
      this.log.warn({ issuer: server.issuer }, 'the OIDC provider does not list PKCE S256 among its methods; Meshplane sends it anyway');
    }
    this.log.info({ issuer: server.issuer, endSession: Boolean(server.end_session_endpoint), client: this.config.clientSecret ? 'confidential' : 'public' }, 'OIDC provider discovered');
    return configuration;
  }

  /** client_secret_basic unless the provider offers only client_secret_post; a public client authenticates with PKCE alone. */
  private clientAuth(server: client.ServerMetadata): client.ClientAuth {
    const secret = this.config.clientSecret;
    if (!secret) return client.None();
    const methods = server.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    if (methods.includes('client_secret_basic')) return client.ClientSecretBasic(secret);
    if (methods.includes('client_secret_post')) return client.ClientSecretPost(secret);
    throw new Error(`the OIDC provider accepts neither client_secret_basic nor client_secret_post at its token endpoint (it lists ${methods.join(', ')})`);
  }

  private sealFlow(flow: Flow): string {
    return this.flows.seal(JSON.stringify(flow));
  }

  private openFlow(sealed: string | null, now = Date.now()): Flow | null {
    if (!sealed) return null;
    try {
      const flow = JSON.parse(this.flows.open(sealed)) as Flow;
      const age = now / 1000 - flow.at;
      return age >= -60 && age <= OIDC_FLOW_TTL_SECONDS ? flow : null;
    } catch {
      return null;
    }
  }

  /** The provider's configuration, or a refusal the sign-in page words ("could not be reached"). */
  private async reachableConfiguration(): Promise<client.Configuration> {
    try {
      return await this.configuration();
    } catch (error) {
      this.log.warn({ issuer: this.config.issuer, err: describe(error) }, 'OIDC discovery failed');
      throw new OidcRefusal('provider_unavailable', 'the identity provider could not be reached');
    }
  }

  /** Starts a sign-in: the provider's authorization URL and the sealed flow cookie. */
  async begin(next: string | null): Promise<{ location: string; flowCookie: string }> {
    const configuration = await this.reachableConfiguration();
    const flow: Flow = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(), next: safeNext(next), at: Math.floor(Date.now() / 1000) };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUri,
      scope: this.config.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { location: url.href, flowCookie: this.sealFlow(flow) };
  }

  /**
   * Finishes a sign-in from the callback's query and the flow cookie: checks everything, finds
   * or creates the user, opens a session. Throws OidcRefusal (audited as a denied auth.login).
   */
  async complete(query: URLSearchParams, flowCookie: string | null, clientAddress: string): Promise<{ user: SignedInUser; token: string; next: string }> {
    try {
      return await this.completeChecked(query, flowCookie, clientAddress);
    } catch (error) {
      const refusal = error instanceof OidcRefusal ? error : new OidcRefusal('invalid_response', 'the sign-in could not be completed');
      if (!(error instanceof OidcRefusal)) this.log.error({ err: describe(error) }, 'OIDC sign-in failed unexpectedly');
      // Only a refused person is audited: a callback without a valid flow or code is anyone's to
      // send, as often as they like, and would fill the audit log; the log line says it instead.
      if (!IDENTIFIED_REFUSALS.has(refusal.code) && error instanceof OidcRefusal) {
        this.log.info({ reason: refusal.code, clientAddress }, 'OIDC callback refused');
        throw refusal;
      }
      await recordAudit(this.prisma, null, {
        action: 'auth.login',
        outcome: 'denied',
        details: { via: 'oidc', issuer: this.config.issuer, reason: refusal.code, clientAddress, ...(refusal.email ? { email: refusal.email } : {}) },
      });
      throw refusal;
    }
  }

  private async completeChecked(query: URLSearchParams, flowCookie: string | null, clientAddress: string) {
    const flow = this.openFlow(flowCookie);
    if (!flow) throw new OidcRefusal('flow_expired', 'no sign-in was started in this browser in the last 10 minutes');
    // Checked before anything else: a response to someone else's request is not ours to read.
    if (query.get('state') !== flow.state) throw new OidcRefusal('state_mismatch', 'the response does not belong to the sign-in this browser started');
    const providerError = query.get('error');
    if (providerError) {
      // Only the provider's error code is logged; its free-text description is not shown to anyone.
      this.log.info({ error: providerError.slice(0, 60) }, 'the OIDC provider refused the sign-in');
      throw new OidcRefusal(providerError === 'access_denied' ? 'access_denied' : 'provider_error', `the identity provider refused: ${providerError.slice(0, 60)}`);
    }
    const configuration = await this.reachableConfiguration();
    try {
      await this.exchanges.consume(clientAddress);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw new OidcRefusal('rate_limited', 'too many failed sign-in answers from this address: wait a minute');
    }
    // The URL the provider sent the browser to, rebuilt from the configured redirect URI (not the Host header).
    const current = new URL(this.config.redirectUri);
    for (const [key, value] of query) current.searchParams.append(key, value);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, current, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    } catch (error) {
      if (unreachable(error)) {
        this.log.warn({ issuer: this.config.issuer, err: describe(error) }, 'OIDC code exchange failed: the provider could not be reached');
        throw new OidcRefusal('provider_unavailable', 'the identity provider could not be reached to finish the sign-in');
      }
      this.log.warn({ err: describe(error) }, 'OIDC callback refused (issuer, nonce, signature or code exchange)');
      throw new OidcRefusal('invalid_response', 'the identity provider\'s answer did not check out');
    }
    // Only failed exchanges count: people signing in behind one address (NAT) are never held up.
    await this.exchanges.reward(clientAddress, 1);
    const idClaims = tokens.claims();
    if (!idClaims) throw new OidcRefusal('invalid_response', 'the identity provider sent no ID token');
    const claims = await this.withUserInfo(configuration, idClaims, tokens.access_token);
    const issuer = configuration.serverMetadata().issuer;
    const user = await this.upsertUser(issuer, claims);
    const sealedIdToken = tokens.id_token ? this.secrets.seal(tokens.id_token) : null;
    const token = await this.accounts.openSession(user, { via: 'oidc', issuer, clientAddress }, sealedIdToken);
    return { user, token, next: flow.next };
  }

  /**
   * Claims from the ID token, completed from the userinfo endpoint when the e-mail address or
   * the groups claim is not in the ID token (many providers put scope claims only there).
   * openid-client checks the userinfo answer is about the same subject.
   */
  private async withUserInfo(configuration: client.Configuration, idClaims: client.IDToken, accessToken: string): Promise<Record<string, unknown>> {
    const topClaim = this.config.groupsClaim.split('.')[0]!;
    const complete = typeof idClaims.email === 'string' && (this.config.groupsClaim in idClaims || topClaim in idClaims);
    if (complete || !configuration.serverMetadata().userinfo_endpoint) return { ...idClaims };
    try {
      const info = await client.fetchUserInfo(configuration, accessToken, idClaims.sub);
      return { ...info, ...idClaims };
    } catch (error) {
      this.log.warn({ err: describe(error) }, 'OIDC userinfo request failed: going on with the ID token\'s claims');
      return { ...idClaims };
    }
  }

  private refuseIdentity(issuer: string, claims: Record<string, unknown>): { email: string; name: string; role: Role | null; groups: string[] } {
    const email = typeof claims.email === 'string' && claims.email.includes('@') ? normalizeEmail(claims.email) : null;
    if (!email) throw new OidcRefusal('email_missing', 'the identity provider sent no e-mail address (is the "email" scope granted?)');
    if (claims.email_verified === false || claims.email_verified === 'false') throw new OidcRefusal('email_unverified', 'the identity provider says this e-mail address is not verified', email);
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (this.config.allowedDomains.length > 0 && !this.config.allowedDomains.includes(domain)) {
      throw new OidcRefusal('domain_not_allowed', `e-mail addresses of ${domain} may not sign in here`, email);
    }
    // Anyone can make a Google account with an address of your domain; only a Workspace account
    // of the domain carries it in `hd`. A provider that sends `hd` is held to it as well.
    const hostedDomain = typeof claims.hd === 'string' ? claims.hd.toLowerCase() : null;
    if (this.config.allowedDomains.length > 0 && (hostedDomain !== null || issuer === GOOGLE_ISSUER) && !(hostedDomain && this.config.allowedDomains.includes(hostedDomain))) {
      throw new OidcRefusal('domain_not_allowed', `the account is not one of ${this.config.allowedDomains.join(', ')}'s (hosted domain: ${hostedDomain ?? 'none'})`, email);
    }
    const groups = groupsFromClaims(claims, this.config.groupsClaim);
    return { email, name: nameFrom(claims, email), role: roleForGroups(groups, this.config.roles, this.config.defaultRole), groups };
  }

  /** Finds or creates the user of these claims and brings e-mail, name and role up to date. */
  private async upsertUser(issuer: string, claims: Record<string, unknown>, retried = false): Promise<SignedInUser> {
    const { email, name, role, groups } = this.refuseIdentity(issuer, claims);
    const externalId = `${issuer}|${String(claims.sub)}`;
    const existing = await this.prisma.user.findUnique({ where: { authSource_externalId: { authSource: 'OIDC', externalId } } });
    const via = { via: 'oidc', issuer };
    if (existing?.disabledAt) throw new OidcRefusal('account_disabled', 'this account is disabled in Meshplane', email);
    if (role === null) {
      // Out of every mapped group now: whatever sessions they still have end as well.
      if (existing) await this.accounts.endSessionsForProvider(existing.id, { ...via, reason: 'no mapped group' });
      this.log.info({ groups: groups.length }, 'OIDC sign-in refused: the user is in no group mapped to a role');
      throw new OidcRefusal('no_role', 'the user is in no group that grants a Meshplane role', email);
    }
    const holder = await this.prisma.user.findUnique({ where: { email }, select: { id: true, authSource: true } });
    if (holder && holder.id !== existing?.id) {
      const how = holder.authSource === 'LOCAL' ? 'a Meshplane password' : holder.authSource === 'LDAP' ? 'the directory (LDAP)' : 'another identity provider';
      throw new OidcRefusal('account_conflict', `an account with the e-mail address ${email} already exists and signs in with ${how}; an admin must delete it (or change its address) before it can sign in with SSO`, email);
    }
    try {
      if (existing) return await this.update(existing, { email, name, role }, via);
      return await this.prisma.$transaction(async (tx) => {
        const user = await tx.user.create({ data: { email, name, role, authSource: 'OIDC', externalId, passwordHash: null, syncedAt: new Date() } });
        await recordAudit(tx, { user, via: 'session' }, { action: 'user.register', targetType: 'User', targetId: user.id, targetName: user.email, details: { email, role, ...via } });
        return user;
      });
    } catch (error) {
      // Two first sign-ins of the same person at once, or an address taken in between: look again once.
      if (isUniqueViolation(error) && !retried) return this.upsertUser(issuer, claims, true);
      throw error;
    }
  }

  private async update(existing: SignedInUser, wanted: { email: string; name: string; role: Role }, via: Record<string, string>): Promise<SignedInUser> {
    const { user, roleChanged } = await this.prisma.$transaction(async (tx) => {
      const user = await tx.user.update({ where: { id: existing.id }, data: { ...wanted, syncedAt: new Date() } });
      const changes = fieldChanges(existing, user, ['email', 'name', 'role']);
      const roleChanged = existing.role !== user.role;
      // A new role ends the sessions opened under the old one, as an admin's role change does.
      const revoked = roleChanged ? (await tx.session.updateMany({ where: { userId: user.id, revokedAt: null }, data: { revokedAt: new Date() } })).count : 0;
      if (changes.length > 0) {
        await recordAudit(tx, null, { action: roleChanged ? 'user.changeRole' : 'user.update', targetType: 'User', targetId: user.id, targetName: user.email, changes, details: { ...via, sessionsRevoked: revoked } }, 'identity provider');
      }
      return { user, roleChanged };
    });
    if (roleChanged) this.revoked({ scope: 'user', userId: user.id, reason: 'role changed' });
    return user;
  }

  private revoked(event: AccessRevoked): void {
    this.pubsub.publish('auth:revoked', event);
  }

  /**
   * Where to send the browser to sign out at the provider too (its end_session_endpoint, with
   * the session's ID token as id_token_hint, and back to <public URL>/login), or null: the
   * session did not come from OIDC, or the provider has no such endpoint (Google).
   */
  async signOutUrl(sessionId: string | undefined): Promise<string | null> {
    if (!sessionId) return null;
    const session = await this.prisma.session.findUnique({ where: { id: sessionId }, select: { oidcIdTokenEnc: true } });
    if (!session?.oidcIdTokenEnc) return null;
    let configuration: client.Configuration;
    try {
      configuration = await this.configuration();
    } catch (error) {
      this.log.warn({ err: describe(error) }, 'OIDC discovery failed: signing out of Meshplane only');
      return null;
    }
    if (!configuration.serverMetadata().end_session_endpoint) return null;
    const parameters: Record<string, string> = { client_id: this.config.clientId, post_logout_redirect_uri: `${this.config.publicUrl}/login` };
    try {
      parameters.id_token_hint = this.secrets.open(session.oidcIdTokenEnc);
    } catch {
      // Sealed under an earlier master key: client_id identifies us well enough (OIDC RP-Initiated Logout 1.0).
    }
    return client.buildEndSessionUrl(configuration, parameters).href;
  }
}
