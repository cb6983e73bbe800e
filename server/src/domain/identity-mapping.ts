// Which Meshplane role an identity provider's groups grant: OIDC (a groups claim) and LDAP
// (group DNs) share the rule, so both behave the same for the same configuration. The
// highest role any group maps to wins; a user in none of the mapped groups gets the
// configured default role, or null (the sign-in is refused).

/** The roles as the database knows them (generated Prisma enum), ordered low to high below. */
export type MappedRole = 'SELF_SERVICE' | 'VIEWER' | 'OPERATOR' | 'ADMIN';

export const ROLES_LOW_TO_HIGH: readonly MappedRole[] = ['SELF_SERVICE', 'VIEWER', 'OPERATOR', 'ADMIN'];

/** Group → role configuration: for each role, the group names (or DNs) that grant it. */
export type RoleGroups = Partial<Record<MappedRole, readonly string[]>>;

/** Whether a group the provider reported is the configured one (exact by default; LDAP compares DNs case-insensitively). */
export type GroupCompare = (reported: string, configured: string) => boolean;

export const exactGroup: GroupCompare = (reported, configured) => reported === configured;

export function roleForGroups<R extends MappedRole>(
  groups: readonly string[],
  roles: Partial<Record<R, readonly string[]>>,
  defaultRole: R | null,
  compare: GroupCompare = exactGroup,
): R | null {
  const byRole = roles as RoleGroups;
  for (const role of [...ROLES_LOW_TO_HIGH].reverse()) {
    const granting = byRole[role] ?? [];
    if (granting.some((configured) => groups.some((reported) => compare(reported, configured)))) return role as R;
  }
  return defaultRole;
}

/**
 * The groups claim read from a token's claims: `path` may be dotted for nested claims
 * (Keycloak's realm_access.roles). A string is one group; a list keeps its strings; anything
 * else (absent, a number, an object) is no group at all.
 */
export function groupsFromClaims(claims: Readonly<Record<string, unknown>>, path: string): string[] {
  let value: unknown = claims;
  // A claim whose own name contains dots (e.g. "https://example.com/groups") wins over the nested reading.
  if (Object.prototype.hasOwnProperty.call(claims, path)) value = claims[path];
  else {
    for (const part of path.split('.')) {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.prototype.hasOwnProperty.call(value, part)) return [];
      value = (value as Record<string, unknown>)[part];
    }
  }
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/**
 * Parses the environment's role mapping, `ADMIN=meshplane-admins,ops-leads;OPERATOR=netops`:
 * roles separated by ';', groups by ','. Throws with a readable message on an unknown role.
 * (LDAP DNs contain commas: their variable uses '|' between groups when `groupSeparator` says so.)
 */
export function parseRoleMapping(text: string, variable: string, groupSeparator = ','): RoleGroups {
  const mapping: Record<string, string[]> = {};
  for (const entry of text.split(';').map((part) => part.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const role = (eq < 0 ? entry : entry.slice(0, eq)).trim().toUpperCase();
    if (!ROLES_LOW_TO_HIGH.includes(role as MappedRole)) {
      throw new Error(`${variable}: "${role}" is not a role (use ${ROLES_LOW_TO_HIGH.join(', ')}, e.g. ADMIN=meshplane-admins;OPERATOR=netops)`);
    }
    const groups = eq < 0 ? [] : entry.slice(eq + 1).split(groupSeparator).map((group) => group.trim()).filter(Boolean);
    mapping[role] = [...(mapping[role] ?? []), ...groups];
  }
  return mapping as RoleGroups;
}
