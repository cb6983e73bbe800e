// The directory (LDAP / Active Directory) as sign-in and the sync see it, over ldapts:
// bind as the service account, find the user's entry with the configured filter (the typed
// name filter-escaped, RFC 4515), bind as that entry with the typed password, read its groups.
// Nothing here touches the database: ldap-accounts.ts turns entries into users.
//
// Errors: a wrong password or an unknown name is an ordinary answer (null); anything else
// (unreachable, TLS, the service account refused, a timeout) is DirectoryUnavailableError,
// whose message names the server and the cause, never a password.
import type { ConnectionOptions } from 'node:tls';
import net from 'node:net';
import { Client, Filter, InvalidCredentialsError, SizeLimitExceededError, type Entry } from 'ldapts';
import type { Logger } from '../../infra/logger.js';
import type { LdapConfig } from './ldap-config.js';

/** One user entry, reduced to what Meshplane keeps. */
export interface DirectoryEntry {
  dn: string;
  /** The configured unique attribute (entryUUID as is, objectGUID as the usual GUID string). */
  id: string;
  email: string | null;
  name: string | null;
  /** Group DNs (from the member attribute or the group search). */
  groups: string[];
}

/**
 * Runs once the sign-in name has found its one entry, before the password is tried: `entryKey`
 * is the entry's id (else its DN), the same for every name that finds it (uid, mail, and the case
 * and Unicode variants the server folds). Throwing stops the sign-in with that error.
 */
export type BeforeBind = (entryKey: string) => Promise<void>;

export class DirectoryUnavailableError extends Error {
  override readonly name = 'DirectoryUnavailableError';
}

/** Entries one listing may return at most: a directory larger than this is refused, not truncated. */
export const MAX_DIRECTORY_ENTRIES = 100_000;
const PAGE_SIZE = 500;
const MAX_GROUPS_PER_USER = 5_000;

/** AD's objectGUID: 16 bytes, the first three fields little-endian (as `Get-ADUser` prints it). */
export function guidString(bytes: Buffer): string {
  if (bytes.length !== 16) return bytes.toString('hex');
  const hex = (indexes: number[]) => indexes.map((i) => bytes[i]!.toString(16).padStart(2, '0')).join('');
  return `${hex([3, 2, 1, 0])}-${hex([5, 4])}-${hex([7, 6])}-${hex([8, 9])}-${hex([10, 11, 12, 13, 14, 15])}`;
}

/** DNs compare case-insensitively and without the spaces around separators ("CN=A, OU=B" = "cn=a,ou=b"). */
export function normalizeDn(dn: string): string {
  return dn.replace(/\s*([,=+])\s*/g, '$1').trim().toLowerCase();
}

export const sameDn = (reported: string, configured: string): boolean => normalizeDn(reported) === normalizeDn(configured);

/** The filter with each placeholder replaced by the escaped value (never pasted raw). */
export function fillFilter(filter: string, placeholder: string, value: string): string {
  return filter.split(placeholder).join(Filter.escape(value));
}

const BINARY_IDS = new Set(['objectguid', 'msds-consistencyguid']);

function attribute(entry: Entry, name: string): Array<string | Buffer> {
  const key = Object.keys(entry).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function firstText(entry: Entry, name: string): string | null {
  const value = attribute(entry, name)[0];
  if (value === undefined) return null;
  const text = (Buffer.isBuffer(value) ? value.toString('utf8') : value).trim();
  return text === '' ? null : text;
}

function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

export class LdapDirectory {
  constructor(
    readonly config: LdapConfig,
    private readonly log: Logger,
  ) {}

  private tlsOptions(url: string): ConnectionOptions {
    const host = hostOf(url);
    return {
      ...(this.config.caPem ? { ca: [this.config.caPem] } : {}),
      rejectUnauthorized: this.config.tlsVerify,
      ...(net.isIP(host) ? {} : { servername: host }),
    };
  }

  /** A connection to the first server that answers (StartTLS done when configured), not bound yet. */
  private async connect(): Promise<Client> {
    const failures: string[] = [];
    for (const url of this.config.urls) {
      // ldapts speaks TLS from the start whenever tlsOptions are given: only for ldaps://.
      const secure = url.toLowerCase().startsWith('ldaps:');
      const client = new Client({ url, timeout: this.config.timeoutMs, connectTimeout: this.config.timeoutMs, strictDN: false, ...(secure ? { tlsOptions: this.tlsOptions(url) } : {}) });
      try {
        if (this.config.startTls) await client.startTLS(this.tlsOptions(url));
        else await client.exop('1.3.6.1.4.1.4203.1.11.3').catch((error: unknown) => {
          // "Who am I?" only proves the server answers; a server without it still answered.
          if (!isProtocolAnswer(error)) throw error;
        });
        return client;
      } catch (error) {
        failures.push(`${url}: ${describe(error)}`);
        await client.unbind().catch(() => undefined);
      }
    }
    throw new DirectoryUnavailableError(`no directory server answered (${failures.join('; ')})`);
  }

  /** Runs `work` on a connection bound as the service account (or anonymous when none is configured). */
  async asService<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      if (this.config.bindDn) {
        try {
          await client.bind(this.config.bindDn, this.config.bindPassword ?? '');
        } catch (error) {
          throw new DirectoryUnavailableError(error instanceof InvalidCredentialsError
            ? `the directory refused the service account ${this.config.bindDn} (check ldap.bindDn and the bind password)`
            : `binding as the service account failed: ${describe(error)}`);
        }
      }
      return await work(client);
    } catch (error) {
      if (error instanceof DirectoryUnavailableError) throw error;
      throw new DirectoryUnavailableError(`directory request failed: ${describe(error)}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private attributes(): string[] {
    const { id, email, name } = this.config.attributes;
    return [id, email, name, ...(this.config.groups.memberAttribute ? [this.config.groups.memberAttribute] : [])];
  }

  private searchOptions() {
    const id = this.config.attributes.id;
    return { scope: 'sub' as const, attributes: this.attributes(), ...(BINARY_IDS.has(id.toLowerCase()) ? { explicitBufferAttributes: [id] } : {}) };
  }

  private idOf(entry: Entry): string | null {
    const value = attribute(entry, this.config.attributes.id)[0];
    if (value === undefined) return null;
    if (Buffer.isBuffer(value)) return BINARY_IDS.has(this.config.attributes.id.toLowerCase()) ? guidString(value) : value.toString('utf8');
    return value.trim() || null;
  }

  /** The entry's groups: its member attribute, else a group search for its DN. */
  private async groupsOf(client: Client, entry: Entry): Promise<string[]> {
    const { memberAttribute, base, filter } = this.config.groups;
    const groups = memberAttribute ? attribute(entry, memberAttribute).map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : value)) : [];
    if (base) {
      let found = 0;
      for await (const page of client.searchPaginated(base, { scope: 'sub', filter: fillFilter(filter, '{dn}', entry.dn), attributes: ['1.1'], paged: { pageSize: PAGE_SIZE } })) {
        found += page.searchEntries.length;
        if (found > MAX_GROUPS_PER_USER) throw new DirectoryUnavailableError(`the group search for ${entry.dn} returned more than ${MAX_GROUPS_PER_USER} groups (check ldap.groups.filter)`);
        groups.push(...page.searchEntries.map((group) => group.dn));
      }
    }
    return groups;
  }

  private async toDirectoryEntry(client: Client, entry: Entry): Promise<DirectoryEntry | null> {
    const id = this.idOf(entry);
    if (!id) {
      this.log.warn({ dn: entry.dn, attribute: this.config.attributes.id }, 'directory entry without the configured id attribute: ignored');
      return null;
    }
    return {
      dn: entry.dn,
      id,
      email: firstText(entry, this.config.attributes.email)?.toLowerCase() ?? null,
      name: firstText(entry, this.config.attributes.name),
      groups: await this.groupsOf(client, entry),
    };
  }

  /**
   * Checks a sign-in: the entry the filter finds for `login` (exactly one, or null), bound with
   * `password`. Null for an unknown or ambiguous name and for a wrong password alike.
   */
  async authenticate(login: string, password: string, beforeBind?: BeforeBind): Promise<DirectoryEntry | null> {
    // An empty password makes a simple bind "unauthenticated", which many servers accept.
    if (password === '' || login.trim() === '') return null;
    let refusedBeforeBind: { error: unknown } | null = null;
    const entry = await this.asService(async (service) => {
      let found: Entry[];
      try {
        ({ searchEntries: found } = await service.search(this.config.userBase, { ...this.searchOptions(), filter: fillFilter(this.config.userFilter, '{login}', login.trim()), sizeLimit: 2 }));
      } catch (error) {
        if (!(error instanceof SizeLimitExceededError)) throw error;
        found = [];
        this.log.warn({ userBase: this.config.userBase }, 'the user filter matched several directory entries for one sign-in name: refused');
      }
      if (found.length !== 1) {
        if (found.length > 1) this.log.warn({ userBase: this.config.userBase, entries: found.length }, 'the user filter matched several directory entries for one sign-in name: refused');
        // The same round trips as a wrong password, so the answer's timing does not say whether the name exists.
        await this.passwordAccepted(`cn=meshplane-no-such-entry,${this.config.userBase}`, password).catch(() => false);
        return null;
      }
      const entry = found[0]!;
      if (beforeBind) {
        // Not a directory failure: kept apart from asService's wrapping and thrown as it is.
        refusedBeforeBind = await beforeBind(this.idOf(entry) ?? normalizeDn(entry.dn)).then(() => null, (error: unknown) => ({ error }));
        if (refusedBeforeBind) return null;
      }
      if (!(await this.passwordAccepted(entry.dn, password))) return null;
      return this.toDirectoryEntry(service, entry);
    });
    if (refusedBeforeBind) throw (refusedBeforeBind as { error: unknown }).error;
    return entry;
  }

  /** Binds as `dn` on a connection of its own (the service connection keeps its identity). */
  private async passwordAccepted(dn: string, password: string): Promise<boolean> {
    const client = await this.connect();
    try {
      await client.bind(dn, password);
      return true;
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return false;
      throw new DirectoryUnavailableError(`binding as the user failed: ${describe(error)}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /**
   * Every entry the user filter admits (its {login} as a presence test), with groups, keyed by
   * id. Paged; more than MAX_DIRECTORY_ENTRIES is an error, never a partial list. `wanted`
   * limits the per-user group searches (not the listing) to the accounts Meshplane knows.
   */
  async listUsers(wanted: ReadonlySet<string>): Promise<{ entries: Map<string, DirectoryEntry>; listed: number }> {
    return this.asService(async (service) => {
      const filter = this.config.userFilter.split('{login}').join('*');
      const ours: Entry[] = [];
      let seen = 0;
      try {
        for await (const page of service.searchPaginated(this.config.userBase, { ...this.searchOptions(), filter, paged: { pageSize: PAGE_SIZE } })) {
          seen += page.searchEntries.length;
          if (seen > MAX_DIRECTORY_ENTRIES) throw new DirectoryUnavailableError(`the user search returned more than ${MAX_DIRECTORY_ENTRIES} entries (narrow ldap.userBase or ldap.userFilter)`);
          for (const raw of page.searchEntries) {
            const id = this.idOf(raw);
            if (id && wanted.has(id)) ours.push(raw);
          }
        }
      } catch (error) {
        if (!(error instanceof SizeLimitExceededError)) throw error;
        // slapd's default size limit (500) also caps a paged search's total for ordinary accounts.
        throw new DirectoryUnavailableError(`the directory stopped the user listing at its size limit after ${seen} entries: let the service account list every user (OpenLDAP: limits dn.exact="${this.config.bindDn ?? 'the bind DN'}" size.prtotal=unlimited)`);
      }
      // The group searches wait for the listing to end: slapd keeps one paged search per
      // connection, so a search between two pages invalidates the listing's cookie.
      const entries = new Map<string, DirectoryEntry>();
      for (const raw of ours) {
        const entry = await this.toDirectoryEntry(service, raw);
        if (entry) entries.set(entry.id, entry);
      }
      // `listed` counts every entry, ours or not: an empty directory must be told from "none of ours".
      return { entries, listed: seen };
    });
  }
}

/** The server answered the request with a result code (it is up), as opposed to a transport failure. */
function isProtocolAnswer(error: unknown): boolean {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number';
}

function describe(error: unknown): string {
  const err = error as { message?: string; code?: unknown };
  const message = err?.message ?? String(error);
  return typeof err?.code === 'string' || typeof err?.code === 'number' ? `${message} (${String(err.code)})` : message;
}
