// Callers of every role for the hardening tests, and the row counts of every table (to prove
// that a refused call wrote nothing).
import type { TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin } from '../support/graphql.js';
import type { Role } from './schema-walk.js';

export const PASSWORD = 'correct horse battery staple';

export interface Callers {
  /** The first user's session (admin). */
  admin: GraphQLTestClient;
  anonymous: GraphQLTestClient;
  /**
   * One API-token client per role, so a `logout` in a test cannot end their identity; but
   * SELF_SERVICE, which may not have tokens: a session, that `signInAgain` renews.
   */
  byRole: Record<Role, GraphQLTestClient>;
  /** A new session for the SELF_SERVICE caller (after a test signed it out). */
  signInAgain(): Promise<void>;
}

export const SELF_SERVICE_EMAIL = 'self_service-caller@example.net';

async function sessionOf(t: TestApp, email: string): Promise<GraphQLTestClient> {
  const session = new GraphQLTestClient(t.graphqlUrl);
  await session.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email, password: PASSWORD } });
  return session;
}

export async function callersOf(t: TestApp): Promise<Callers> {
  const admin = await registerAdmin(t.graphqlUrl);
  const byRole = {} as Record<Role, GraphQLTestClient>;
  await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: SELF_SERVICE_EMAIL, name: 'SELF_SERVICE', password: PASSWORD, role: 'SELF_SERVICE' } });
  byRole.SELF_SERVICE = await sessionOf(t, SELF_SERVICE_EMAIL);
  for (const role of ['VIEWER', 'OPERATOR', 'ADMIN'] as const) {
    const email = `${role.toLowerCase()}-caller@example.net`;
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email, name: role, password: PASSWORD, role } });
    const session = await sessionOf(t, email);
    const { createApiToken } = await session.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "hardening" }) { token } }`);
    byRole[role] = new GraphQLTestClient(t.graphqlUrl, createApiToken.token);
  }
  const callers: Callers = {
    admin,
    anonymous: new GraphQLTestClient(t.graphqlUrl),
    byRole,
    signInAgain: async () => {
      callers.byRole.SELF_SERVICE = await sessionOf(t, SELF_SERVICE_EMAIL);
    },
  };
  return callers;
}

/** Rows per table, except the audit log (which records refusals on purpose). */
export async function tableCounts(t: TestApp): Promise<Record<string, number>> {
  const prisma = t.app.database.prisma;
  const tables = (await prisma.$queryRawUnsafe<Array<{ name: string }>>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_prisma%'`))
    .map((row) => row.name)
    .filter((name) => name !== 'AuditLog')
    .sort();
  const counts: Record<string, number> = {};
  for (const name of tables) {
    const [row] = await prisma.$queryRawUnsafe<Array<{ n: number | bigint }>>(`SELECT COUNT(*) AS n FROM "${name.replace(/"/g, '""')}"`);
    counts[name] = Number(row?.n ?? 0);
  }
  return counts;
}

/** Every row of every table but the audit log, as one string: equal before and after = nothing written. */
export async function tableFingerprint(t: TestApp): Promise<string> {
  const prisma = t.app.database.prisma;
  const tables = (await prisma.$queryRawUnsafe<Array<{ name: string }>>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_prisma%'`))
    .map((row) => row.name)
    .filter((name) => name !== 'AuditLog')
    .sort();
  const parts: string[] = [];
  for (const name of tables) parts.push(`${name}:${JSON.stringify(await prisma.$queryRawUnsafe(`SELECT * FROM "${name.replace(/"/g, '""')}" ORDER BY 1`), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return parts.join('\n');
}
