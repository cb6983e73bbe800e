// The authorization matrix, generated from the built schema: every Mutation field × every
// caller (anonymous, self-service, viewer, operator, admin), with minimal valid-shaped arguments
// made from the input types, so a mutation added later is covered without editing this file.
//   - every mutation declares its scope (public, authenticated or a role);
//   - anonymous callers get UNAUTHENTICATED, insufficient roles FORBIDDEN (from the
//     authorization layer: `extensions.details.field`), and neither writes a row;
//   - sufficient roles are not refused for authorization (they may fail validation);
//   - every secret-bearing output field is reachable only through roots that need OPERATOR
//     (or hands the caller its own new secret, or renders only a peer the caller owns), and a
//     viewer reading everything it may read sees none of the overlay's secrets;
//   - a self-service user may use exactly the root fields SELF_SERVICE_ROOTS lists (every query,
//     mutation and subscription, asked of the server), those lead only to the object types
//     SELF_SERVICE_TYPES lists (walked in the schema, so a field added later that leads into the
//     overlay fails), and reading all of them shows it nothing of the overlay but its own peer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLArgument, GraphQLField } from 'graphql';
import { startTestApp, type TestApp } from '../support/app.js';
import type { GraphQLResult, GraphQLTestClient } from '../support/graphql.js';
import { confValues, DEVICE_PASSWORD, downloadConfig, seedOverlay, type OverlayFixture } from '../support/overlay-fixture.js';
import { callersOf, tableCounts, type Callers } from './roles.js';
import { wsClient } from '../support/graphql.js';
import {
  allows,
  declaredScope,
  documentFor,
  fullSelection,
  getNamedType,
  isEnumType,
  isObjectType,
  isScalarType,
  minimalArgs,
  mutationFields,
  ROLES,
  rootFieldsReaching,
  schema,
  secretBearingFields,
  type Role,
} from './schema-walk.js';

/** Secrets handed to the caller that are the caller's own (minted for it, shown once). */
const OWN_SECRETS: Record<string, string> = {
  'CreateApiTokenPayload.token': 'createApiToken gives any signed-in user a token of their own',
};

/** Roots that render a configuration only of a peer the caller owns (NOT_FOUND for any other). */
const OWNER_ONLY_ROOTS: Record<string, string> = {
  downloadMyPeerConfig: 'the config of a peer the caller owns (self-service)',
  showMyPeerQrCode: 'the QR code of a peer the caller owns (self-service)',
};

/**
 * Every root field that needs an identity and that a self-service user may use: their own
 * sessions and (revoking) tokens, and their own peers. Public fields (sign-in, who the caller
 * is) are anyone's; anything else in the schema must refuse them.
 */
const SELF_SERVICE_ROOTS = {
  Query: ['myApiTokens', 'myPeers', 'mySessions', 'selfServiceWans'],
  Mutation: ['createApiToken', 'createMyPeer', 'deleteMyPeer', 'downloadMyPeerConfig', 'revokeApiToken', 'revokeSession', 'showMyPeerQrCode'],
  Subscription: [] as string[],
};
/**
 * Every object type those root fields (and the public ones) lead to: the caller's own account,
 * sessions and tokens, and its devices as types of their own. None leads to a WAN, peer, device,
 * job, audit entry or another user; adding a field that would must change this list on purpose.
 */
const SELF_SERVICE_TYPES = [
  'ApiToken', 'AuthPayload', 'CreateApiTokenPayload', 'InvitationPreview', 'MyPeer', 'PageInfo', 'PeerQrCode', 'QueryMyApiTokensConnection', 'QueryMyApiTokensConnectionEdge',
  'QueryMySessionsConnection', 'QueryMySessionsConnectionEdge', 'RenderedConfig', 'SelfServiceWan', 'Session', 'SetupState', 'SignInOptions', 'SsoOption', 'User', 'Viewer',
];
/** Allowed by their scope, refused by the service for a self-service caller, with a reason in words. */
const SELF_SERVICE_REFUSED_BY_SERVICE: Record<string, RegExp> = {
  createApiToken: /^Self-service accounts cannot create API tokens: use the My devices page/,
};

type Caller = Role | null;
const CALLERS: Caller[] = [null, ...ROLES];
const label = (caller: Caller) => caller ?? 'anonymous';

/**
 * Root fields anyone may read: liveness, first-run state, who the caller is, and the invitation
 * a registration link carries (found only by its secret token, misses rate limited).
 */
// signInOptions and signOutUrl: the sign-in page and the sign-out button (null without an SSO session).
const PUBLIC_READS = new Set(['health', 'setupState', 'viewer', 'me', 'invitation', 'signInOptions', 'signOutUrl']);

/** A root field anyone may use, signed in or not. */
const isPublic = (field: GraphQLField<unknown, unknown>) => PUBLIC_READS.has(field.name) || declaredScope(field).kind === 'public';

function authLayerRefusal(result: GraphQLResult, field: string, rootType = 'Mutation'): string | null {
  const error = result.errors?.find((e) => (e.extensions?.details as { field?: string } | undefined)?.field === `${rootType}.${field}`);
  return error ? String(error.extensions?.code) : null;
}

describe('authorization matrix (generated from the schema)', () => {
  let t: TestApp;
  let callers: Callers;
  let fixture: OverlayFixture;
  const secrets = new Map<string, string>();

  const clientOf = (caller: Caller): GraphQLTestClient => (caller ? callers.byRole[caller] : callers.anonymous);

  beforeAll(async () => {
    // The viewer below reads every field reachable from each root field in one document (each
    // WAN's whole reachability under every device's peers...), which the default cost limit
    // refuses: priced out of the way so the search for secrets covers every field.
    t = await startTestApp({ env: { MESHPLANE_REQUEST_COST_LIMIT: String(Number.MAX_SAFE_INTEGER) } });
    callers = await callersOf(t);
    fixture = await seedOverlay(callers.admin, 'matrix');
    for (const peerId of [fixture.hubId, fixture.siteId]) {
      const conf = await downloadConfig(callers.admin, peerId);
      confValues(conf, 'PrivateKey').forEach((key) => secrets.set(`private key of ${peerId}`, key));
      confValues(conf, 'PresharedKey').forEach((key) => secrets.set(`preshared key seen by ${peerId}`, key));
    }
    secrets.set('device password', DEVICE_PASSWORD);
  });
  afterAll(() => t?.stop());

  it('finds every mutation declaring who may call it', () => {
    const fields = mutationFields();
    expect(fields.length).toBeGreaterThan(30);
    const undeclared = fields.filter((field) => declaredScope(field).kind === 'undeclared').map((field) => field.name);
    expect(undeclared, 'mutations without authScopes ({ public | authenticated | role })').toEqual([]);
  });

  it('refuses anonymous and insufficient callers with UNAUTHENTICATED / FORBIDDEN and lets sufficient roles through', async () => {
    const cells: string[] = [];
    const failures: string[] = [];
    for (const field of mutationFields()) {
      const scope = declaredScope(field);
      const args = minimalArgs(field);
      const document = documentFor('mutation', field, args);
      for (const caller of CALLERS) {
        const before = await tableCounts(t);
        const result = await clientOf(caller).request(document, args);
        const codes = (result.errors ?? []).map((error) => String(error.extensions?.code));
        const cell = `${field.name} × ${label(caller)} (${scope.kind === 'role' ? scope.role : scope.kind})`;
        cells.push(cell);
        for (const error of result.errors ?? []) {
          if (!error.extensions?.code || !error.message) failures.push(`${cell}: an error without code or message: ${JSON.stringify(error)}`);
        }
        if (codes.includes('INTERNAL_SERVER_ERROR')) failures.push(`${cell}: INTERNAL_SERVER_ERROR ${JSON.stringify(result.errors)}`);
        const refused = authLayerRefusal(result, field.name);
        if (caller === 'SELF_SERVICE' && field.name === 'logout') await callers.signInAgain();
        if (caller === 'SELF_SERVICE' && field.name in SELF_SERVICE_REFUSED_BY_SERVICE) {
          if (codes.join() !== 'FORBIDDEN' || !SELF_SERVICE_REFUSED_BY_SERVICE[field.name]!.test(result.errors?.[0]?.message ?? '')) failures.push(`${cell}: expected the service's FORBIDDEN, got ${JSON.stringify(result.errors ?? result.data)}`);
        }
        if (allows(scope, caller)) {
          if (refused) failures.push(`${cell}: refused by the authorization layer with ${refused}`);
        } else {
          const expected = caller === null ? 'UNAUTHENTICATED' : 'FORBIDDEN';
          if (refused !== expected || codes.length !== 1) failures.push(`${cell}: expected only ${expected} from the authorization layer, got ${JSON.stringify(result.errors ?? result.data)}`);
          if (result.data && (result.data as Record<string, unknown>)[field.name] != null) failures.push(`${cell}: returned data although refused`);
          const after = await tableCounts(t);
          if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${cell}: a refused call changed row counts ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Five callers for every mutation.
    expect(cells.length).toBe(mutationFields().length * CALLERS.length);
  });

  it('refuses anonymous callers every query and subscription root but the public ones', async () => {
    const problems: string[] = [];
    for (const rootType of [schema.getQueryType()!, schema.getSubscriptionType()!]) {
      for (const field of Object.values(rootType.getFields())) {
        const scope = declaredScope(field);
        if (PUBLIC_READS.has(field.name)) {
          if (scope.kind !== 'undeclared' && scope.kind !== 'public') problems.push(`${rootType.name}.${field.name}: listed as public but declares ${JSON.stringify(scope)}`);
          continue;
        }
        if (scope.kind === 'undeclared' || scope.kind === 'public') {
          problems.push(`${rootType.name}.${field.name}: readable without signing in (declare authScopes, or list it in PUBLIC_READS)`);
          continue;
        }
        if (rootType.name !== 'Query') continue; // subscriptions: graphql-ws refuses anonymous connections as a whole
        const args = minimalArgs(field);
        const result = await callers.anonymous.request(documentFor('query', field, args), args);
        if (authLayerRefusal(result, field.name, 'Query') !== 'UNAUTHENTICATED') problems.push(`Query.${field.name}: anonymous got ${JSON.stringify(result.errors ?? result.data)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('finds the secret-bearing fields and reaches each only through OPERATOR roots, or as the caller\'s own new secret', () => {
    const fields = secretBearingFields();
    expect(fields).toEqual(expect.arrayContaining(['RenderedConfig.content', 'RenderedConfig.qrSvg', 'RenderedConfig.qrPngBase64', 'CreateApiTokenPayload.token', 'InvitePayload.token']));
    const problems: string[] = [];
    for (const coordinate of fields) {
      if (coordinate in OWN_SECRETS) continue;
      const [typeName] = coordinate.split('.') as [string];
      const roots = rootFieldsReaching(typeName);
      expect(roots.length, `${coordinate} should be reachable from some root field`).toBeGreaterThan(0);
      for (const { root, rootType, path } of roots) {
        if (rootType === 'Mutation' && root.name in OWNER_ONLY_ROOTS) continue;
        const scope = declaredScope(root);
        if (allows(scope, 'VIEWER')) problems.push(`${coordinate} is readable by a viewer through ${rootType}.${path.join('.')} (${JSON.stringify(scope)})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses a viewer every mutation that returns a secret, and shows it no secret in anything it may read', async () => {
    const viewer = clientOf('VIEWER');
    const download = await viewer.request(`mutation ($p: ID!) { downloadPeerConfig(peerId: $p) { content qrSvg qrPngBase64 } }`, { p: fixture.hubId });
    expect(download.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(download.data?.downloadPeerConfig ?? null).toBeNull();
    const invite = await viewer.request(`mutation { createInvite(input: { email: "x@example.net", role: VIEWER }) { token } }`);
    expect(invite.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);

    // Every query field a viewer may call, each with every field it can reach (each type entered once).
    const idsByType: Record<string, string> = { Wan: fixture.wanId, Peer: fixture.hubId, Device: fixture.deviceId };
    const argFor = (field: GraphQLField<unknown, unknown>, arg: GraphQLArgument): unknown => {
      const named = getNamedType(arg.type);
      if (isEnumType(named)) return named.getValues()[0]!.name;
      if (arg.name === 'peerId') return fixture.siteId;
      if (arg.name === 'wanId') return fixture.wanId;
      if (arg.name === 'id') return idsByType[getNamedType(field.type).name] ?? 'unknown';
      return named.name === 'Int' ? 1 : named.name === 'Boolean' ? false : 'x';
    };
    const readable = Object.values(schema.getQueryType()!.getFields()).filter((field) => allows(declaredScope(field), 'VIEWER'));
    expect(readable.map((field) => field.name)).toEqual(expect.arrayContaining(['wan', 'wans', 'peer', 'devices', 'device']));
    const bodies: string[] = [];
    for (const field of readable) {
      const args = Object.fromEntries(field.args.filter((arg) => arg.type.toString().endsWith('!')).map((arg) => [arg.name, argFor(field, arg)]));
      const result = await viewer.request(documentFor('query', field, args, fullSelection(field.type, argFor)), args);
      const codes = (result.errors ?? []).map((error) => String(error.extensions?.code));
      // Refusals and "not applicable" answers are fine; a crash or an authentication failure is not.
      expect(codes.filter((code) => ['INTERNAL_SERVER_ERROR', 'UNAUTHENTICATED', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX', 'undefined'].includes(code)), `${field.name}: ${JSON.stringify(result.errors)}`).toEqual([]);
      bodies.push(JSON.stringify(result));
    }
    const everything = bodies.join('\n');
    // It did read the overlay (previews of the configs included), and none of its secrets.
    expect(everything).toContain('[Interface]');
    expect(everything).toContain(fixture.hubId);
    expect([...secrets].filter(([, value]) => everything.includes(value)).map(([name]) => name)).toEqual([]);
    expect(secrets.size).toBeGreaterThanOrEqual(4);
  });
  it('lets a self-service user use exactly the root fields listed for it, and refuses it every other query, mutation and subscription', async () => {
    const usable = Object.fromEntries(([['Query', schema.getQueryType()!], ['Mutation', schema.getMutationType()!], ['Subscription', schema.getSubscriptionType()!]] as const).map(([name, type]) => [
      name,
      Object.values(type.getFields()).filter((field) => !isPublic(field) && allows(declaredScope(field), 'SELF_SERVICE')).map((field) => field.name).sort(),
    ]));
    expect(usable).toEqual(SELF_SERVICE_ROOTS);

    const problems: string[] = [];
    for (const field of Object.values(schema.getQueryType()!.getFields())) {
      const args = minimalArgs(field);
      const result = await clientOf('SELF_SERVICE').request(documentFor('query', field, args), args);
      const codes = (result.errors ?? []).map((error) => String(error.extensions?.code));
      const refused = authLayerRefusal(result, field.name, 'Query');
      if (codes.includes('INTERNAL_SERVER_ERROR') || codes.includes('UNAUTHENTICATED')) problems.push(`Query.${field.name}: ${JSON.stringify(result.errors)}`);
      if (isPublic(field) || SELF_SERVICE_ROOTS.Query.includes(field.name)) {
        if (refused) problems.push(`Query.${field.name}: refused with ${refused}`);
      } else if (refused !== 'FORBIDDEN' || codes.length !== 1 || (result.data as Record<string, unknown> | null)?.[field.name] != null) {
        problems.push(`Query.${field.name}: expected only FORBIDDEN, got ${JSON.stringify(result.errors ?? result.data)}`);
      }
    }
    // Subscriptions over graphql-ws with the browser's session cookie, as the web UI opens them.
    const socket = wsClient(t.graphqlUrl, { cookie: clientOf('SELF_SERVICE').sessionCookie!, origin: new URL(t.graphqlUrl).origin });
    try {
      for (const field of Object.values(schema.getSubscriptionType()!.getFields())) {
        const args = minimalArgs(field);
        let silent: NodeJS.Timeout | undefined;
        const errors = await new Promise<Array<{ message: string; extensions?: Record<string, unknown> }>>((resolve) => {
          silent = setTimeout(() => resolve([{ message: 'no answer within 5 s' }]), 5000);
          const stop = socket.subscribe({ query: documentFor('query', field, args).replace(/^query/, 'subscription'), variables: args }, {
            next: (value) => {
              stop();
              resolve((value.errors ?? [{ message: `data: ${JSON.stringify(value.data)}` }]) as never);
            },
            error: (error) => resolve(Array.isArray(error) ? error : [{ message: String((error as { reason?: string }).reason ?? error) }]),
            complete: () => resolve([{ message: 'completed without an answer' }]),
          });
        });
        const codes = errors.map((error) => String(error.extensions?.code));
        clearTimeout(silent);
        if (codes.join() !== 'FORBIDDEN') problems.push(`Subscription.${field.name}: expected FORBIDDEN, got ${JSON.stringify(errors)}`);
      }
    } finally {
      await socket.dispose();
    }
    expect(problems).toEqual([]);
  });

  it('leads a self-service user, from every root field it may use, only to the types listed for it (a field added later that leads into the overlay fails here)', () => {
    const roots = ([schema.getQueryType()!, schema.getMutationType()!] as const).flatMap((type) =>
      Object.values(type.getFields()).filter((field) => isPublic(field) || allows(declaredScope(field), 'SELF_SERVICE')));
    const reached = new Map<string, string>();
    const queue = roots.map((root) => ({ type: getNamedType(root.type), path: root.name }));
    while (queue.length) {
      const { type, path } = queue.shift()!;
      if (reached.has(type.name) || isScalarType(type) || isEnumType(type)) continue;
      reached.set(type.name, path);
      if (!isObjectType(type)) {
        // An interface or union leads to each of its members.
        for (const member of schema.getPossibleTypes(type as never)) queue.push({ type: member, path: `${path}…${member.name}` });
        continue;
      }
      for (const field of Object.values(type.getFields())) queue.push({ type: getNamedType(field.type), path: `${path}.${field.name}` });
    }
    const unexpected = [...reached].filter(([name]) => !SELF_SERVICE_TYPES.includes(name)).map(([name, path]) => `${name} (through ${path})`);
    expect(unexpected, 'types a self-service user can reach that are not listed in SELF_SERVICE_TYPES').toEqual([]);
    expect(SELF_SERVICE_TYPES.filter((name) => !reached.has(name)), 'listed but no longer reachable').toEqual([]);
  });

  it('shows a self-service user reading everything it may read its own peer and nothing else of the overlay; owner-only roots refuse anyone else\'s peer as a missing one', async () => {
    await callers.admin.ok(`mutation ($id: ID!) { updateWan(id: $id, input: { selfService: true }) { wan { id } } }`, { id: fixture.wanId });
    const self = clientOf('SELF_SERVICE');
    const { createMyPeer } = await self.ok<{ createMyPeer: { id: string } }>(`mutation ($wanId: ID!) { createMyPeer(input: { wanId: $wanId, name: "phone" }) { id } }`, { wanId: fixture.wanId });
    const own = await self.ok<{ downloadMyPeerConfig: { content: string } }>(`mutation ($p: ID!) { downloadMyPeerConfig(peerId: $p) { content } }`, { p: createMyPeer.id });
    const [ownKey] = confValues(own.downloadMyPeerConfig.content, 'PrivateKey');
    expect(ownKey).toBeTruthy();

    for (const caller of ['SELF_SERVICE', 'VIEWER'] as const) {
      for (const root of Object.keys(OWNER_ONLY_ROOTS)) {
        const document = `mutation ($p: ID!) { ${root}(peerId: $p) { __typename } }`;
        const theirs = await clientOf(caller).request(document, { p: fixture.hubId });
        const missing = await clientOf(caller).request(document, { p: 'hardening-unknown-id' });
        expect(theirs.errors?.map((error) => `${error.extensions?.code} ${error.message}`), `${root} × ${caller}`).toEqual(['NOT_FOUND Peer not found']);
        expect(missing.errors).toEqual(theirs.errors);
      }
    }

    const argFor = (_field: GraphQLField<unknown, unknown>, arg: GraphQLArgument): unknown => {
      const named = getNamedType(arg.type);
      if (isEnumType(named)) return named.getValues()[0]!.name;
      return named.name === 'Int' ? 1 : named.name === 'Boolean' ? false : 'x';
    };
    const bodies: string[] = [];
    for (const field of Object.values(schema.getQueryType()!.getFields()).filter((root) => isPublic(root) || SELF_SERVICE_ROOTS.Query.includes(root.name))) {
      const name = field.name;
      const args = Object.fromEntries(field.args.filter((arg) => arg.type.toString().endsWith('!')).map((arg) => [arg.name, argFor(field, arg)]));
      const result = await self.request(documentFor('query', field, args, fullSelection(field.type, argFor)), args);
      expect((result.errors ?? []).map((error) => String(error.extensions?.code)).filter((code) => code !== 'NOT_FOUND'), `${name}: ${JSON.stringify(result.errors)}`).toEqual([]);
      bodies.push(JSON.stringify(result));
    }
    const everything = bodies.join('\n');
    expect(everything).toContain(createMyPeer.id);
    const others = { hub: fixture.hubId, site: fixture.siteId, 'byo peer': fixture.byoId, device: fixture.deviceId, LAN: fixture.subnetId, service: fixture.serviceId, 'LAN range': '192.168.10.0/24', 'hub endpoint': 'hub.example.net', 'own private key': ownKey! };
    expect(Object.entries(others).filter(([, value]) => everything.includes(value)).map(([name]) => name)).toEqual([]);
    expect([...secrets].filter(([, value]) => everything.includes(value)).map(([name]) => name)).toEqual([]);
  });
});
