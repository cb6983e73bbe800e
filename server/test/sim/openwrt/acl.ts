// rpcd's access control (ref §3.2): the ACL files under /usr/share/rpcd/acl.d/ turned into
// (scope, object, function) grants for one login at login time, and the fnmatch() lookups
// uhttpd (ubus calls) and rpcd (uci configs, file paths) make against them.

export const ACL_DIR = '/usr/share/rpcd/acl.d/';

export interface Grant {
  scope: string;
  object: string;
  function: string;
}

/** The permission lists of a `config login` section (globs over access-group names). */
export interface LoginPermissions {
  read: string[];
  write: string[];
}

/** fnmatch(3) without FNM_PATHNAME (rpcd's flags): `*` and `?` also match "/" and spaces; `[...]`, `[!...]`. */
export function fnmatch(pattern: string, text: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '*') source += '[\\s\\S]*';
    else if (char === '?') source += '[\\s\\S]';
    else if (char === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`).test(text);
}

/**
 * rpc_login_test_permission: a login's `read` or `write` list names the group (any glob
 * matches); write implies read. The null session (no login) has only "unauthenticated".
 */
export function hasPermission(login: LoginPermissions | null, permission: 'read' | 'write', group: string): boolean {
  if (login === null) return group === 'unauthenticated';
  if (login[permission].some((glob) => fnmatch(glob, group))) return true;
  return permission === 'read' && hasPermission(login, 'write', group);
}

/** The grants one ACL file gives a login; an unparsable file gives none (rpcd skips it). */
export function grantsFromFile(text: string, login: LoginPermissions | null): Grant[] {
  let groups: unknown;
  try {
    groups = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof groups !== 'object' || groups === null) return [];
  const grants: Grant[] = [];
  for (const [group, body] of Object.entries(groups as Record<string, unknown>)) {
    if (typeof body !== 'object' || body === null) continue;
    for (const [permission, scopes] of Object.entries(body as Record<string, unknown>)) {
      if ((permission !== 'read' && permission !== 'write') || typeof scopes !== 'object' || scopes === null || Array.isArray(scopes)) continue;
      if (!hasPermission(login, permission, group)) continue;
      for (const [scope, entries] of Object.entries(scopes as Record<string, unknown>)) {
        if (Array.isArray(entries)) {
          // Array notation: each object with the permission name as its function ("uci": ["network"] → uci/network/read).
          for (const object of entries) if (typeof object === 'string') grants.push({ scope, object, function: permission });
        } else if (typeof entries === 'object' && entries !== null) {
          for (const [object, functions] of Object.entries(entries as Record<string, unknown>)) {
            if (!Array.isArray(functions)) continue;
            for (const fn of functions) if (typeof fn === 'string') grants.push({ scope, object, function: fn });
          }
        }
        grants.push({ scope: 'access-group', object: group, function: permission });
      }
    }
  }
  return grants;
}

/** Every ACL file (sorted by path, as glob() returns them) applied to a login, duplicates dropped. */
export function grantsFor(files: ReadonlyArray<{ path: string; data: string }>, login: LoginPermissions | null): Grant[] {
  const seen = new Set<string>();
  const grants: Grant[] = [];
  for (const file of [...files].filter((entry) => entry.path.startsWith(ACL_DIR) && entry.path.endsWith('.json')).sort((a, b) => (a.path < b.path ? -1 : 1))) {
    for (const grant of grantsFromFile(file.data, login)) {
      const key = `${grant.scope}\0${grant.object}\0${grant.function}`;
      if (seen.has(key)) continue;
      seen.add(key);
      grants.push(grant);
    }
  }
  return grants;
}

export function allowed(grants: readonly Grant[], scope: string, object: string, fn: string): boolean {
  return grants.some((grant) => grant.scope === scope && fnmatch(grant.object, object) && fnmatch(grant.function, fn));
}

/** The `acls` table of a session dump: scope → object → functions, scopes and objects sorted as rpcd's AVL trees. */
export function aclDump(grants: readonly Grant[]): Record<string, Record<string, string[]>> {
  const dump: Record<string, Record<string, string[]>> = {};
  const sorted = [...grants].sort((a, b) => (a.scope === b.scope ? (a.object < b.object ? -1 : a.object > b.object ? 1 : 0) : a.scope < b.scope ? -1 : 1));
  for (const grant of sorted) ((dump[grant.scope] ??= {})[grant.object] ??= []).push(grant.function);
  return dump;
}

/**
 * rpcd's file.exec check (ref §5.2): the resolved executable first, and only when that is
 * denied the whole command line "exe arg1 arg2…", so a grant on the executable allows any
 * arguments while a command-line grant allows exactly that line.
 */
export function execAllowed(access: (scope: string, object: string, fn: string) => boolean, command: string, params: readonly string[]): boolean {
  if (access('file', command, 'exec')) return true;
  return access('file', [command, ...params].join(' '), 'exec');
}
