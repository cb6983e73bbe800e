// Device operations and deploy jobs. Device work (deploy, verify, revert, clear) returns a
// job at once; clients follow it with the jobProgress subscription (current state first,
// then changes).
import { z } from 'zod';
import { builder } from '../builder.js';
import { JobKindEnum, JobStatusEnum } from './enums.js';
import { invalidInput, notFound } from '../errors.js';
import type { JobStep } from '../../services/deploy/jobs.js';
import type { NamedDriftItem, NamedStatistics, PlanSummary, VerifyResult } from '../../services/deploy/deployments.js';
import type { FieldChange, PlanGroup, PlanItem } from '../../domain/resource-labels.js';
import { currentThenChanges } from '../current-then-changes.js';
import { AUTOMATIC_ACTOR, compareDeployment, deploymentConfig, peerHistory, type ConfigComparison, type HistoryEntry } from '../../services/deploy/deployment-history.js';
import type { DiffLine } from '../../domain/deployed-config.js';
import { FAULT_CODES } from '../../domain/device-health.js';
import type { ConnectionReport, DriftItem, PreflightIssue } from '../../devices/driver.js';

const JobStepRef = builder.objectRef<JobStep>('JobStep').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    status: t.exposeString('status', { description: 'RUNNING, DONE or FAILED' }),
    startedAt: t.exposeString('startedAt'),
    finishedAt: t.exposeString('finishedAt', { nullable: true }),
    detail: t.exposeString('detail', { nullable: true }),
  }),
});

const FieldChangeRef = builder.objectRef<FieldChange>('FieldChange').implement({
  description: 'One field of a resource, before → after. Secrets show only that they are set ("‹secret›", "new secret"); "absent": the device has no value; "not readable": the device does not show it.',
  fields: (t) => ({
    field: t.exposeString('field'),
    before: t.exposeString('before', { nullable: true, description: 'Null on a create.' }),
    after: t.exposeString('after', { nullable: true }),
  }),
});

const PlanItemRef = builder.objectRef<PlanItem>('PlanItem').implement({
  fields: (t) => ({
    action: t.exposeString('action', { description: 'create, update or remove' }),
    label: t.exposeString('label', { description: 'What the resource is, named from the overlay, e.g. "peer laptop (10.0.0.3)".' }),
    fields: t.field({ type: [FieldChangeRef], description: 'Update: one row per changed field; create: the values written.', resolve: (item) => item.fields }),
    reason: t.exposeString('reason', { nullable: true }),
  }),
});

const PlanGroupRef = builder.objectRef<PlanGroup>('PlanGroup').implement({
  fields: (t) => ({
    group: t.exposeString('group', { description: 'e.g. "WireGuard peers", "Routes", "Firewall rules"' }),
    create: t.exposeInt('create'),
    update: t.exposeInt('update'),
    remove: t.exposeInt('remove'),
    items: t.field({ type: [PlanItemRef], resolve: (group) => group.items }),
  }),
});

/** Drift stored by a verify before items were named has only kind and key. */
type StoredDriftItem = DriftItem & Partial<Pick<NamedDriftItem, 'group' | 'label' | 'fields'>>;

export const DriftItemRef = builder.objectRef<StoredDriftItem>('DriftItem').implement({
  fields: (t) => ({
    kind: t.exposeString('kind'), key: t.exposeString('key'), state: t.exposeString('state'), detail: t.exposeString('detail'),
    group: t.string({ resolve: (item) => item.group ?? 'Other' }),
    label: t.string({ description: 'What the resource is, named as in plans.', resolve: (item) => item.label ?? `${item.kind} ${item.key}` }),
    fields: t.field({ type: [FieldChangeRef], description: 'DIFFERENT: each field as on the device (before) and as wanted (after), secrets masked.', resolve: (item) => item.fields ?? [] }),
  }),
});

builder.prismaObject('DeployJob', {
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: JobKindEnum }),
    status: t.expose('status', { type: JobStatusEnum }),
    progress: t.exposeInt('progress', { description: 'Percent of the plan applied.' }),
    steps: t.field({ type: [JobStepRef], resolve: (job) => JSON.parse(job.steps) as JobStep[] }),
    log: t.exposeString('log'),
    error: t.exposeString('error', { nullable: true }),
    result: t.exposeString('result', { nullable: true, description: 'JSON summary of what the job did.' }),
    warnings: t.stringList({
      description: 'Problems that did not fail the job, e.g. peers without a fresh handshake after a deploy.',
      resolve: (job) => warningsOf(job.result),
    }),
    drift: t.field({
      type: [DriftItemRef],
      nullable: true,
      description: 'A VERIFY job that succeeded: how the device differs from what Meshplane wants there, per resource (empty: in sync). Null otherwise.',
      resolve: (job) => (job.kind === 'VERIFY' && job.status === 'SUCCEEDED' ? driftIn(job.result) : null),
    }),
    wan: t.relation('wan', { nullable: true }),
    peer: t.relation('peer', { nullable: true }),
    device: t.relation('device', { nullable: true }),
    automatic: t.boolean({ description: 'Started by Meshplane itself (auto-redeploy), not by a user.', resolve: (job) => job.actorId === null }),
    actorName: t.string({
      description: `Who started the job: the user's name, or "${AUTOMATIC_ACTOR}".`,
      resolve: async (job, _args, ctx) => {
        if (job.actorId === null) return AUTOMATIC_ACTOR;
        // findUnique calls of one tick are batched by Prisma: one query per page of jobs.
        const user = await ctx.prisma.user.findUnique({ where: { id: job.actorId }, select: { name: true, email: true } });
        return user ? user.name || user.email : 'a deleted user';
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.prismaObject('Deployment', {
  description: 'One deploy or revert attempt: succeeded, failed (the device was put back as it was) or partial (what is left on the device is named).',
  fields: (t) => ({
    id: t.exposeID('id'),
    configHash: t.exposeString('configHash'),
    success: t.exposeBoolean('success'),
    status: t.exposeString('status', { description: 'SUCCEEDED, FAILED (undone: the device is as before the attempt) or PARTIAL (leftovers remain: clear or revert acts on them)' }),
    error: t.exposeString('error', { nullable: true, description: 'The first error of a failed or partial attempt.' }),
    leftovers: t.stringList({
      description: 'What a PARTIAL attempt left on the device and could not undo, one line each.',
      resolve: (deployment) => (deployment.leftovers ? (JSON.parse(deployment.leftovers) as unknown[]).map(String) : []),
    }),
    jobId: t.exposeID('jobId', { nullable: true }),
    device: t.relation('device', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    config: t.string({
      description: 'The configuration as deployed (RouterOS script for a RouterOS device, wg-quick otherwise), rendered from what this deployment stored; every key shows as ‹secret›, for every role.',
      resolve: async (deployment, _args, ctx) => (await deploymentConfig(ctx.prisma, deployment.id)).text,
    }),
  }),
});

const HistoryActionEnum = builder.enumType('HistoryAction', { values: ['DEPLOYED', 'REVERTED', 'CLEARED'] as const });

const HistoryEntryRef = builder.objectRef<HistoryEntry>('HistoryEntry').implement({
  description: 'Who did what to the peer\'s device and when.',
  fields: (t) => ({
    id: t.exposeID('id'),
    action: t.field({ type: HistoryActionEnum, resolve: (entry) => entry.action }),
    status: t.exposeString('status'),
    actorName: t.exposeString('actorName', { description: `The user's name, or "${AUTOMATIC_ACTOR}".` }),
    automatic: t.exposeBoolean('automatic'),
    at: t.expose('at', { type: 'DateTime' }),
    revertedTo: t.expose('revertedTo', { type: 'DateTime', nullable: true, description: 'A revert: when the deployment it went back to was made.' }),
    deployment: t.prismaField({
      type: 'Deployment', nullable: true,
      resolve: (query, entry, _args, ctx) => (entry.deploymentId ? ctx.prisma.deployment.findUnique({ ...query, where: { id: entry.deploymentId } }) : null),
    }),
    jobId: t.exposeID('jobId', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

builder.prismaObjectFields('Peer', (t) => ({
  deployments: t.relation('deployments', { description: 'Deployment history, newest first.', query: { orderBy: { createdAt: 'desc' }, take: 50 } }),
  history: t.field({
    type: [HistoryEntryRef],
    description: 'Deployments, reverts and clears of this peer, newest first (at most 50), each with who did it.',
    resolve: (peer, _args, ctx) => peerHistory(ctx.prisma, peer.id),
  }),
}));

const DiffLineRef = builder.objectRef<DiffLine>('DiffLine').implement({
  fields: (t) => ({ change: t.exposeString('change', { description: 'added, removed or same' }), text: t.exposeString('text') }),
});

const ConfigComparisonRef = builder.objectRef<ConfigComparison>('ConfigComparison').implement({
  fields: (t) => ({
    lines: t.field({ type: [DiffLineRef], resolve: (comparison) => comparison.lines }),
    added: t.exposeInt('added'),
    removed: t.exposeInt('removed'),
  }),
});

const JobTriggerEnum = builder.enumType('JobTrigger', {
  description: 'MANUAL: started by a user; AUTOMATIC: by Meshplane itself (auto-redeploy).',
  values: ['MANUAL', 'AUTOMATIC'] as const,
});

const ConnectionReportRef = builder.objectRef<ConnectionReport>('ConnectionReport').implement({
  fields: (t) => ({
    reachable: t.exposeBoolean('reachable'),
    loggedIn: t.exposeBoolean('loggedIn'),
    version: t.exposeString('version', { nullable: true }),
    identity: t.exposeString('identity', { nullable: true }),
    message: t.exposeString('message'),
    errorCode: t.string({
      nullable: true,
      description: 'Why the test failed, as device calls answer it (DEVICE_AUTH_FAILED, DEVICE_TLS_FAILED, …); null when it worked.',
      resolve: (report) => (report.failure ? FAULT_CODES[report.failure] : null),
    }),
  }),
});

const PreflightIssueRef = builder.objectRef<PreflightIssue>('PreflightIssue').implement({
  fields: (t) => ({
    severity: t.exposeString('severity'),
    resource: t.exposeString('resource', { description: 'What the issue is about, named like plan items ("route to 192.168.10.0/24 (not managed by Meshplane)").' }),
    message: t.exposeString('message'),
    deviceRef: t.string({ nullable: true, description: "The device's own reference to that resource (\"/ip/route *80000002\"), when it is one the device listed.", resolve: (issue) => issue.deviceRef ?? null }),
  }),
});

const DeployPlanRef = builder.objectRef<PlanSummary>('DeployPlan').implement({
  description: 'What a deploy would change, one readable line per change.',
  fields: (t) => ({
    planHash: t.exposeString('planHash', { description: 'Pass to deployPeer to deploy exactly this plan.' }),
    lines: t.exposeStringList('lines', { description: 'One technical line per change (device menu or endpoint and key); groups names them.' }),
    summary: t.string({ description: '"2 to create, 1 to update, 1 to remove", or "nothing to change".', resolve: (plan) => plan.readable.summary }),
    groups: t.field({ type: [PlanGroupRef], description: 'The changes grouped by resource kind, with counts per action; each item named from the overlay.', resolve: (plan) => plan.readable.groups }),
    operations: t.exposeInt('operations'),
    unchanged: t.exposeInt('unchanged'),
    preflight: t.field({
      type: [PreflightIssueRef],
      description: 'Preflight of the same reading of the device: deployPeer refuses to change anything while one is an ERROR, unless overridePreflight says why.',
      resolve: (plan) => plan.preflight,
    }),
  }),
});

const PreflightOverrideInput = builder.inputType('PreflightOverrideInput', {
  description: 'Deploy despite preflight errors; the reason is logged on the job and audited (peer.deploy.overridePreflight).',
  fields: (t) => ({
    reason: t.string({
      required: true,
      description: '3 to 500 characters',
      validate: { schema: z.string().trim().min(3, 'say why (at least 3 characters)').max(500).regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u, 'must not contain control or formatting characters') },
    }),
  }),
});

const PeerStatisticsRef = builder.objectRef<NamedStatistics>('PeerStatistics').implement({
  fields: (t) => ({
    publicKey: t.exposeString('publicKey'),
    peerId: t.exposeID('peerId', { nullable: true, description: 'The peer at the other end of this tunnel; null when its key is not a peer of the WAN.' }),
    peerName: t.exposeString('peerName', { nullable: true }),
    peerAddress: t.exposeString('peerAddress', { nullable: true, description: 'Its tunnel address.' }),
    rxBytes: t.exposeString('rxBytes', { description: 'Decimal string: counters exceed 2^53.' }),
    txBytes: t.exposeString('txBytes'),
    lastHandshake: t.expose('lastHandshake', { type: 'DateTime', nullable: true }),
    currentEndpoint: t.exposeString('currentEndpoint', { nullable: true }),
  }),
});

function driftIn(result: string | null): StoredDriftItem[] {
  const parsed = result ? (JSON.parse(result) as Partial<VerifyResult> | null) : null;
  return Array.isArray(parsed?.drift) ? parsed.drift : [];
}

function warningsOf(result: string | null): string[] {
  const parsed = result ? (JSON.parse(result) as { warnings?: unknown } | null) : null;
  return Array.isArray(parsed?.warnings) ? parsed.warnings.map(String) : [];
}

const jobById = (id: string) => ({ where: { id } });

builder.queryFields((t) => ({
  job: t.prismaField({
    type: 'DeployJob',
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => (await ctx.prisma.deployJob.findUnique({ ...query, ...jobById(String(id)) })) ?? Promise.reject(notFound('Job')),
  }),
  jobs: t.prismaConnection({
    type: 'DeployJob',
    cursor: 'id',
    authScopes: { role: 'VIEWER' },
    description: 'Jobs, newest first, optionally only those of a WAN, a peer, a kind, a status and who started them (every filter given must match).',
    args: {
      wanId: t.arg.id(),
      peerId: t.arg.id(),
      kind: t.arg({ type: JobKindEnum }),
      status: t.arg({ type: JobStatusEnum }),
      trigger: t.arg({ type: JobTriggerEnum }),
    },
    resolve: (query, _root, { wanId, peerId, kind, status, trigger }, ctx) => ctx.prisma.deployJob.findMany({
      ...query,
      where: {
        ...(wanId ? { wanId: String(wanId) } : {}),
        ...(peerId ? { peerId: String(peerId) } : {}),
        ...(kind ? { kind } : {}),
        ...(status ? { status } : {}),
        ...(trigger ? { actorId: trigger === 'AUTOMATIC' ? null : { not: null } } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    }),
  }),
  deploymentComparison: t.field({
    type: ConfigComparisonRef,
    authScopes: { role: 'VIEWER' },
    description: "A line diff of a deployment's configuration (fromId) against another deployment of the same peer (toId), or, without toId, against the configuration Meshplane would deploy now. Secrets masked on both sides.",
    args: { fromId: t.arg.id({ required: true }), toId: t.arg.id() },
    resolve: (_root, { fromId, toId }, ctx) => compareDeployment(ctx.prisma, String(fromId), toId ? String(toId) : null),
  }),
  peerStatistics: t.field({
    type: [PeerStatisticsRef],
    nullable: true,
    authScopes: { role: 'VIEWER' },
    description: "Statistics of the peer's WireGuard interface as its device reports them; null when the device cannot (pfSense before 2.9).",
    args: { peerId: t.arg.id({ required: true }) },
    resolve: (_root, { peerId }, ctx) => ctx.services.deployments.statistics(ctx.identity, String(peerId)),
  }),
}));

const deviceOp = { authScopes: { role: 'OPERATOR' as const } };

builder.mutationFields((t) => ({
  testDeviceConnection: t.field({
    ...deviceOp,
    type: ConnectionReportRef,
    args: { deviceId: t.arg.id({ required: true }) },
    resolve: (_root, { deviceId }, ctx) => ctx.services.deployments.testConnection(ctx.identity!, String(deviceId)),
  }),
  preflightPeer: t.field({
    ...deviceOp,
    type: [PreflightIssueRef],
    description: "Clashes between the peer's desired state and what its device already has (names, ports, addresses, routes).",
    args: { peerId: t.arg.id({ required: true }) },
    resolve: (_root, { peerId }, ctx) => ctx.services.deployments.preflight(ctx.identity!, String(peerId)),
  }),
  planDeploy: t.field({
    ...deviceOp,
    type: DeployPlanRef,
    args: { peerId: t.arg.id({ required: true }) },
    resolve: (_root, { peerId }, ctx) => ctx.services.deployments.plan(ctx.identity!, String(peerId)),
  }),
  deployPeer: t.prismaField({
    ...deviceOp,
    type: 'DeployJob',
    description: 'Starts a deploy job. approve must be true; with planHash the job refuses to apply a plan that changed since review. The job refuses to change anything when preflight finds an ERROR, unless overridePreflight gives a reason.',
    args: { peerId: t.arg.id({ required: true }), approve: t.arg.boolean({ required: true }), planHash: t.arg.string(), overridePreflight: t.arg({ type: PreflightOverrideInput }) },
    resolve: async (query, _root, args, ctx) => {
      const jobId = await ctx.services.deployments.deploy(ctx.identity!, String(args.peerId), args.approve, args.planHash, args.overridePreflight ?? null);
      return ctx.prisma.deployJob.findUniqueOrThrow({ ...query, ...jobById(jobId) });
    },
  }),
  verifyPeer: t.prismaField({
    ...deviceOp,
    type: 'DeployJob',
    description: "Starts a VERIFY job that reads the peer's device (under the device's lease, queued behind its other jobs); when it has succeeded, its drift lists how the device differs from what Meshplane wants there.",
    args: { peerId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { peerId }, ctx) => ctx.prisma.deployJob.findUniqueOrThrow({ ...query, ...jobById(await ctx.services.deployments.verify(ctx.identity!, String(peerId))) }),
  }),
  revertPeer: t.prismaField({
    ...deviceOp,
    type: 'DeployJob',
    description: 'Re-applies the previous successful deployment from the history (after a PARTIAL attempt: the last successful one). Refuses on preflight errors like deployPeer.',
    args: { peerId: t.arg.id({ required: true }), overridePreflight: t.arg({ type: PreflightOverrideInput }) },
    resolve: async (query, _root, { peerId, overridePreflight }, ctx) =>
      ctx.prisma.deployJob.findUniqueOrThrow({ ...query, ...jobById(await ctx.services.deployments.revert(ctx.identity!, String(peerId), overridePreflight ?? null)) }),
  }),
  rerunJob: t.prismaField({
    ...deviceOp,
    type: 'DeployJob',
    description: 'Runs a finished job (e.g. one a restart INTERRUPTED) again as a new job; a deploy is re-planned against the device as it is now.',
    args: { jobId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { jobId }, ctx) => ctx.prisma.deployJob.findUniqueOrThrow({ ...query, ...jobById(await ctx.services.deployments.rerun(ctx.identity!, String(jobId))) }),
  }),
  clearPeer: t.prismaField({
    ...deviceOp,
    type: 'DeployJob',
    description: "Removes every Meshplane resource from the peer's device, and nothing else.",
    args: { peerId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { peerId }, ctx) => ctx.prisma.deployJob.findUniqueOrThrow({ ...query, ...jobById(await ctx.services.deployments.clear(ctx.identity!, String(peerId))) }),
  }),
}));

builder.subscriptionFields((t) => ({
  jobProgress: t.prismaField({
    type: 'DeployJob',
    authScopes: { role: 'VIEWER' },
    description:
      'With jobId: the job as it is now, then again on every change (steps, progress, log, status). ' +
      'With wanId: first every QUEUED or RUNNING job of the WAN as it is now (oldest first; none when nothing is running), then any job of the WAN on every change.',
    args: { jobId: t.arg.id(), wanId: t.arg.id() },
    subscribe: (_root, { jobId, wanId }, ctx) => {
      if (jobId) {
        const id = String(jobId);
        return currentThenChanges(ctx.services.pubsub.subscribe('jobProgress:byId', id), async () => [{ jobId: id, wanId: null }]);
      }
      if (!wanId) throw invalidInput('jobProgress needs jobId or wanId');
      const wan = String(wanId);
      return currentThenChanges(ctx.services.pubsub.subscribe('jobProgress:byWan', wan), async () =>
        (await ctx.services.jobs.activeJobIds(wan)).map((id) => ({ jobId: id, wanId: wan })));
    },
    resolve: async (query, event, _args, ctx) => ctx.prisma.deployJob.findUniqueOrThrow({ ...query, ...jobById(event.jobId) }),
  }),
}));
