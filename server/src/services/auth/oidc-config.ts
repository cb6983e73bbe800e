// OIDC settings: the `oidc:` section of MESHPLANE_CONFIG and the MESHPLANE_OIDC_* variables
// (the environment wins, key by key). The file's schema lives here; config-file.ts only names
// it. Checked at startup, so a wrong issuer URL or role name stops the server with a readable
// message instead of failing every sign-in later. Discovery itself happens at the first
// sign-in (oidc.ts): a provider that is down at startup does not keep Meshplane from starting.
import { z } from 'zod';
import { parseRoleMapping, ROLES_LOW_TO_HIGH, type MappedRole, type RoleGroups } from '../../domain/identity-mapping.js';

const role = z.enum(ROLES_LOW_TO_HIGH as unknown as [MappedRole, ...MappedRole[]]);

/** The `oidc:` section as written in the file (clientSecret may be `${VAR}`; expanded by config-file.ts). */
export const oidcFileSchema = z
  .object({
    issuer: z.string().min(1).max(2048).optional(),
    clientId: z.string().min(1).max(512).optional(),
    clientSecret: z.string().max(4096).optional(),
    redirectUri: z.string().min(1).max(2048).optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope name (no spaces or quotes)')).optional(),
    label: z.string().trim().min(1).max(60).optional(),
    groupsClaim: z.string().min(1).max(200).optional(),
    roles: z.partialRecord(role, z.array(z.string().min(1).max(1024))).optional(),
    defaultRole: role.nullable().optional(),
    allowedDomains: z.array(z.string().min(1).max(253)).optional(),
    ssoOnly: z.boolean().optional(),
  })
  .strict();

export type OidcFileSection = z.infer<typeof oidcFileSchema>;

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Null: a public client (PKCE only). Never logged, never returned by the API. */
  clientSecret: string | null;
  /** Where the provider sends the browser back: <public URL>/auth/oidc/callback. */
  redirectUri: string;
  /** Where users reach Meshplane (the provider's sign-out returns to <publicUrl>/login). */
  publicUrl: string;
  scopes: string[];
  /** The button reads "Sign in with <label>". */
  label: string;
  /** Dotted path of the claim listing the user's groups. */
  groupsClaim: string;
  roles: RoleGroups;
  defaultRole: MappedRole | null;
  /** Lower case, without '@'; empty: any domain. */
  allowedDomains: string[];
  /** Only SSO: no password sign-in, registration, invitations or password accounts. */
  ssoOnly: boolean;
}

export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
}

export const CALLBACK_PATH = '/auth/oidc/callback';
export const LOGIN_PATH = '/auth/oidc/login';

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  throw new OidcConfigError(`${name} must be true or false, not ${JSON.stringify(env[name])}`);
}

function list(value: string | undefined, separator: RegExp): string[] | undefined {
  return value === undefined ? undefined : value.split(separator).map((item) => item.trim()).filter(Boolean);
}

const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);

/** An absolute http(s) URL; plain http only on loopback (tests, a provider on this host): tokens cross it. */
function webUrl(value: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OidcConfigError(`${where} must be an absolute URL (https://…), not ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new OidcConfigError(`${where} must use https:// (plain http only for a loopback address), not ${JSON.stringify(value)}`);
  }
  if (url.username || url.password) throw new OidcConfigError(`${where} must not contain a user name or password`);
  return url;
}

function roleFrom(value: string | undefined, where: string): MappedRole | null | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (upper === 'NULL' || upper === 'NONE' || upper === '') return null;
  if (!ROLES_LOW_TO_HIGH.includes(upper as MappedRole)) throw new OidcConfigError(`${where} must be one of ${ROLES_LOW_TO_HIGH.join(', ')} or none, not ${JSON.stringify(value)}`);
  return upper as MappedRole;
}

/**
 * The effective OIDC settings, or null when OIDC is not configured (no issuer in the file or
 * the environment). Throws OidcConfigError naming the key when something is missing or wrong.
 */
export function resolveOidcConfig(file: OidcFileSection | undefined, env: NodeJS.ProcessEnv): OidcConfig | null {
  const f = file ?? {};
  const issuer = text(env, 'MESHPLANE_OIDC_ISSUER') ?? f.issuer;
  const ssoOnly = flag(env, 'MESHPLANE_SSO_ONLY') ?? f.ssoOnly ?? false;
  if (!issuer) {
    if (ssoOnly) throw new OidcConfigError('MESHPLANE_SSO_ONLY (oidc.ssoOnly) needs an identity provider: set oidc.issuer (MESHPLANE_OIDC_ISSUER), or nobody could sign in');
    if (file && Object.keys(file).length > 0) throw new OidcConfigError('oidc: issuer (MESHPLANE_OIDC_ISSUER) is missing');
    return null;
  }
  const issuerUrl = webUrl(issuer, 'oidc.issuer (MESHPLANE_OIDC_ISSUER)');
  if (issuerUrl.search || issuerUrl.hash) throw new OidcConfigError('oidc.issuer (MESHPLANE_OIDC_ISSUER) must not have a query or fragment');
  // Entra ID's multi-tenant endpoints admit the accounts of every tenant, and their discovery
  // documents name the issuer with a `{tenantid}` placeholder that no ID token carries.
  if (issuerUrl.hostname === 'login.microsoftonline.com' && /^\/(common|organizations|consumers)(\/|$)/i.test(issuerUrl.pathname)) {
    throw new OidcConfigError(`oidc.issuer (MESHPLANE_OIDC_ISSUER) must name your Entra ID tenant, https://login.microsoftonline.com/<Directory (tenant) ID>/v2.0, not ${JSON.stringify(issuer)}: that endpoint admits accounts of any tenant`);
  }
  const clientId = text(env, 'MESHPLANE_OIDC_CLIENT_ID') ?? f.clientId;
  if (!clientId) throw new OidcConfigError('oidc.clientId (MESHPLANE_OIDC_CLIENT_ID) is missing: the client id registered at the provider');
  const clientSecret = env.MESHPLANE_OIDC_CLIENT_SECRET || f.clientSecret || null;

  const publicUrlText = text(env, 'MESHPLANE_PUBLIC_URL');
  const publicUrl = publicUrlText ? webUrlOrigin(publicUrlText, 'MESHPLANE_PUBLIC_URL') : null;
  const redirectText = text(env, 'MESHPLANE_OIDC_REDIRECT_URI') ?? f.redirectUri ?? (publicUrl ? `${publicUrl}${CALLBACK_PATH}` : undefined);
  if (!redirectText) throw new OidcConfigError(`oidc.redirectUri (MESHPLANE_OIDC_REDIRECT_URI) or MESHPLANE_PUBLIC_URL is needed: the provider sends the browser back to <public URL>${CALLBACK_PATH}`);
  const redirect = webUrl(redirectText, 'oidc.redirectUri (MESHPLANE_OIDC_REDIRECT_URI)');
  if (redirect.pathname !== CALLBACK_PATH || redirect.search || redirect.hash) {
    throw new OidcConfigError(`oidc.redirectUri (MESHPLANE_OIDC_REDIRECT_URI) must end in ${CALLBACK_PATH} (where Meshplane answers), not ${JSON.stringify(redirectText)}`);
  }

  const scopes = list(text(env, 'MESHPLANE_OIDC_SCOPES'), /\s+/) ?? f.scopes ?? ['openid', 'email', 'profile'];
  if (!scopes.includes('openid')) throw new OidcConfigError('oidc.scopes (MESHPLANE_OIDC_SCOPES) must include openid');
  const rolesText = text(env, 'MESHPLANE_OIDC_ROLES');
  let roles: RoleGroups;
  try {
    roles = rolesText ? parseRoleMapping(rolesText, 'MESHPLANE_OIDC_ROLES') : ((f.roles ?? {}) as RoleGroups);
  } catch (error) {
    throw new OidcConfigError((error as Error).message);
  }
  const defaultRole = roleFrom(env.MESHPLANE_OIDC_DEFAULT_ROLE?.trim(), 'MESHPLANE_OIDC_DEFAULT_ROLE') ?? (f.defaultRole === undefined ? null : f.defaultRole);
  if (defaultRole === null && Object.values(roles).every((groups) => !groups?.length)) {
    throw new OidcConfigError('oidc.roles (MESHPLANE_OIDC_ROLES) maps no group to a role and there is no defaultRole: nobody could sign in with SSO');
  }
  const allowedDomains = (list(text(env, 'MESHPLANE_OIDC_ALLOWED_DOMAINS'), /,/) ?? f.allowedDomains ?? []).map((domain) => domain.replace(/^@/, '').toLowerCase());
  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri: redirect.href,
    publicUrl: publicUrl ?? redirect.origin,
    scopes,
    label: text(env, 'MESHPLANE_OIDC_LABEL') ?? f.label ?? 'SSO',
    groupsClaim: text(env, 'MESHPLANE_OIDC_GROUPS_CLAIM') ?? f.groupsClaim ?? 'groups',
    roles,
    defaultRole,
    allowedDomains,
    ssoOnly,
  };
}

/** MESHPLANE_PUBLIC_URL as an origin: Meshplane answers at the root of its host, not under a path. */
function webUrlOrigin(value: string, where: string): string {
  const url = webUrl(value, where);
  if (url.pathname !== '/' || url.search || url.hash) throw new OidcConfigError(`${where} must be the address Meshplane answers at, without a path (e.g. https://meshplane.example.com), not ${JSON.stringify(value)}`);
  return url.origin;
}
