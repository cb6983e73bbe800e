// LDAP / Active Directory settings: the `ldap:` section of MESHPLANE_CONFIG and the
// MESHPLANE_LDAP_* variables (the environment wins, key by key). The file's schema lives here;
// config-file.ts only names it. Validated at startup, so a typo in a filter or a role stops
// the server with a readable message instead of refusing every sign-in later.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FilterParser } from 'ldapts';
import { parseRoleMapping, ROLES_LOW_TO_HIGH, type MappedRole, type RoleGroups } from '../../domain/identity-mapping.js';

/** A week: a timer of more than 2^31 ms (24.8 days) fires at once and then every millisecond. */
const MAX_SYNC_MINUTES = 7 * 24 * 60;

const role = z.enum(ROLES_LOW_TO_HIGH as unknown as [MappedRole, ...MappedRole[]]);

/** The `ldap:` section as written in the file (secrets may be `${VAR}`; expanded by config-file.ts). */
export const ldapFileSchema = z
  .object({
    url: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    startTls: z.boolean().optional(),
    caFile: z.string().min(1).optional(),
    tlsVerify: z.boolean().optional(),
    bindDn: z.string().max(1024).optional(),
    bindPassword: z.string().max(1024).optional(),
    userBase: z.string().min(1).max(1024).optional(),
    userFilter: z.string().min(1).max(2048).optional(),
    attributes: z.object({ id: z.string().min(1).optional(), email: z.string().min(1).optional(), name: z.string().min(1).optional() }).strict().optional(),
    groups: z.object({ memberAttribute: z.string().min(1).optional(), base: z.string().min(1).optional(), filter: z.string().min(1).optional() }).strict().optional(),
    roles: z.partialRecord(role, z.array(z.string().min(1))).optional(),
    defaultRole: role.nullable().optional(),
    syncIntervalMinutes: z.number().int().min(0).max(MAX_SYNC_MINUTES).optional(),
    timeoutMs: z.number().int().min(500).max(120_000).optional(),
  })
  .strict();

export type LdapFileSection = z.infer<typeof ldapFileSchema>;

export interface LdapConfig {
  /** Tried in order until one answers. */
  urls: string[];
  startTls: boolean;
  caPem: string | null;
  tlsVerify: boolean;
  /** The service account; null = anonymous search. */
  bindDn: string | null;
  bindPassword: string | null;
  userBase: string;
  /** Contains {login}, replaced by the filter-escaped sign-in name. */
  userFilter: string;
  attributes: { id: string; email: string; name: string };
  groups: { memberAttribute: string | null; base: string | null; filter: string };
  roles: RoleGroups;
  defaultRole: MappedRole | null;
  /** 0 = no periodic sync. */
  syncIntervalMinutes: number;
  timeoutMs: number;
  /** What was repaired while reading the settings (logged at startup). */
  warnings: string[];
}

export class LdapConfigError extends Error {
  override readonly name = 'LdapConfigError';
}

const DEFAULT_USER_FILTER = '(&(objectClass=inetOrgPerson)(|(uid={login})(mail={login})))';
const DEFAULT_GROUP_FILTER = '(&(objectClass=groupOfNames)(member={dn}))';

function boolFrom(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  throw new LdapConfigError(`${name} must be true or false, not ${JSON.stringify(env[name])}`);
}

function textFrom(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function assertFilter(filter: string, placeholder: string, where: string): void {
  if (!filter.includes(placeholder)) throw new LdapConfigError(`${where} must contain ${placeholder} (where the ${placeholder === '{login}' ? 'sign-in name' : "user's DN"} goes)`);
  // ldapts completes a missing ')' by itself; a filter in the settings must be whole as written.
  let depth = 0;
  for (const char of filter) {
    depth += char === '(' ? 1 : char === ')' ? -1 : 0;
    if (depth < 0) break;
  }
  if (depth !== 0 || !filter.trim().startsWith('(')) throw new LdapConfigError(`${where} is not a valid LDAP filter: its parentheses do not balance`);
  try {
    FilterParser.parseString(filter.split(placeholder).join('x'));
  } catch (error) {
    throw new LdapConfigError(`${where} is not a valid LDAP filter: ${(error as Error).message}`);
  }
}

/**
 * A YAML flow list splits an unquoted DN at its commas: `ADMIN: [CN=Admins,OU=Groups,DC=example,DC=com]`
 * arrives as four "groups". When no item of a role has a comma but each is `type=value`, they are
 * such pieces: joined again, a new DN starting where a non-DC piece follows a DC one.
 */
export function rejoinSplitDns(groups: readonly string[]): string[] | null {
  if (groups.length < 2 || !groups.every((group) => !group.includes(',') && /^[A-Za-z][\w-]*=/.test(group.trim()))) return null;
  const dns: string[][] = [];
  let previousWasDc = false;
  for (const piece of groups.map((group) => group.trim())) {
    const isDc = /^dc=/i.test(piece);
    if (dns.length === 0 || (previousWasDc && !isDc)) dns.push([]);
    dns[dns.length - 1]!.push(piece);
    previousWasDc = isDc;
  }
  return dns.map((parts) => parts.join(','));
}

function roleFrom(value: string | null | undefined, where: string): MappedRole | null {
  if (value === undefined || value === null) return null;
  const upper = value.trim().toUpperCase();
  if (upper === '' || upper === 'NULL' || upper === 'NONE') return null;
  if (!(ROLES_LOW_TO_HIGH as readonly string[]).includes(upper)) throw new LdapConfigError(`${where}: "${value}" is not a role (use ${ROLES_LOW_TO_HIGH.join(', ')} or leave it empty)`);
  return upper as MappedRole;
}

/**
 * The effective LDAP settings, or null when no URL is configured (LDAP off). `file` is the
 * parsed `ldap:` section with its secrets already expanded; `baseDir` resolves caFile.
 */
export function resolveLdapConfig(file: LdapFileSection | undefined, env: NodeJS.ProcessEnv, baseDir = process.cwd()): LdapConfig | null {
  const f = file ?? {};
  const urlText = textFrom(env, 'MESHPLANE_LDAP_URL');
  const urls = urlText ? urlText.split(/[\s,]+/).filter(Boolean) : f.url === undefined ? [] : Array.isArray(f.url) ? f.url : [f.url];
  if (urls.length === 0) {
    if (file && Object.keys(file).length > 0) throw new LdapConfigError('ldap.url is missing (set it, or MESHPLANE_LDAP_URL, or remove the ldap section)');
    return null;
  }
  for (const url of urls) {
    if (!/^ldaps?:\/\/[^/\s@]+\/?$/i.test(url)) throw new LdapConfigError(`ldap.url "${url}" must be ldap://host[:port] or ldaps://host[:port] (credentials go in bindDn and bindPassword)`);
  }
  const startTls = boolFrom(env, 'MESHPLANE_LDAP_START_TLS') ?? f.startTls ?? false;
  if (startTls && urls.some((url) => url.toLowerCase().startsWith('ldaps:'))) throw new LdapConfigError('ldap.startTls upgrades ldap:// connections; ldaps:// URLs are TLS already (use one or the other)');
  const caFile = textFrom(env, 'MESHPLANE_LDAP_CA_FILE') ?? f.caFile;
  let caPem: string | null = null;
  if (caFile) {
    try {
      caPem = fs.readFileSync(path.resolve(baseDir, caFile), 'utf8');
    } catch (error) {
      throw new LdapConfigError(`cannot read ldap.caFile ${caFile}: ${(error as Error).message}`);
    }
  }
  const userBase = textFrom(env, 'MESHPLANE_LDAP_USER_BASE') ?? f.userBase;
  if (!userBase) throw new LdapConfigError('ldap.userBase is missing (the DN under which users are searched, e.g. ou=people,dc=example,dc=com)');
  const userFilter = textFrom(env, 'MESHPLANE_LDAP_USER_FILTER') ?? f.userFilter ?? DEFAULT_USER_FILTER;
  assertFilter(userFilter, '{login}', 'ldap.userFilter');
  const memberAttribute = textFrom(env, 'MESHPLANE_LDAP_GROUP_MEMBER_ATTRIBUTE') ?? f.groups?.memberAttribute ?? null;
  const groupBase = textFrom(env, 'MESHPLANE_LDAP_GROUP_BASE') ?? f.groups?.base ?? null;
  const groupFilter = textFrom(env, 'MESHPLANE_LDAP_GROUP_FILTER') ?? f.groups?.filter ?? DEFAULT_GROUP_FILTER;
  assertFilter(groupFilter, '{dn}', 'ldap.groups.filter');
  const rolesText = env.MESHPLANE_LDAP_ROLES?.trim();
  let roles: RoleGroups;
  try {
    roles = rolesText ? parseRoleMapping(rolesText, 'MESHPLANE_LDAP_ROLES', '|') : { ...(f.roles ?? {}) };
  } catch (error) {
    throw new LdapConfigError((error as Error).message);
  }
  const warnings: string[] = [];
  for (const [name, groups] of Object.entries(roles) as Array<[MappedRole, string[]]>) {
    const rejoined = groups ? rejoinSplitDns(groups) : null;
    if (!rejoined) continue;
    roles[name] = rejoined;
    warnings.push(`ldap.roles.${name}: the YAML list split ${rejoined.map((dn) => `"${dn}"`).join(' and ')} at the commas; read as ${rejoined.length === 1 ? 'one DN' : `${rejoined.length} DNs`} (quote each DN to say so)`);
  }
  const defaultRole = env.MESHPLANE_LDAP_DEFAULT_ROLE !== undefined ? roleFrom(env.MESHPLANE_LDAP_DEFAULT_ROLE, 'MESHPLANE_LDAP_DEFAULT_ROLE') : (f.defaultRole ?? null);
  if (Object.values(roles).every((groups) => !groups || groups.length === 0) && !defaultRole) {
    throw new LdapConfigError('ldap.roles maps no group to a role and there is no ldap.defaultRole: nobody could sign in');
  }
  const syncText = textFrom(env, 'MESHPLANE_LDAP_SYNC_MINUTES');
  const syncIntervalMinutes = syncText === undefined ? (f.syncIntervalMinutes ?? 15) : Number(syncText);
  if (!Number.isInteger(syncIntervalMinutes) || syncIntervalMinutes < 0 || syncIntervalMinutes > MAX_SYNC_MINUTES) {
    throw new LdapConfigError(`MESHPLANE_LDAP_SYNC_MINUTES must be a whole number of minutes from 0 (off) to ${MAX_SYNC_MINUTES} (a week), not ${JSON.stringify(syncText)}`);
  }
  const bindDn = textFrom(env, 'MESHPLANE_LDAP_BIND_DN') ?? f.bindDn ?? null;
  const bindPassword = env.MESHPLANE_LDAP_BIND_PASSWORD || f.bindPassword || null;
  if (bindDn && !bindPassword) throw new LdapConfigError('ldap.bindDn is set without ldap.bindPassword (or MESHPLANE_LDAP_BIND_PASSWORD)');
  return {
    urls,
    startTls,
    caPem,
    tlsVerify: boolFrom(env, 'MESHPLANE_LDAP_TLS_VERIFY') ?? f.tlsVerify ?? true,
    bindDn,
    bindPassword: bindDn ? bindPassword : null,
    userBase,
    userFilter,
    attributes: {
      id: textFrom(env, 'MESHPLANE_LDAP_ID_ATTRIBUTE') ?? f.attributes?.id ?? 'entryUUID',
      email: textFrom(env, 'MESHPLANE_LDAP_EMAIL_ATTRIBUTE') ?? f.attributes?.email ?? 'mail',
      name: textFrom(env, 'MESHPLANE_LDAP_NAME_ATTRIBUTE') ?? f.attributes?.name ?? 'cn',
    },
    // Without a group search base, group DNs come from the entry (memberOf by default).
    groups: { memberAttribute: memberAttribute ?? (groupBase ? null : 'memberOf'), base: groupBase, filter: groupFilter },
    roles,
    defaultRole,
    syncIntervalMinutes,
    timeoutMs: f.timeoutMs ?? 10_000,
    warnings,
  };
}
