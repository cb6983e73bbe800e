// LDAP settings and the directory client's pure helpers: the environment over the file, refusals
// at startup, unquoted DNs a YAML list split, filter escaping, objectGUID, DN comparison.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rejoinSplitDns, resolveLdapConfig, type LdapFileSection } from './ldap-config.js';
import { fillFilter, guidString, sameDn } from './ldap.js';

const base: LdapFileSection = { url: 'ldap://127.0.0.1:389', userBase: 'ou=people,dc=example,dc=com', roles: { VIEWER: ['cn=staff,ou=groups,dc=example,dc=com'] } };

describe('LDAP settings', () => {
  it('is off without a URL, and takes each key from the environment over the file', () => {
    expect(resolveLdapConfig(undefined, {})).toBeNull();
    const config = resolveLdapConfig({ ...base, bindDn: 'cn=file', bindPassword: 'file-pw', syncIntervalMinutes: 30 }, {
      MESHPLANE_LDAP_URL: 'ldap://a.example.com, ldap://b.example.com:3389',
      MESHPLANE_LDAP_BIND_DN: 'cn=env',
      MESHPLANE_LDAP_BIND_PASSWORD: 'env-pw',
      MESHPLANE_LDAP_ROLES: 'ADMIN=cn=admins,ou=g,dc=x|cn=root,ou=g,dc=x;SELF_SERVICE=cn=vpn,ou=g,dc=x',
      MESHPLANE_LDAP_DEFAULT_ROLE: 'viewer',
      MESHPLANE_LDAP_SYNC_MINUTES: '0',
      MESHPLANE_LDAP_ID_ATTRIBUTE: 'objectGUID',
    })!;
    expect(config).toMatchObject({
      urls: ['ldap://a.example.com', 'ldap://b.example.com:3389'], bindDn: 'cn=env', bindPassword: 'env-pw', defaultRole: 'VIEWER', syncIntervalMinutes: 0,
      roles: { ADMIN: ['cn=admins,ou=g,dc=x', 'cn=root,ou=g,dc=x'], SELF_SERVICE: ['cn=vpn,ou=g,dc=x'] },
      attributes: { id: 'objectGUID', email: 'mail', name: 'cn' },
      groups: { memberAttribute: 'memberOf', base: null },
    });
    expect(resolveLdapConfig({ ...base, groups: { base: 'ou=groups,dc=example,dc=com' } }, {})!.groups).toMatchObject({ memberAttribute: null, base: 'ou=groups,dc=example,dc=com' });
    expect(resolveLdapConfig(base, {})!.syncIntervalMinutes).toBe(15);
  });

  it('refuses settings that could never sign anyone in, with the reason', () => {
    const refused = (file: LdapFileSection, env: NodeJS.ProcessEnv = {}) => () => resolveLdapConfig(file, env);
    expect(refused({ ...base, url: undefined })).toThrow(/ldap.url is missing/);
    expect(refused({ ...base, url: 'http://dc1' })).toThrow(/ldap:\/\/host/);
    expect(refused({ ...base, userBase: undefined })).toThrow(/userBase is missing/);
    expect(refused({ ...base, userFilter: '(uid=alice)' })).toThrow(/must contain \{login\}/);
    expect(refused({ ...base, userFilter: '(&(uid={login})' })).toThrow(/not a valid LDAP filter/);
    expect(refused({ ...base, groups: { filter: '(member=x)' } })).toThrow(/must contain \{dn\}/);
    expect(refused({ ...base, roles: {} })).toThrow(/nobody could sign in/);
    expect(refused({ ...base, url: 'ldaps://dc1', startTls: true })).toThrow(/one or the other/);
    expect(refused({ ...base, bindDn: 'cn=svc' })).toThrow(/without ldap.bindPassword/);
    expect(refused(base, { MESHPLANE_LDAP_ROLES: 'BOSS=cn=x' })).toThrow(/"BOSS" is not a role/);
    expect(refused(base, { MESHPLANE_LDAP_START_TLS: 'maybe' })).toThrow(/true or false/);
    // Beyond 2^31 ms a Node timer fires every millisecond: the sync would hammer the directory.
    expect(refused(base, { MESHPLANE_LDAP_SYNC_MINUTES: '40000' })).toThrow(/from 0 \(off\) to 10080 \(a week\), not "40000"/);
    expect(refused(base, { MESHPLANE_LDAP_SYNC_MINUTES: '-5' })).toThrow(/from 0 \(off\) to 10080/);
    expect(resolveLdapConfig(base, { MESHPLANE_LDAP_SYNC_MINUTES: '10080' })!.syncIntervalMinutes).toBe(10080);
  });

  it('joins the pieces of DNs an unquoted YAML list split at the commas', () => {
    const { ldap } = parse('ldap:\n  roles:\n    ADMIN: [CN=Meshplane Admins,OU=Groups,DC=example,DC=com]\n    OPERATOR: [CN=Ops,CN=Users,DC=example,DC=com, CN=Noc,OU=G,DC=example,DC=com]\n    VIEWER: ["cn=staff,ou=g,dc=x"]\n') as { ldap: LdapFileSection };
    const config = resolveLdapConfig({ ...base, roles: ldap.roles! }, {})!;
    expect(config.roles).toEqual({
      ADMIN: ['CN=Meshplane Admins,OU=Groups,DC=example,DC=com'],
      OPERATOR: ['CN=Ops,CN=Users,DC=example,DC=com', 'CN=Noc,OU=G,DC=example,DC=com'],
      VIEWER: ['cn=staff,ou=g,dc=x'],
    });
    expect(config.warnings).toHaveLength(2);
    expect(rejoinSplitDns(['cn=a,dc=x', 'cn=b,dc=x'])).toBeNull();
    expect(rejoinSplitDns(['netops'])).toBeNull();
  });
});

describe('directory helpers', () => {
  it('escapes the typed name wherever the filter has the placeholder (RFC 4515)', () => {
    expect(fillFilter('(|(uid={login})(mail={login}))', '{login}', '*)(uid=*')).toBe('(|(uid=\\2a\\29\\28uid=\\2a)(mail=\\2a\\29\\28uid=\\2a))');
    expect(fillFilter('(member={dn})', '{dn}', 'CN=Smith\\, John,OU=Staff,DC=example,DC=com')).toBe('(member=CN=Smith\\5c, John,OU=Staff,DC=example,DC=com)');
    expect(fillFilter('(uid={login})', '{login}', 'a\u0000b')).toBe('(uid=a\\00b)');
  });

  it('prints objectGUID as Active Directory does (first three fields little-endian)', () => {
    const bytes = Buffer.from('d4c3b2a1f6e5a8b7090a0b0c0d0e0f10', 'hex');
    expect(guidString(bytes)).toBe('a1b2c3d4-e5f6-b7a8-090a-0b0c0d0e0f10');
  });

  it('compares DNs without case and without the spaces around separators', () => {
    expect(sameDn('cn=Meshplane-Admins,ou=groups,dc=example,dc=com', 'CN=meshplane-admins, OU=Groups, DC=example, DC=com')).toBe(true);
    expect(sameDn('cn=admins,ou=groups,dc=example,dc=com', 'cn=admins2,ou=groups,dc=example,dc=com')).toBe(false);
  });
});
