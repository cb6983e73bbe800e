// Every query field that takes arguments, and every connection nested in a type (Wan.peers),
// found by walking the schema and called by an admin with hostile argument values (fast-check,
// reproducible: ARGS_SEED / ARGS_RUNS): negative, huge and 2^31 page sizes, numbers as strings,
// non-base64 cursors, base64 of junk, cursors of other connections, extreme and malformed
// dates, long and unicode strings, unknown enum values.
//   - never INTERNAL_SERVER_ERROR, every error has a code, and a refusal at the edge names
//     the argument (`details.field`);
//   - the server writes no error-level log line for any of it.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLArgument, GraphQLField, GraphQLInputType, GraphQLObjectType } from 'graphql';
import { startTestApp, type TestApp } from '../support/app.js';
import { registerAdmin, type GraphQLResult, type GraphQLTestClient } from '../support/graphql.js';
import { createLogger } from '../../src/infra/logger.js';
import { MAX_ID_LENGTH, MAX_PAGE_SIZE } from '../../src/graphql/argument-checks.js';
import { getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType, minimalSelection, schema } from './schema-walk.js';

const SEED = Number(process.env.ARGS_SEED ?? 20261206);
const RUNS = Number(process.env.ARGS_RUNS ?? 400);
const CONNECTION_ARGS = ['first', 'last', 'after', 'before'];

// ---- the targets, from the schema ---------------------------------------------------------

interface Target {
  /** Type.field */
  coordinate: string;
  field: GraphQLField<unknown, unknown>;
  /** The document around the call: `%CALL%` is replaced by `field(args) { selection }`. */
  around: string;
}

const isConnectionField = (field: GraphQLField<unknown, unknown>) => CONNECTION_ARGS.every((name) => field.args.some((arg) => arg.name === name));
const CONNECTION_SELECTION = ' { edges { cursor node { __typename } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }';
const selectionOf = (field: GraphQLField<unknown, unknown>) => (isConnectionField(field) ? CONNECTION_SELECTION : minimalSelection(field.type));

function nodeTypeOf(connection: GraphQLField<unknown, unknown>): string {
  const edges = (getNamedType(connection.type) as GraphQLObjectType).getFields().edges!;
  return getNamedType((getNamedType(edges.type) as GraphQLObjectType).getFields().node!.type).name;
}

function targets(): { found: Target[]; unreachable: string[] } {
  const query = schema.getQueryType()!;
  const found: Target[] = Object.values(query.getFields())
    .filter((field) => field.args.length > 0)
    .map((field) => ({ coordinate: `Query.${field.name}`, field, around: '%CALL%' }));
  // Types reached through connections, from the root's: `wans(first: 3) { edges { node { %CALL% } } }`, then Wan's peers, ...
  const reach = new Map<string, string>();
  const enter = (connection: GraphQLField<unknown, unknown>, around: string) => {
    const node = nodeTypeOf(connection);
    if (!reach.has(node)) reach.set(node, around.replace('%CALL%', `${connection.name}(first: 3) { edges { node { %CALL% } } }`));
  };
  for (const field of Object.values(query.getFields()).filter(isConnectionField)) enter(field, '%CALL%');
  for (let grew = true; grew; ) {
    const before = reach.size;
    for (const [typeName, around] of [...reach]) {
      for (const field of Object.values((schema.getType(typeName) as GraphQLObjectType).getFields()).filter(isConnectionField)) enter(field, around);
    }
    grew = reach.size > before;
  }
  const unreachable: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type === query || type.name.startsWith('__') || type === schema.getMutationType() || type === schema.getSubscriptionType()) continue;
    for (const field of Object.values(type.getFields()).filter((f) => f.args.length > 0)) {
      const around = reach.get(type.name);
      if (around) found.push({ coordinate: `${type.name}.${field.name}`, field, around });
      else unreachable.push(`${type.name}.${field.name}`);
    }
  }
  return { found, unreachable };
}

// ---- hostile values -------------------------------------------------------------------------

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const LONG = ['a'.repeat(MAX_ID_LENGTH + 1), 'x'.repeat(20_000), '😀'.repeat(300), '\u0000'.repeat(50)];
const JUNK_STRINGS = ['', ' ', '!!notacursor!!', 'NaN', 'null', 'undefined', '-1', '1e309', '0x10', '%00', '\n', '../../etc/passwd', '"; DROP TABLE "Wan"; --', '\u202e', 'ǅ', '中文', ...LONG];
const JUNK_CURSORS = [
  'R1BDOg==', // "GPC:"
  b64('GPC:N:NaN'), b64('GPC:N:1e309'), b64('GPC:I:99999999999999999999999'), b64('GPC:D:-8640000000000001'), b64('GPC:O:{"id":'), b64('GPC:T:[]'),
  b64('GPC:S:'), b64(`GPC:S:${'c'.repeat(200)}`), b64('GPC:S:a b'), b64('GPC:S:"quoted"'), b64('GPC:Z:'), b64('J:[1]'), b64('S:abc'),
  'R1BDOlM6Y2x4', // truncated base64
  '====', 'R1BD OlM6', '%%%',
];

let knownCursors: string[] = [];
let knownIds: string[] = [];

const intValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 0, 1, 2, MAX_PAGE_SIZE, MAX_PAGE_SIZE + 1, 1.5, Number.MAX_SAFE_INTEGER, 'NaN', '1e3', '10', true, null, [1]),
  fc.integer({ min: -5, max: 1200 }),
);
const junkString: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...JUNK_STRINGS), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const cursorValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null).map(() => knownCursors).chain((cursors) => fc.constantFrom(...cursors)) },
  { weight: 2, arbitrary: fc.constantFrom(...JUNK_CURSORS) },
  { weight: 2, arbitrary: junkString.map(b64) },
  { weight: 1, arbitrary: junkString.map((text) => b64(`GPC:S:${text}`)) },
  { weight: 1, arbitrary: junkString },
  { weight: 1, arbitrary: fc.constantFrom(12, true, null) },
);
const idValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null).map(() => knownIds).chain((ids) => fc.constantFrom(...ids)) },
  { weight: 2, arbitrary: junkString },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 31, -1, 1.5, null) },
);
const DATES = ['+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '-000001-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T25:00:00Z', '2026-01-01T00:00:00', '2026-01-01', 'NaN', 'Invalid Date', '', 'now', '1'];
const dateValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...DATES),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom(0, 8.64e15, -1, 1e20, true),
);

function valueFor(type: GraphQLInputType, name: string, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueFor(type.ofType as GraphQLInputType, name, depth);
  if (isListType(type)) return fc.array(valueFor(type.ofType as GraphQLInputType, name, depth + 1), { maxLength: 3 });
  if (isEnumType(type)) return fc.oneof(fc.constantFrom(...type.getValues().map((value) => value.name)), junkString, fc.constantFrom(1, null));
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant(null);
    const fields = Object.values(type.getFields());
    return fc.oneof(
      { weight: 4, arbitrary: fc.record(Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, field.name, depth + 1)])), { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.constantFrom(null, 'x', 1, [], { unknown: 1 }) },
    );
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
      case 'Float':
        return intValue;
      case 'ID':
        return idValue;
      case 'String':
        return ['after', 'before'].includes(name) ? cursorValue : junkString;
      case 'DateTime':
        return dateValue;
      case 'Boolean':
        return fc.constantFrom(true, false, 'true', 0, null);
      default:
        throw new Error(`no hostile values for scalar ${type.name}: teach argument-fuzz.test.ts`);
    }
  }
  throw new Error(`no hostile values for ${String(type)}`);
}

function argsFor(field: GraphQLField<unknown, unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, valueFor(arg.type, arg.name)])), {
    requiredKeys: field.args.filter((arg) => isNonNullType(arg.type)).map((arg) => arg.name),
  });
}

function documentOf(target: Target, args: Record<string, unknown>): string {
  const used = target.field.args.filter((arg: GraphQLArgument) => arg.name in args);
  const definitions = used.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const call = `${target.field.name}${used.length ? `(${used.map((arg) => `${arg.name}: $${arg.name}`).join(', ')})` : ''}${selectionOf(target.field)}`;
  return `query${definitions ? ` (${definitions})` : ''} { ${target.around.replace('%CALL%', call)} }`;
}

// ---- the checks -------------------------------------------------------------------------------

/** What every answer must satisfy, whatever was sent; returns the codes seen. */
function checkAnswer(result: GraphQLResult, what: string): string[] {
  const codes: string[] = [];
  for (const error of result.errors ?? []) {
    const code = error.extensions?.code;
    expect(code, `${what}: ${JSON.stringify(error)}`).toEqual(expect.any(String));
    expect(code, `${what}: ${error.message}`).not.toBe('INTERNAL_SERVER_ERROR');
    // Refused at the edge (input checks list `details.fields`): one argument is named too. A
    // service's refusal of a well-formed argument (a manual peer has no statistics) lists none.
    const details = error.extensions?.details as { field?: unknown; fields?: unknown } | undefined;
    if (code === 'BAD_USER_INPUT' && (details?.fields || /^Variable "\$/.test(error.message))) expect(details?.field, `${what}: ${error.message}`).toEqual(expect.any(String));
    codes.push(String(code));
  }
  return codes;
}

let t: TestApp;
let admin: GraphQLTestClient;
interface Seeded {
  wanId: string;
  peerIds: string[];
  deviceId: string;
}
let fixture: Seeded;
let second: Seeded;

/** A WAN with three peers and a device (on a closed loopback port: nothing is ever reached). */
async function seed(name: string): Promise<Seeded> {
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($name: String!) { createWan(input: { name: $name }) { wan { id } } }`, { name });
  const peerIds: string[] = [];
  for (const peer of ['a', 'b', 'c']) {
    const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string } } }>(`mutation ($wanId: ID!, $name: String!) { addPeer(wanId: $wanId, input: { name: $name }) { peer { id } } }`, { wanId: createWan.wan.id, name: peer });
    peerIds.push(addPeer.peer.id);
  }
  const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: { name: `${name}-router`, kind: 'ROUTEROS_REST', host: '127.0.0.1', port: 9, tls: false, username: 'admin', secret: 'device password' },
  });
  return { wanId: createWan.wan.id, peerIds, deviceId: createDevice.id };
}
const logLines: string[] = [];
const errorLines = () => logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

beforeAll(async () => {
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)), done()) });
  t = await startTestApp({ logger: createLogger('warn', sink) });
  admin = await registerAdmin(t.graphqlUrl);
  fixture = await seed('fuzz');
  second = await seed('second');
  await admin.ok(`mutation { createApiToken(input: { name: "fuzz" }) { token } }`);
  await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: 'v@example.net', name: 'V', password: 'correct horse battery staple', role: 'VIEWER' } });
  // Cursors of every connection (each a foreign cursor to the others) and ids of every kind.
  for (const target of targets().found.filter((target) => isConnectionField(target.field))) {
    const result = await admin.request<Record<string, unknown>>(documentOf(target, {}));
    const json = JSON.stringify(result.data ?? {});
    knownCursors.push(...[...json.matchAll(/"cursor":"([^"]+)"/g)].map((match) => match[1]!));
  }
  knownCursors = [...new Set(knownCursors)];
  knownIds = [fixture.wanId, ...fixture.peerIds, fixture.deviceId, second.wanId, 'hardening-unknown-id'];
});
afterAll(async () => t?.stop());

describe('arguments of every query field', () => {
  it('finds the targets in the schema, nested connections included', () => {
    const { found, unreachable } = targets();
    expect(unreachable).toEqual([]);
    const coordinates = found.map((target) => target.coordinate);
    for (const expected of ['Query.wans', 'Query.auditLog', 'Query.jobs', 'Query.users', 'Query.devices', 'Query.mySessions', 'Query.myApiTokens', 'Query.wan', 'Wan.peers', 'Peer.configPreview']) {
      expect(coordinates).toContain(expected);
    }
    expect(knownCursors.length).toBeGreaterThan(10);
  });

  it('refuses the reported cases as BAD_USER_INPUT naming the argument', async () => {
    // A WAN's cursor is a foreign cursor to every other list.
    const wanCursor = (await admin.ok<{ wans: { edges: Array<{ cursor: string }> } }>(`{ wans(first: 1) { edges { cursor } } }`)).wans.edges[0]!.cursor;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [`{ wans(first: -1) { edges { cursor } } }`, {}, 'first'],
      [`query ($n: Int) { wans(first: $n) { edges { cursor } } }`, { n: 'NaN' }, 'first'],
      [`query ($n: Int) { wans(last: $n) { edges { cursor } } }`, { n: 2 ** 31 }, 'last'],
      [`{ auditLog(first: 1, after: "!!notacursor!!") { edges { cursor } } }`, {}, 'after'],
      [`{ auditLog(filter: { since: "+275760-09-13T00:00:00.000Z" }) { edges { cursor } } }`, {}, 'since'],
      [`query ($f: AuditFilter) { auditLog(filter: $f) { edges { cursor } } }`, { f: { until: '1969-12-31T23:59:59Z' } }, 'until'],
      [`query ($s: DateTime) { auditLog(filter: { since: $s }) { edges { cursor } } }`, { s: 'NaN' }, 'since'],
      [`{ wans(last: ${MAX_PAGE_SIZE + 1}) { edges { cursor } } }`, {}, 'last'],
      [`{ wans(first: 1, last: 1) { edges { cursor } } }`, {}, 'last'],
      [`query ($c: String) { wans(first: 1, before: $c) { edges { cursor } } }`, { c: wanCursor }, 'before'],
      [`query ($c: String) { auditLog(first: 1, after: $c) { edges { cursor } } }`, { c: wanCursor }, 'after'],
      [`query ($id: ID!, $c: String) { wan(id: $id) { peers(first: 1, after: $c) { edges { cursor } } } }`, { id: fixture.wanId, c: wanCursor }, 'after'],
      [`query ($c: String) { users(first: 1, after: $c) { edges { cursor } } }`, { c: b64('GPC:N:NaN') }, 'after'],
      // Pothos's own format, as a client could forge it from an id: only cursors this list handed out pass.
      [`query ($c: String) { wans(first: 1, after: $c) { edges { cursor } } }`, { c: b64(`GPC:S:${fixture.wanId}`) }, 'after'],
      [`query ($id: ID!) { wan(id: $id) { id } }`, { id: 'x'.repeat(MAX_ID_LENGTH + 1) }, 'id'],
    ];
    for (const [query, variables, field] of cases) {
      const result = await admin.request(query, variables);
      expect(result.errors?.map((error) => [error.extensions?.code, (error.extensions?.details as { field?: string } | undefined)?.field]), query).toEqual([['BAD_USER_INPUT', field]]);
    }
  });

  it('pages on with the cursors it hands out', async () => {
    const page = `query ($after: String) { auditLog(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    type Page = { auditLog: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const { auditLog }: Page = await admin.ok<Page>(page, { after });
      seen.push(...auditLog.edges.map((edge) => edge.node.id));
      after = auditLog.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
  });

  it("refuses a cursor of one WAN's peer list on another WAN's; one of a deleted peer still pages on from its place", async () => {
    const peers = `query ($id: ID!, $after: String) { wan(id: $id) { peers(first: 1, after: $after) { edges { cursor node { id } } } } }`;
    type Peers = { wan: { peers: { edges: Array<{ cursor: string; node: { id: string } }> } } };
    const first = (await admin.ok<Peers>(peers, { id: fixture.wanId })).wan.peers.edges[0]!;
    expect((await admin.ok<Peers>(peers, { id: fixture.wanId, after: first.cursor })).wan.peers.edges).toHaveLength(1);
    const foreign = await admin.request(peers, { id: second.wanId, after: first.cursor });
    expect(foreign.errors?.map((error) => [error.extensions?.code, (error.extensions?.details as { field?: string }).field])).toEqual([['BAD_USER_INPUT', 'after']]);
    // A peer's cursor, then the peer deleted: Wan.peers' cursors are positions (schema/wan-peers.ts),
    // so the next page starts with the peer after it, neither refused nor cut short.
    const all = (await admin.ok<{ wan: { peers: { edges: Array<{ cursor: string; node: { id: string } }> } } }>(
      `query ($id: ID!) { wan(id: $id) { peers(first: 10) { edges { cursor node { id } } } } }`, { id: second.wanId })).wan.peers.edges;
    expect(all.length).toBeGreaterThan(1);
    const [gone, next] = all.slice(-2) as [typeof all[number], typeof all[number]];
    await admin.ok(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: gone.node.id });
    expect((await admin.ok<Peers>(peers, { id: second.wanId, after: gone.cursor })).wan.peers.edges.map((edge) => edge.node.id)).toEqual([next.node.id]);
  });

  it('answers hostile values with a client error, never an internal one, and logs no error', async () => {
    const { found } = targets();
    const reached = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...found.map((target) => target.coordinate)).chain((coordinate) => argsFor(found.find((target) => target.coordinate === coordinate)!.field).map((args) => ({ coordinate, args }))),
        async ({ coordinate, args }) => {
          const target = found.find((candidate) => candidate.coordinate === coordinate)!;
          const document = documentOf(target, args);
          const result = await admin.request(document, args);
          checkAnswer(result, `${target.coordinate} ${JSON.stringify(args).slice(0, 300)}`);
          reached.set(target.coordinate, (reached.get(target.coordinate) ?? 0) + 1);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    expect(found.filter((target) => !reached.has(target.coordinate)).map((target) => target.coordinate)).toEqual([]);
    expect(errorLines()).toEqual([]);
  });
});
