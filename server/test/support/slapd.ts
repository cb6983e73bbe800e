// A private OpenLDAP server for tests: Debian's /usr/sbin/slapd with a slapd.conf written into
// a temp folder (mdb database there, schemas core/cosine/inetorgperson/nis, the memberof
// overlay), listening on free loopback ports (ldap:// and ldaps:// with a fresh self-signed
// certificate that also serves StartTLS), in the foreground, stopped by PID. The system's
// /etc/ldap configuration and any system slapd are neither read nor touched (-f names our
// file; pid, args and data stay in the temp folder).
// Debian: apt-get install slapd ldap-utils.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { generateSelfSignedCertificate } from '../sim/routeros/tls-certificate.js';
import { freePort } from './redis.js';

const CANDIDATES = [process.env.MESHPLANE_SLAPD, '/usr/sbin/slapd', '/usr/local/libexec/slapd'].filter((file): file is string => Boolean(file));
const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIRS = ['/usr/lib/ldap', '/usr/lib/x86_64-linux-gnu/ldap', '/usr/lib/aarch64-linux-gnu/ldap'];

export const SUFFIX = 'dc=example,dc=com';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const PEOPLE = `ou=people,${SUFFIX}`;
export const GROUPS = `ou=groups,${SUFFIX}`;
export const SERVICE_DN = `cn=meshplane,ou=services,${SUFFIX}`;

/** slapd, or null after announcing the skip; on CI (CI=true) a missing slapd is an error. */
export function slapdOrSkip(what: string): string | null {
  const binary = CANDIDATES.find((file) => fs.existsSync(file)) ?? null;
  const modules = MODULE_DIRS.find((dir) => fs.existsSync(path.join(dir, 'back_mdb.la')) || fs.existsSync(path.join(dir, 'back_mdb.so')));
  const schemas = fs.existsSync(path.join(SCHEMA_DIR, 'inetorgperson.schema'));
  if (binary && modules && schemas) return binary;
  const reason = 'slapd is not installed (Debian: apt-get install -y --no-install-recommends slapd ldap-utils)';
  if (process.env.CI === 'true') throw new Error(`${what}: slapd is required on CI: ${reason}`);
  console.warn(`SKIPPING ${what}: ${reason}`);
  return null;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface SlapdUser {
  uid: string;
  cn: string;
  mail?: string;
  password: string;
  /** Group cns under ou=groups this user is a member of. */
  groups?: string[];
  /** More attributes (e.g. employeeType). */
  extra?: Record<string, string>;
}

export interface Slapd {
  url: string;
  ldapsUrl: string;
  /** The server certificate (PEM), to pass as the CA. */
  caPem: string;
  rootPassword: string;
  servicePassword: string;
  userDn(uid: string): string;
  groupDn(cn: string): string;
  addUser(user: SlapdUser): Promise<void>;
  deleteUser(uid: string): Promise<void>;
  /** Puts the user in exactly these groups. */
  setGroups(uid: string, groups: string[]): Promise<void>;
  /** Adds `count` entries uid=<prefix><n> (password "x", no groups) in one connection. */
  addPlainUsers(prefix: string, count: number): Promise<void>;
  /** Replaces (or with null deletes) one attribute of a user's entry. */
  setAttribute(uid: string, type: string, value: string | null): Promise<void>;
  /** Stops the server, keeping its data (a directory outage); `resume` starts it again on the same ports. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

const GROUP_NAMES = ['meshplane-admins', 'netops', 'staff', 'vpn-users', 'unrelated'];

export interface SlapdOptions {
  /**
   * The README's line for the service account: slapd's default size limit (500, which caps a
   * paged listing's total too) does not bind it. Off: slapd's defaults, as a fresh install has them.
   */
  serviceAccountUnlimited?: boolean;
}

export async function startSlapd(binary: string, options: SlapdOptions = {}): Promise<Slapd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'));
  const [port, tlsPort] = [await freePort(), await freePort()];
  const tls = await generateSelfSignedCertificate();
  fs.writeFileSync(path.join(dir, 'cert.pem'), tls.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), tls.key, { mode: 0o600 });
  const rootPassword = 'root-secret-0d1b';
  const servicePassword = 'service-bind-Secret-7a3f';
  const modules = MODULE_DIRS.find((folder) => fs.existsSync(path.join(folder, 'back_mdb.la')) || fs.existsSync(path.join(folder, 'back_mdb.so')))!;
  fs.writeFileSync(path.join(dir, 'slapd.conf'), [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((schema) => `include ${SCHEMA_DIR}/${schema}.schema`),
    `pidfile ${dir}/slapd.pid`,
    `argsfile ${dir}/slapd.args`,
    `modulepath ${modules}`,
    'moduleload back_mdb',
    'moduleload memberof',
    `TLSCertificateFile ${dir}/cert.pem`,
    `TLSCertificateKeyFile ${dir}/key.pem`,
    // An unauthenticated bind (a DN with an empty password) succeeds, as on many servers:
    // sign-in must refuse an empty password itself.
    'allow bind_anon_dn',
    'database mdb',
    'maxsize 16777216',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${rootPassword}`,
    `directory ${dir}/db`,
    'index objectClass eq',
    ...(options.serviceAccountUnlimited === false ? [] : [`limits dn.exact="${SERVICE_DN}" size.prtotal=unlimited`]),
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
    'overlay memberof',
    'memberof-group-oc groupOfNames',
    'memberof-member-ad member',
    'memberof-memberof-ad memberOf',
    'memberof-refint true',
    '',
  ].join('\n'));

  let child: ChildProcess | null = null;
  let output = '';
  const launch = async () => {
    output = '';
    const started = spawn(binary, ['-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${tlsPort}/`, '-f', path.join(dir, 'slapd.conf'), '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = started;
    for (let waited = 0; waited < 15_000; waited += 100) {
      if (started.exitCode !== null) throw new Error(`slapd exited with ${started.exitCode}: ${output}`);
      if (await canConnect(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`slapd did not start listening: ${output}`);
  };
  const halt = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (running.exitCode === null && running.signalCode === null) {
      running.kill('SIGKILL');
      await exited;
    }
  };
  await launch();

  const url = `ldap://127.0.0.1:${port}`;
  const asRoot = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url, timeout: 10_000 });
    try {
      await client.bind(ROOT_DN, rootPassword);
      return await work(client);
    } finally {
      await client.unbind();
    }
  };
  const userDn = (uid: string) => `uid=${uid},${PEOPLE}`;
  const groupDn = (cn: string) => `cn=${cn},${GROUPS}`;
  // groupOfNames needs a member: an entry that is nobody.
  const placeholder = `cn=nobody,${SUFFIX}`;
  await asRoot(async (client) => {
    await client.add(SUFFIX, { objectClass: ['top', 'dcObject', 'organization'], o: 'Example', dc: 'example' });
    for (const ou of ['people', 'groups', 'services']) await client.add(`ou=${ou},${SUFFIX}`, { objectClass: ['organizationalUnit'], ou });
    await client.add(placeholder, { objectClass: ['organizationalRole'], cn: 'nobody' });
    await client.add(SERVICE_DN, { objectClass: ['organizationalRole', 'simpleSecurityObject'], cn: 'meshplane', userPassword: servicePassword });
    for (const cn of GROUP_NAMES) await client.add(groupDn(cn), { objectClass: ['groupOfNames'], cn, member: [placeholder] });
  });

  const membersOf = async (client: Client, cn: string): Promise<string[]> => {
    const { searchEntries } = await client.search(groupDn(cn), { scope: 'base', attributes: ['member'] });
    const member = searchEntries[0]?.member ?? [];
    return (Array.isArray(member) ? member : [member]).map(String);
  };
  const setGroups = (uid: string, groups: string[]) =>
    asRoot(async (client) => {
      for (const cn of GROUP_NAMES) {
        const members = await membersOf(client, cn);
        const isMember = members.some((member) => member.toLowerCase() === userDn(uid).toLowerCase());
        const wanted = groups.includes(cn);
        if (wanted && !isMember) await client.modify(groupDn(cn), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [userDn(uid)] }) }));
        if (!wanted && isMember) await client.modify(groupDn(cn), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [userDn(uid)] }) }));
      }
    });

  return {
    url,
    ldapsUrl: `ldaps://127.0.0.1:${tlsPort}`,
    caPem: tls.cert,
    rootPassword,
    servicePassword,
    userDn,
    groupDn,
    async addUser(user) {
      await asRoot((client) => client.add(userDn(user.uid), {
        objectClass: ['inetOrgPerson'], uid: user.uid, cn: user.cn, sn: user.cn.split(' ').pop() ?? user.cn, userPassword: user.password, ...(user.mail ? { mail: user.mail } : {}), ...user.extra,
      }));
      await setGroups(user.uid, user.groups ?? []);
    },
    async deleteUser(uid) {
      await setGroups(uid, []);
      await asRoot((client) => client.del(userDn(uid)));
    },
    setGroups,
    addPlainUsers: (prefix, count) =>
      asRoot(async (client) => {
        for (let n = 0; n < count; n += 1) {
          await client.add(userDn(`${prefix}${n}`), { objectClass: ['inetOrgPerson'], uid: `${prefix}${n}`, cn: `${prefix} ${n}`, sn: prefix, mail: `${prefix}${n}@example.com`, userPassword: 'x' });
        }
      }),
    async setAttribute(uid, type, value) {
      await asRoot((client) => client.modify(userDn(uid), new Change({ operation: value === null ? 'delete' : 'replace', modification: new Attribute({ type, values: value === null ? [] : [value] }) })));
    },
    halt,
    resume: launch,
    async stop() {
      await halt();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
