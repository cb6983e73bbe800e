// Adopting what already exists: discover a device, propose a WAN from one of its interfaces
// or from uploaded wg-quick files, adopt it (WAN and peers in one transaction, then an ADOPT
// job that tags the device's items in place), and the device's networks as a peer's LANs.
// Keys never leave the server: discovered and proposed items say only whether one is known.
import { builder } from '../builder.js';
import { PeerRoleEnum, TopologyEnum } from './enums.js';
import { anyCidrText, keepaliveSeconds, nameText, port, text, wholeNumber } from './input-rules.js';
import type { ConnectedNetwork, DeviceDiscovery, DiscoveredInterface, DiscoveredPeer, DiscoveredRoute, UnmodelledSetting } from '../../domain/adoption/discovery.js';
import type { ChoiceOutcome, IssueOption, Proposal, ProposalIssue, ProposedPeer, ProposedWan } from '../../domain/adoption/proposal-types.js';
import { ISSUE_KINDS } from '../../domain/adoption/proposal.js';
import { MAX_IMPORT_FILE_BYTES, MAX_IMPORT_FILES } from '../../services/adoption/limits.js';
import type { AdoptionInput, AdoptResult, LanSuggestion } from '../../services/adoption/adopt.js';
import { invalidInput } from '../errors.js';
import { maskKeys } from '../../domain/secret-masking.js';

const UnmodelledSettingRef = builder.objectRef<UnmodelledSetting>('UnmodelledSetting').implement({
  description: 'A line or property Meshplane has no place for (DNS, PostUp, Table, a RouterOS property …): reported, never dropped silently. Secrets never appear here.',
  fields: (t) => ({
    owner: t.exposeString('owner', { description: '"interface", or the ref of the peer it belongs to.' }),
    name: t.exposeString('name'),
    value: t.string({ description: 'As written, with anything shaped like a key shown as ‹secret›.', resolve: (setting) => maskKeys(setting.value) }),
  }),
});

const DiscoveredPeerRef = builder.objectRef<DiscoveredPeer>('DiscoveredPeer').implement({
  fields: (t) => ({
    ref: t.exposeString('ref', { description: "The source's own id for the item (RouterOS .id, pfSense id, file and position)." }),
    publicKey: t.exposeString('publicKey'),
    allowedIps: t.exposeStringList('allowedIps'),
    endpointHost: t.exposeString('endpointHost', { nullable: true }),
    endpointPort: t.exposeInt('endpointPort', { nullable: true }),
    persistentKeepalive: t.exposeInt('persistentKeepalive', { nullable: true }),
    presharedKeyKnown: t.boolean({ description: 'The source showed the preshared key (it is kept, sealed, when adopted; never shown).', resolve: (peer) => peer.presharedKey !== null }),
    hasPresharedKey: t.exposeBoolean('hasPresharedKey', { description: 'The item has a preshared key, shown or not.' }),
    comment: t.string({ nullable: true, description: 'Key-shaped text in it shows as ‹secret›.', resolve: (peer) => (peer.comment === null ? null : maskKeys(peer.comment)) }),
    disabled: t.exposeBoolean('disabled'),
    managed: t.boolean({ description: "Already carries Meshplane's tag.", resolve: (peer) => peer.managedKey !== null }),
    lastHandshake: t.expose('lastHandshake', { type: 'DateTime', nullable: true }),
    rxBytes: t.exposeString('rxBytes', { nullable: true }),
    txBytes: t.exposeString('txBytes', { nullable: true }),
  }),
});

const DiscoveredInterfaceRef = builder.objectRef<DiscoveredInterface>('DiscoveredInterface').implement({
  fields: (t) => ({
    ref: t.exposeString('ref'),
    name: t.exposeString('name'),
    listenPort: t.exposeInt('listenPort', { nullable: true }),
    mtu: t.exposeInt('mtu', { nullable: true }),
    publicKey: t.exposeString('publicKey', { nullable: true }),
    privateKeyKnown: t.boolean({ description: 'The source showed the private key (kept, sealed, when adopted; never shown). false: the peer is adopted with its public key only (bring-your-own key).', resolve: (iface) => iface.privateKey !== null }),
    addresses: t.exposeStringList('addresses'),
    disabled: t.exposeBoolean('disabled'),
    comment: t.string({ nullable: true, resolve: (iface) => (iface.comment === null ? null : maskKeys(iface.comment)) }),
    managed: t.boolean({ description: "Already carries Meshplane's tag.", resolve: (iface) => iface.managedKey !== null }),
    peers: t.field({ type: [DiscoveredPeerRef], resolve: (iface) => iface.peers }),
    unmodelled: t.field({ type: [UnmodelledSettingRef], resolve: (iface) => iface.unmodelled }),
    source: t.exposeString('source'),
  }),
});

const ConnectedNetworkRef = builder.objectRef<ConnectedNetwork>('ConnectedNetwork').implement({
  fields: (t) => ({
    cidr: t.exposeString('cidr'),
    address: t.exposeString('address', { description: "The device's own address there, with its prefix." }),
    interfaceName: t.exposeString('interfaceName'),
    uplink: t.exposeBoolean('uplink', { description: 'The interface of the default route: never suggested as a LAN.' }),
  }),
});

const DiscoveredRouteRef = builder.objectRef<DiscoveredRoute>('DiscoveredRoute').implement({
  fields: (t) => ({
    ref: t.exposeString('ref'),
    destination: t.exposeString('destination'),
    gateway: t.exposeString('gateway', { nullable: true }),
    interfaceName: t.exposeString('interfaceName', { nullable: true }),
    static: t.exposeBoolean('static'),
    disabled: t.exposeBoolean('disabled'),
    comment: t.string({ nullable: true, resolve: (route) => (route.comment === null ? null : maskKeys(route.comment)) }),
    managed: t.boolean({ resolve: (route) => route.managedKey !== null }),
  }),
});

const DeviceDiscoveryRef = builder.objectRef<DeviceDiscovery & { deviceId: string; readAt: Date }>('DeviceDiscovery').implement({
  description: "A read-only reading of a device's WireGuard setup. Keys show only as privateKeyKnown / presharedKeyKnown.",
  fields: (t) => ({
    deviceId: t.exposeID('deviceId'),
    readAt: t.expose('readAt', { type: 'DateTime', description: 'When the device was read (readings are reused for a few minutes).' }),
    interfaces: t.field({ type: [DiscoveredInterfaceRef], resolve: (discovery) => discovery.interfaces }),
    connectedNetworks: t.field({ type: [ConnectedNetworkRef], resolve: (discovery) => discovery.connectedNetworks }),
    routes: t.field({ type: [DiscoveredRouteRef], resolve: (discovery) => discovery.routes }),
    notes: t.exposeStringList('notes', { description: 'What the device did not show, in words.' }),
  }),
});

const IssueKindEnum = builder.enumType('AdoptionIssueKind', { values: ISSUE_KINDS });

const IssueOptionRef = builder.objectRef<IssueOption>('AdoptionIssueOption').implement({
  fields: (t) => ({ id: t.exposeString('id'), label: t.exposeString('label') }),
});

const ProposalIssueRef = builder.objectRef<ProposalIssue>('AdoptionIssue').implement({
  description: 'Something that does not fit the model as it is, with the options for it and the one taken without a choice.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'Stable for the same source and target: pass it back in adopt(choices).' }),
    kind: t.field({ type: IssueKindEnum, resolve: (issue) => issue.kind }),
    subject: t.exposeString('subject'),
    message: t.exposeString('message'),
    options: t.field({ type: [IssueOptionRef], resolve: (issue) => issue.options }),
    defaultOption: t.exposeString('defaultOption'),
    needsChoice: t.exposeBoolean('needsChoice', { description: 'The default is a guess to confirm.' }),
    peerId: t.exposeString('peerId', { nullable: true, description: 'The proposed peer (ProposedPeer.id) it is about.' }),
  }),
});

const ProposedWanRef = builder.objectRef<ProposedWan>('ProposedWan').implement({
  fields: (t) => ({
    wanId: t.exposeID('wanId', { nullable: true, description: 'Set when merging into an existing WAN.' }),
    name: t.exposeString('name'),
    tunnelCidr: t.exposeString('tunnelCidr'),
    tunnelCidr6: t.exposeString('tunnelCidr6', { nullable: true }),
    servicesCidr: t.exposeString('servicesCidr'),
    natPool: t.exposeString('natPool'),
    topology: t.field({ type: TopologyEnum, resolve: (wan) => wan.topology }),
    listenPort: t.exposeInt('listenPort'),
    mtu: t.exposeInt('mtu'),
    keepalive: t.exposeInt('keepalive'),
    interfaceName: t.exposeString('interfaceName'),
  }),
});

const ProposedPeerRef = builder.objectRef<ProposedPeer>('ProposedPeer').implement({
  fields: (t) => ({
    id: t.exposeString('id', { description: 'Stable within the proposal: used by issues and by adopt(peers) overrides.' }),
    name: t.exposeString('name'),
    role: t.field({ type: PeerRoleEnum, resolve: (peer) => peer.role }),
    publicKey: t.exposeString('publicKey'),
    privateKeyKnown: t.boolean({ description: 'The source showed the private key: Meshplane keeps it sealed. false: bring-your-own key (public key only).', resolve: (peer) => peer.privateKey !== null }),
    tunnelIp: t.exposeString('tunnelIp', { nullable: true }),
    tunnelIp6: t.exposeString('tunnelIp6', { nullable: true }),
    endpointHost: t.exposeString('endpointHost', { nullable: true }),
    endpointPort: t.exposeInt('endpointPort', { nullable: true }),
    listenPort: t.exposeInt('listenPort', { nullable: true }),
    keepalive: t.exposeInt('keepalive', { nullable: true }),
    lans: t.exposeStringList('lans', { description: 'The LANs it hosts: its AllowedIPs other than its tunnel address.' }),
    local: t.exposeBoolean('local', { description: "The device's own end: bound to the device when adopted." }),
    existingPeerId: t.exposeID('existingPeerId', { nullable: true, description: 'Merge: the peer of the WAN with the same public key (nothing of it is overwritten).' }),
    enabled: t.exposeBoolean('enabled'),
    refs: t.exposeStringList('refs', { description: 'Where it was read.' }),
  }),
});

const PresharedPairRef = builder.objectRef<{ a: string; b: string }>('ProposedPresharedKey').implement({
  description: 'A tunnel with a preshared key the source showed: kept, sealed (never shown).',
  fields: (t) => ({ a: t.exposeString('a'), b: t.exposeString('b') }),
});

const ProposalRef = builder.objectRef<Proposal>('AdoptionProposal').implement({
  fields: (t) => ({
    source: t.exposeString('source'),
    summary: t.string({ description: '"A WAN of 3 peers; 2 LANs hosted here; 1 issue to look at".', resolve: (proposal) => summaryOf(proposal) }),
    wan: t.field({ type: ProposedWanRef, resolve: (proposal) => proposal.wan }),
    peers: t.field({ type: [ProposedPeerRef], resolve: (proposal) => proposal.peers }),
    presharedKeys: t.field({ type: [PresharedPairRef], resolve: (proposal) => proposal.presharedKeys.map(({ a, b }) => ({ a, b })) }),
    issues: t.field({ type: [ProposalIssueRef], resolve: (proposal) => proposal.issues }),
  }),
});

function summaryOf(proposal: Proposal): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lans = proposal.peers.reduce((sum, peer) => sum + peer.lans.length, 0);
  const choices = proposal.issues.filter((issue) => issue.needsChoice).length;
  return [
    `${proposal.wan.wanId ? `Merge into WAN ${proposal.wan.name}` : `A WAN of ${plural(proposal.peers.length, 'peer')}`}`,
    plural(lans, 'LAN'),
    `${plural(proposal.issues.length, 'issue')}${choices ? ` (${choices} to decide)` : ''}`,
  ].join('; ');
}

const ChoiceOutcomeRef = builder.objectRef<ChoiceOutcome>('AdoptionChoiceOutcome').implement({
  fields: (t) => ({
    issueId: t.exposeString('issueId'),
    kind: t.field({ type: IssueKindEnum, resolve: (outcome) => outcome.kind }),
    subject: t.exposeString('subject'),
    optionId: t.exposeString('optionId'),
    chosen: t.exposeBoolean('chosen', { description: 'false: the default was taken.' }),
    outcome: t.exposeString('outcome', { description: 'What it did, in words.' }),
  }),
});

const AdoptResultRef = builder.objectRef<AdoptResult>('AdoptResult').implement({
  fields: (t) => ({
    wan: t.prismaField({ type: 'Wan', resolve: (query, result, _args, ctx) => ctx.prisma.wan.findUniqueOrThrow({ ...query, where: { id: result.wanId } }) }),
    peers: t.prismaField({
      type: ['Peer'],
      description: 'The peers created or merged, in the order of the proposal.',
      resolve: async (query, result, _args, ctx) => {
        const rows = await ctx.prisma.peer.findMany({ ...query, where: { id: { in: result.peerIds } } });
        return result.peerIds.flatMap((id) => rows.filter((row) => row.id === id));
      },
    }),
    job: t.prismaField({
      type: 'DeployJob', nullable: true,
      description: 'The ADOPT job on the device (device source only).',
      resolve: (query, result, _args, ctx) => (result.jobId ? ctx.prisma.deployJob.findUnique({ ...query, where: { id: result.jobId } }) : null),
    }),
    report: t.field({ type: [ChoiceOutcomeRef], description: 'What each issue\'s option (chosen or default) did.', resolve: (result) => result.report }),
  }),
});

const LanSuggestionRef = builder.objectRef<LanSuggestion>('LanSuggestion').implement({
  fields: (t) => ({
    cidr: t.exposeString('cidr'),
    address: t.exposeString('address'),
    interfaceName: t.exposeString('interfaceName'),
    uplink: t.exposeBoolean('uplink'),
    suggested: t.exposeBoolean('suggested'),
    reason: t.exposeString('reason', { description: 'Why it is (or is not) suggested.' }),
  }),
});

const DeviceSourceInput = builder.inputType('AdoptionDeviceSourceInput', {
  fields: (t) => ({
    deviceId: t.id({ required: true }),
    interfaceName: t.string({ required: true, validate: { schema: text(64) } }),
  }),
});

const ImportFileInput = builder.inputType('ImportFileInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: text(255) } }),
    content: t.string({ required: true, description: `A wg-quick .conf (at most ${MAX_IMPORT_FILE_BYTES / 1024} KiB).` }),
  }),
});

const SourceInput = builder.inputType('AdoptionSourceInput', {
  description: 'Exactly one: a device interface, or wg-quick files.',
  fields: (t) => ({
    device: t.field({ type: DeviceSourceInput }),
    files: t.field({ type: [ImportFileInput], description: `At most ${MAX_IMPORT_FILES} files.` }),
  }),
});

const NewWanTargetInput = builder.inputType('AdoptionNewWanInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: nameText() } }),
    tunnelCidr: t.string({ description: 'Default: inferred from the interface addresses.', validate: { schema: anyCidrText } }),
    tunnelCidr6: t.string({ validate: { schema: anyCidrText } }),
    topology: t.field({ type: TopologyEnum, description: 'Default HUB_SPOKE when one end is a hub.' }),
    listenPort: t.int({ validate: { schema: port } }),
    mtu: t.int({ validate: { schema: wholeNumber(576, 9000) } }),
    keepalive: t.int({ validate: { schema: keepaliveSeconds } }),
  }),
});

const TargetInput = builder.inputType('AdoptionTargetInput', {
  description: 'Exactly one: a new WAN, or the id of a WAN to merge into.',
  fields: (t) => ({
    newWan: t.field({ type: NewWanTargetInput }),
    wanId: t.id(),
  }),
});

const ProposeInput = builder.inputType('ProposeAdoptionInput', {
  fields: (t) => ({
    source: t.field({ type: SourceInput, required: true }),
    target: t.field({ type: TargetInput, required: true }),
  }),
});

const ChoiceInput = builder.inputType('AdoptionChoiceInput', {
  fields: (t) => ({ issueId: t.string({ required: true, validate: { schema: text(200) } }), optionId: t.string({ required: true, validate: { schema: text(64) } }) }),
});

const PeerOverrideInput = builder.inputType('AdoptionPeerOverrideInput', {
  fields: (t) => ({
    id: t.string({ required: true, description: 'ProposedPeer.id', validate: { schema: text(200) } }),
    name: t.string({ validate: { schema: nameText() } }),
    role: t.field({ type: PeerRoleEnum }),
  }),
});

const AdoptInput = builder.inputType('AdoptInput', {
  fields: (t) => ({
    source: t.field({ type: SourceInput, required: true }),
    target: t.field({ type: TargetInput, required: true }),
    choices: t.field({ type: [ChoiceInput], description: 'One option per issue; issues left out take their default.' }),
    peers: t.field({ type: [PeerOverrideInput], description: 'Names and roles other than proposed.' }),
  }),
});

type SourceArg = { device?: { deviceId: string | number; interfaceName: string } | null; files?: ReadonlyArray<{ name: string; content: string }> | null };
type TargetArg = { newWan?: { name: string; tunnelCidr?: string | null; tunnelCidr6?: string | null; topology?: ProposedWan['topology'] | null; listenPort?: number | null; mtu?: number | null; keepalive?: number | null } | null; wanId?: string | number | null };

function adoptionInput(input: { source: SourceArg; target: TargetArg }): Pick<AdoptionInput, 'source' | 'target'> {
  const { device, files } = input.source;
  if ((device ? 1 : 0) + (files ? 1 : 0) !== 1) throw invalidInput('source: give exactly one of device or files', { field: 'source' });
  const { newWan, wanId } = input.target;
  if ((newWan ? 1 : 0) + (wanId ? 1 : 0) !== 1) throw invalidInput('target: give exactly one of newWan or wanId', { field: 'target' });
  return {
    source: device ? { device: { deviceId: String(device.deviceId), interfaceName: device.interfaceName } } : { files: files!.map(({ name, content }) => ({ name, content })) },
    target: newWan ? { newWan: { ...newWan } } : { wanId: String(wanId) },
  };
}

const operator = { authScopes: { role: 'OPERATOR' as const } };

builder.queryFields((t) => ({
  discoverDevice: t.field({
    ...operator,
    type: DeviceDiscoveryRef,
    description: "Reads the device's WireGuard interfaces and peers, connected networks and routes (read-only, under the device's lease like a verify). fresh: read again instead of reusing a reading of the last few minutes.",
    args: { deviceId: t.arg.id({ required: true }), fresh: t.arg.boolean() },
    resolve: (_root, { deviceId, fresh }, ctx) => ctx.services.adoption.discover(ctx.identity!, String(deviceId), fresh ?? false),
  }),
  proposeAdoption: t.field({
    ...operator,
    type: ProposalRef,
    description: 'What adopting the source into the target would make: the WAN, its peers and every issue with its options. Nothing is stored.',
    args: { input: t.arg({ type: ProposeInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.adoption.propose(ctx.identity!, adoptionInput(input)),
  }),
  peerLanSuggestions: t.field({
    ...operator,
    type: [LanSuggestionRef],
    description: "The networks connected to the peer's device as LANs it could host, each with why it is (or is not) suggested. Add the chosen ones with addSubnet.",
    args: { peerId: t.arg.id({ required: true }) },
    resolve: (_root, { peerId }, ctx) => ctx.services.adoption.lanSuggestions(ctx.identity!, String(peerId)),
  }),
}));

builder.mutationFields((t) => ({
  adopt: t.field({
    ...operator,
    type: AdoptResultRef,
    description: 'Creates (or merges into) the WAN and its peers in one transaction, with the choices given; for a device source, then starts an ADOPT job that tags the matching items on the device in place.',
    args: { input: t.arg({ type: AdoptInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.adoption.adopt(ctx.identity!, {
      ...adoptionInput(input),
      choices: (input.choices ?? []).map(({ issueId, optionId }) => ({ issueId, optionId })),
      peers: (input.peers ?? []).map(({ id, name, role }) => ({ id, name: name ?? null, role: role ?? null })),
    }),
  }),
  adoptOnDevice: t.prismaField({
    ...operator,
    type: 'DeployJob',
    description: "Starts an ADOPT job for a peer bound to a device: reads the device, writes Meshplane's tag onto the hand-made items that match what the peer needs there (nothing removed or re-added), and summarises what a deploy would still change.",
    args: { peerId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { peerId }, ctx) => ctx.prisma.deployJob.findUniqueOrThrow({ ...query, where: { id: await ctx.services.adoption.adoptOnDevice(ctx.identity!, String(peerId)) } }),
  }),
}));
