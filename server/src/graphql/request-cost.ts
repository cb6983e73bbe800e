// What an operation may make the server spend, priced before any resolver runs (graphql-query-
// complexity, with the operation's own variables, over HTTP and graphql-ws alike):
//   - every field costs 1, and what is selected under a list costs once per row it can return:
//     a connection's `first`/`last` (a literal or a variable; unsized: PAGE_DEFAULT; never more
//     than MAX_PAGE_SIZE, the largest page any connection serves), a list FIELD_LISTS names its size,
//     any other list LIST_DEFAULT;
//   - fields whose resolver does more than read a value carry their price (FIELD_COSTS): a
//     rendered configuration, a reachability map, a call to a device.
// An operation over the limit (MESHPLANE_REQUEST_COST_LIMIT, default DEFAULT_REQUEST_COST_LIMIT)
// is refused with QUERY_TOO_COMPLEX; the web UI's own documents stay well within the default
// (test/abuse-limits.test.ts), test/request-costs.test.ts shows what it refuses.
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { DocumentNode, GraphQLError, GraphQLOutputType, GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE_SIZE } from './argument-checks.js';

/**
 * Well above the dearest document of the web UI priced at its largest pages (the peer
 * table ~72,000, the WAN page of 1,000 peers ~48,000; the jobs list asks for a literal 50).
 * A list of 1,000 peers' configPreview costs ~52,000: four pass in one request, five do not.
 */
export const DEFAULT_REQUEST_COST_LIMIT = 250_000;

/** MESHPLANE_REQUEST_COST_LIMIT: a positive integer, or unset for the default. */
export function requestCostLimitFrom(env: NodeJS.ProcessEnv): number {
  const text = env.MESHPLANE_REQUEST_COST_LIMIT?.trim();
  if (!text) return DEFAULT_REQUEST_COST_LIMIT;
  const limit = Number(text);
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new Error(`MESHPLANE_REQUEST_COST_LIMIT must be a positive integer, not ${JSON.stringify(text)}`);
  return limit;
}

/** What a connection returns without first or last (Pothos relay's default page, which none of ours changes). */
export const PAGE_DEFAULT = 20;
export const LIST_DEFAULT = 10;

/**
 * Fields priced above 1, by what their resolver does for each one asked (a list of N of them
 * costs N times this). Shared work (the WAN's one compile per request) is not counted again.
 */
export const FIELD_COSTS: Readonly<Record<string, number>> = {
  // One rendered configuration (a hub's lists every other peer).
  'Peer.configPreview': 50,
  // One peer's reachability: O(peers) routes walked and as many rows.
  'Peer.reachability': 200,
  // Every peer's reachability: O(peers²); a whole WAN's, on its own, passes.
  'Wan.reachability': 100_000,
  // A round trip to a device (and its lease), per call.
  'Query.peerStatistics': 1000,
  'Mutation.testDeviceConnection': 1000,
  'Mutation.preflightPeer': 1000,
  'Mutation.planDeploy': 1000,
  // Adoption: a device read (cached for minutes) or a proposal built from it or from files.
  'Query.discoverDevice': 1000,
  'Query.proposeAdoption': 1000,
  'Query.peerLanSuggestions': 1000,
  'Mutation.adopt': 2000,
  'Mutation.adoptOnDevice': 1000,
  'Mutation.downloadPeerConfig': 100,
  'Mutation.downloadMyPeerConfig': 100,
  // Stored samples read: a sparkline is 24 hours; a series is priced by its points (FIELD_LISTS).
  'Peer.sparkline': 24,
};

/** Lists that hold every peer (or tunnel) of a WAN, not a handful: priced at a full page. */
export const FIELD_LISTS: Readonly<Record<string, number>> = {
  'Subscription.stalenessChanged': MAX_PAGE_SIZE,
  'Subscription.peerStatusChanged': MAX_PAGE_SIZE,
  'Subscription.tunnelStateChanged': MAX_PAGE_SIZE,
  'TopologyGraph.nodes': MAX_PAGE_SIZE,
  'TopologyGraph.edges': MAX_PAGE_SIZE,
  'HubUsage.spokes': MAX_PAGE_SIZE,
  'PeerReachability.reaches': MAX_PAGE_SIZE,
  'Wan.conflicts': 100,
  // A proposal or a device's interface holds a WAN's worth of peers (and issues about them).
  'AdoptionProposal.peers': MAX_PAGE_SIZE,
  'AdoptionProposal.issues': MAX_PAGE_SIZE,
  'AdoptResult.peers': MAX_PAGE_SIZE,
  'AdoptResult.report': MAX_PAGE_SIZE,
  'DiscoveredInterface.peers': MAX_PAGE_SIZE,
  // Up to 1,440 points (a day of minutes): one peer's series passes, a page of 1,000 peers' does not.
  'TrafficSeries.points': 1440,
};

/** By the type's name ([Peer!]!), not graphql's instanceof checks: the schema may come from another copy of graphql (its CommonJS and ES builds). */
function isList(type: GraphQLOutputType): boolean {
  return /^\[.*\]!?$/.test(String(type));
}

function pageSize(args: Record<string, unknown>): number {
  const asked = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : PAGE_DEFAULT;
  return Math.min(Math.max(asked, 0), MAX_PAGE_SIZE);
}

const estimate: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const name = `${type.name}.${field.name}`;
  const own = FIELD_COSTS[name] ?? 1;
  if (field.args.some((arg) => arg.name === 'first')) return own + pageSize(args) * childComplexity;
  // A connection's edges are its page, already counted by the connection field.
  const rows = type.name.endsWith('Connection') && field.name === 'edges' ? 1 : FIELD_LISTS[name] ?? (isList(field.type) ? LIST_DEFAULT : 1);
  return own + rows * childComplexity;
};

/** The cost of one operation of `document` with these variables (throws when they do not fit its arguments). */
export function requestCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string): number {
  return getComplexity({ schema, query: document, variables: variables ?? {}, ...(operationName ? { operationName } : {}), estimators: [estimate] });
}

interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  variableValues?: Record<string, unknown> | null;
  operationName?: string | null;
}

/**
 * The cost when over the limit (Infinity: it could not be priced), or null. Variables that do
 * not fit their types are left to execution, which refuses them with its own error; any other
 * failure refuses the operation (a document whose fragments multiply past the estimator's
 * 10,000 nodes), so nothing runs unpriced.
 */
function overLimit(args: OperationArgs, limit: number): number | null {
  let cost: number;
  try {
    cost = requestCost(args.schema, args.document, args.variableValues ?? undefined, args.operationName ?? undefined);
  } catch (error) {
    if (/^Variable "\$/.test((error as Error | null)?.message ?? '')) return null;
    return Infinity;
  }
  return cost > limit ? cost : null;
}

/** Refuses (with `refuse`'s error) an operation that costs more than `limit` before it runs. */
export function requestCostLimit(limit: number, refuse: (message: string) => GraphQLError): Plugin {
  const refusal = (cost: number) => ({ errors: [refuse(Number.isFinite(cost) ? `Query cost limit of ${limit} exceeded, found ${cost}` : `Query cost could not be priced within the limit of ${limit}`)] });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const cost = overLimit(args as OperationArgs, limit);
      if (cost !== null) setResultAndStopExecution(refusal(cost));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const cost = overLimit(args as OperationArgs, limit);
      if (cost !== null) setResultAndStopExecution(refusal(cost));
    },
  };
}
