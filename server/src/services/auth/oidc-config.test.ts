import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../devices/config-file.js';
import { resolveOidcConfig } from './oidc-config.js';

const base = { MESHPLANE_OIDC_ISSUER: 'https://idp.example.com/realms/acme', MESHPLANE_OIDC_CLIENT_ID: 'meshplane', MESHPLANE_PUBLIC_URL: 'https://meshplane.example.com', MESHPLANE_OIDC_ROLES: 'ADMIN=admins' };

describe('resolveOidcConfig', () => {
  it('is off without an issuer, with the documented defaults otherwise', () => {
    expect(resolveOidcConfig(undefined, {})).toBeNull();
    expect(resolveOidcConfig(undefined, base)).toEqual({
      issuer: 'https://idp.example.com/realms/acme',
      clientId: 'meshplane',
      clientSecret: null,
      redirectUri: 'https://meshplane.example.com/auth/oidc/callback',
      publicUrl: 'https://meshplane.example.com',
      scopes: ['openid', 'email', 'profile'],
      label: 'SSO',
      groupsClaim: 'groups',
      roles: { ADMIN: ['admins'] },
      defaultRole: null,
      allowedDomains: [],
      ssoOnly: false,
    });
  });

  it('reads the file section, and the environment wins key by key', () => {
    const file = {
      issuer: 'https://file.example.com',
      clientId: 'from-file',
      clientSecret: 's3cret',
      redirectUri: 'https://vpn.example.com/auth/oidc/callback',
      scopes: ['openid', 'email', 'groups'],
      label: 'Keycloak',
      groupsClaim: 'realm_access.roles',
      roles: { OPERATOR: ['netops'] },
      defaultRole: 'SELF_SERVICE' as const,
      allowedDomains: ['@Example.com'],
      ssoOnly: true,
    };
    const config = resolveOidcConfig(file, { MESHPLANE_OIDC_CLIENT_ID: 'from-env', MESHPLANE_OIDC_SCOPES: 'openid  email', MESHPLANE_SSO_ONLY: 'false' })!;
    expect(config).toMatchObject({
      issuer: 'https://file.example.com', clientId: 'from-env', clientSecret: 's3cret', publicUrl: 'https://vpn.example.com', scopes: ['openid', 'email'],
      label: 'Keycloak', groupsClaim: 'realm_access.roles', roles: { OPERATOR: ['netops'] }, defaultRole: 'SELF_SERVICE', allowedDomains: ['example.com'], ssoOnly: false,
    });
  });

  it('refuses what would fail every sign-in later, naming the key', () => {
    expect(() => resolveOidcConfig(undefined, { MESHPLANE_SSO_ONLY: 'true' })).toThrow(/needs an identity provider/);
    expect(() => resolveOidcConfig({ clientId: 'x' }, {})).toThrow(/issuer .* is missing/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_ISSUER: 'http://idp.example.com' })).toThrow(/must use https/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_CLIENT_ID: '' })).toThrow(/clientId/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_PUBLIC_URL: '' })).toThrow(/MESHPLANE_PUBLIC_URL is needed/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_PUBLIC_URL: 'https://example.com/meshplane' })).toThrow(/without a path/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_REDIRECT_URI: 'https://meshplane.example.com/callback' })).toThrow(/must end in \/auth\/oidc\/callback/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_SCOPES: 'email profile' })).toThrow(/must include openid/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_ROLES: 'ROOT=admins' })).toThrow(/"ROOT" is not a role/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_ROLES: '' })).toThrow(/nobody could sign in/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_DEFAULT_ROLE: 'boss' })).toThrow(/MESHPLANE_OIDC_DEFAULT_ROLE/);
    expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_SSO_ONLY: 'maybe' })).toThrow(/MESHPLANE_SSO_ONLY must be true or false/);
    for (const tenant of ['common', 'organizations', 'consumers', 'Common']) {
      expect(() => resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_ISSUER: `https://login.microsoftonline.com/${tenant}/v2.0` }), tenant).toThrow(/must name your Entra ID tenant.*admits accounts of any tenant/);
    }
    expect(resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_ISSUER: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0' })!.issuer).toContain('72f988bf');
  });

  it('allows plain http only for a loopback provider, and a default role instead of a mapping', () => {
    expect(resolveOidcConfig(undefined, { ...base, MESHPLANE_OIDC_ISSUER: 'http://127.0.0.1:8080', MESHPLANE_OIDC_ROLES: '', MESHPLANE_OIDC_DEFAULT_ROLE: 'viewer' })).toMatchObject({ issuer: 'http://127.0.0.1:8080', defaultRole: 'VIEWER', roles: {} });
  });
});

describe('the oidc: section of MESHPLANE_CONFIG', () => {
  it('expands ${VAR} in clientSecret only and refuses unknown keys', () => {
    const yaml = `oidc:\n  issuer: https://idp.example.com\n  clientId: meshplane\n  clientSecret: \${OIDC_SECRET}\n  label: \${NOT_EXPANDED}\n  roles:\n    ADMIN: [admins]\n`;
    const parsed = parseConfig(yaml, '/', { OIDC_SECRET: 'from-the-environment' });
    expect(parsed.oidc).toMatchObject({ clientSecret: 'from-the-environment', label: '${NOT_EXPANDED}', roles: { ADMIN: ['admins'] } });
    expect(() => parseConfig(yaml, '/', {})).toThrow(/oidc.clientSecret refers to \$\{OIDC_SECRET\}/);
    expect(() => parseConfig(`oidc:\n  issuer: https://idp.example.com\n  clientSecert: x\n`, '/', {})).toThrow(/oidc/);
    expect(() => parseConfig(`oidc:\n  roles:\n    OWNER: [x]\n`, '/', {})).toThrow(/oidc\.roles/);
  });
});
