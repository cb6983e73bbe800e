import { loadPageQuery } from '$lib/api/load';
import { auditLogQuery } from '$lib/graphql/audit';
import type { AuditOutcome } from '$lib/gql/graphql';
import type { PageLoad } from './$types';

const PAGE_SIZE = 50;
const outcomes: AuditOutcome[] = ['OK', 'DENIED', 'FAILED'];

/** The filters live in the URL, so a filtered view can be bookmarked and shared. */
export const load: PageLoad = async (event) => {
  const params = event.url.searchParams;
  const outcome = params.get('outcome') as AuditOutcome | null;
  const since = params.get('since');
  const filters = {
    action: params.get('action') ?? '',
    actor: params.get('actor') ?? '',
    outcome: outcome && outcomes.includes(outcome) ? outcome : ('' as const),
    since: since ?? '',
  };
  const filter = {
    action: filters.action.trim() || undefined,
    actor: filters.actor.trim() || undefined,
    outcome: filters.outcome || undefined,
    since: filters.since ? new Date(filters.since).toISOString() : undefined,
  };
  const after = params.get('after') ?? undefined;
  const data = await loadPageQuery(event, 'meshplane:audit', auditLogQuery, { filter, first: PAGE_SIZE, after });
  return { filters, after, entries: data.auditLog.edges.map((edge) => edge.node), pageInfo: data.auditLog.pageInfo };
};
