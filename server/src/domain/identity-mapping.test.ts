import { describe, expect, it } from 'vitest';
import { groupsFromClaims, parseRoleMapping, roleForGroups } from './identity-mapping.js';

const roles = { ADMIN: ['meshplane-admins'], OPERATOR: ['netops'], VIEWER: ['staff'], SELF_SERVICE: ['vpn-users'] };

describe('roleForGroups', () => {
  it('grants the role a single group maps to', () => {
    expect(roleForGroups(['netops'], roles, null)).toBe('OPERATOR');
    expect(roleForGroups(['vpn-users'], roles, null)).toBe('SELF_SERVICE');
  });

  it('the highest matching role wins, whatever order the groups come in', () => {
    expect(roleForGroups(['vpn-users', 'meshplane-admins', 'staff'], roles, null)).toBe('ADMIN');
    expect(roleForGroups(['staff', 'netops'], roles, null)).toBe('OPERATOR');
    expect(roleForGroups(['netops', 'staff'], roles, null)).toBe('OPERATOR');
  });

  it('a user in no mapped group gets the default role, or null (refused)', () => {
    expect(roleForGroups(['marketing'], roles, null)).toBeNull();
    expect(roleForGroups([], roles, null)).toBeNull();
    expect(roleForGroups(['marketing'], roles, 'VIEWER')).toBe('VIEWER');
  });

  it('a mapped group beats the default role, even a higher default', () => {
    expect(roleForGroups(['vpn-users'], roles, 'VIEWER')).toBe('SELF_SERVICE');
  });

  it('compares exactly by default (case matters for OIDC group names), or with the given comparison', () => {
    expect(roleForGroups(['NetOps'], roles, null)).toBeNull();
    const dns = { ADMIN: ['CN=Meshplane Admins,OU=Groups,DC=example,DC=com'] };
    const ci = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    expect(roleForGroups(['cn=meshplane admins,ou=groups,dc=example,dc=com'], dns, null, ci)).toBe('ADMIN');
    expect(roleForGroups(['cn=meshplane admins,ou=groups,dc=example,dc=com'], dns, null)).toBeNull();
  });

  it('roles without groups, or missing from the mapping, match nothing', () => {
    expect(roleForGroups(['netops'], { ADMIN: [], OPERATOR: ['netops'] }, null)).toBe('OPERATOR');
    expect(roleForGroups(['x'], {}, null)).toBeNull();
  });
});

describe('groupsFromClaims', () => {
  it('reads a list claim, keeping its strings only', () => {
    expect(groupsFromClaims({ groups: ['a', 'b', 3, null] }, 'groups')).toEqual(['a', 'b']);
  });

  it('reads a dotted path into nested claims (Keycloak realm_access.roles)', () => {
    expect(groupsFromClaims({ realm_access: { roles: ['netops'] } }, 'realm_access.roles')).toEqual(['netops']);
    expect(groupsFromClaims({ realm_access: {} }, 'realm_access.roles')).toEqual([]);
    expect(groupsFromClaims({ realm_access: ['roles'] }, 'realm_access.roles')).toEqual([]);
  });

  it('a claim whose name itself contains dots is read as one name', () => {
    expect(groupsFromClaims({ 'https://example.com/groups.v1': ['x'] }, 'https://example.com/groups.v1')).toEqual(['x']);
  });

  it('a single string is one group; absent, empty or other types are none', () => {
    expect(groupsFromClaims({ groups: 'netops' }, 'groups')).toEqual(['netops']);
    expect(groupsFromClaims({ groups: '' }, 'groups')).toEqual([]);
    expect(groupsFromClaims({}, 'groups')).toEqual([]);
    expect(groupsFromClaims({ groups: { admin: true } }, 'groups')).toEqual([]);
    expect(groupsFromClaims({ groups: 1 }, 'groups')).toEqual([]);
  });

  it('does not walk into inherited properties', () => {
    expect(groupsFromClaims({}, 'constructor.name')).toEqual([]);
    expect(groupsFromClaims({}, '__proto__')).toEqual([]);
  });
});

describe('parseRoleMapping', () => {
  it('reads roles separated by ";" and groups by ","', () => {
    expect(parseRoleMapping('ADMIN=meshplane-admins,ops-leads;OPERATOR=netops;SELF_SERVICE=vpn-users', 'X')).toEqual({
      ADMIN: ['meshplane-admins', 'ops-leads'],
      OPERATOR: ['netops'],
      SELF_SERVICE: ['vpn-users'],
    });
  });

  it('tolerates spaces, lower-case role names and empty parts', () => {
    expect(parseRoleMapping(' admin = a , b ;; viewer=c ;', 'X')).toEqual({ ADMIN: ['a', 'b'], VIEWER: ['c'] });
  });

  it('refuses an unknown role naming the variable', () => {
    expect(() => parseRoleMapping('SUPERUSER=x', 'MESHPLANE_OIDC_ROLES')).toThrow(/MESHPLANE_OIDC_ROLES: "SUPERUSER" is not a role/);
  });

  it('takes another group separator for values that contain commas (LDAP DNs)', () => {
    expect(parseRoleMapping('ADMIN=cn=a,dc=x|cn=b,dc=x', 'X', '|')).toEqual({ ADMIN: ['cn=a,dc=x', 'cn=b,dc=x'] });
  });
});
