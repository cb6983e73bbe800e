// Where accounts come from (local, single sign-on, the LDAP directory) and the directory sync:
// the users page shows each account's source and last sync, and an admin may sync now.
import { builder } from '../builder.js';
import { AuthSource } from '../../generated/prisma/enums.js';
import { clientError } from '../errors.js';
import { LeaseBusyError } from '../../infra/locks.js';
import { DirectorySyncFailed, type DirectorySyncResult } from '../../services/auth/ldap-sync.js';

export const AuthSourceEnum = builder.enumType(AuthSource, {
  name: 'AuthSource',
  description: 'How an account signs in: LOCAL (a Meshplane password), OIDC (single sign-on), LDAP (the directory). For OIDC and LDAP the role comes from the provider\'s groups at every sign-in (and LDAP sync).',
});

builder.prismaObjectFields('User', (t) => ({
  authSource: t.expose('authSource', { type: AuthSourceEnum }),
  syncedAt: t.expose('syncedAt', { type: 'DateTime', nullable: true, description: 'When a sign-in or the directory sync last confirmed this OIDC/LDAP account and its role (null for local accounts).' }),
  disabledByDirectory: t.exposeBoolean('disabledBySync', { description: 'Disabled by the directory sync (entry gone or in no mapped group); enabled again by the sync when the directory lists it again.' }),
}));

const SyncResult = builder.objectRef<DirectorySyncResult>('DirectorySyncResult').implement({
  description: 'What one directory sync did.',
  fields: (t) => ({
    checked: t.exposeInt('checked', { description: 'Directory users compared with the directory.' }),
    disabled: t.exposeInt('disabled', { description: 'Users disabled: their entry is gone or in no mapped group.' }),
    enabled: t.exposeInt('enabled', { description: 'Users the sync had disabled and the directory lists again.' }),
    roleChanged: t.exposeInt('roleChanged', { description: 'Users whose role followed their directory groups (their sessions ended).' }),
    updated: t.exposeInt('updated', { description: 'Users whose name or e-mail address followed the directory.' }),
    listed: t.exposeInt('listed', { description: 'Entries the directory listed under the user base.' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime' }),
  }),
});

interface DirectoryStatusShape {
  urls: string[];
  userBase: string;
  syncIntervalMinutes: number;
  last: { at: Date; ok: boolean; result: DirectorySyncResult | null; error: string | null } | null;
}

const DirectoryStatus = builder.objectRef<DirectoryStatusShape>('DirectoryStatus').implement({
  description: 'The LDAP directory Meshplane signs users in with (never its bind password).',
  fields: (t) => ({
    urls: t.exposeStringList('urls'),
    userBase: t.exposeString('userBase'),
    syncIntervalMinutes: t.exposeInt('syncIntervalMinutes', { description: '0: the sync runs only when an admin asks (syncDirectory).' }),
    lastSyncAt: t.field({ type: 'DateTime', nullable: true, description: 'The last sync this server ran (each user also has syncedAt).', resolve: (status) => status.last?.at ?? null }),
    lastSyncOk: t.boolean({ nullable: true, resolve: (status) => status.last?.ok ?? null }),
    lastSyncError: t.string({ nullable: true, description: 'Why the last sync changed nothing (the directory could not be read).', resolve: (status) => status.last?.error ?? null }),
    lastSyncResult: t.field({ type: SyncResult, nullable: true, resolve: (status) => status.last?.result ?? null }),
  }),
});

builder.queryFields((t) => ({
  directory: t.field({
    type: DirectoryStatus,
    nullable: true,
    authScopes: { role: 'ADMIN' },
    description: 'The LDAP directory and its last sync; null when LDAP is not configured.',
    resolve: (_root, _args, ctx) => {
      const directory = ctx.services.directory;
      if (!directory) return null;
      const { urls, userBase, syncIntervalMinutes } = directory.accounts.config;
      return { urls, userBase, syncIntervalMinutes, last: directory.sync.last };
    },
  }),
}));

builder.mutationFields((t) => ({
  syncDirectory: t.field({
    type: SyncResult,
    authScopes: { role: 'ADMIN' },
    description: 'Compares every directory user with the LDAP directory now (audited). When the directory cannot be read, nothing changes and the error says why (SERVICE_UNAVAILABLE).',
    // Runs, failed or not, are audited as directory.sync by the service.
    extensions: { auditsRefusals: ['SERVICE_UNAVAILABLE'] },
    resolve: async (_root, _args, ctx) => {
      const directory = ctx.services.directory;
      if (!directory) throw clientError('NOT_CONFIGURED', 'LDAP is not configured: set ldap.url in the configuration file or MESHPLANE_LDAP_URL');
      try {
        return await directory.sync.runNow(ctx.identity!);
      } catch (error) {
        if (error instanceof DirectorySyncFailed) throw clientError('SERVICE_UNAVAILABLE', error.message);
        if (error instanceof LeaseBusyError) throw clientError('CONFLICT', 'Another directory sync is still running: try again in a minute');
        throw error;
      }
    },
  }),
}));
