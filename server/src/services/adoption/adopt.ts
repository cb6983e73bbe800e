// Adoption: a proposal from a device's interface or from wg-quick files, then adopt: the WAN
// (new, or merged into under its lock) and every peer in one transaction through the same
// checks as new peers (Peers.createWithin), keys the source showed sealed, the device's own
// end bound to the device; after commit, an ADOPT job tags the device's items in place.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { KeyedMutex } from '../../infra/keyed-mutex.js';
import { type PubSub, publishWanChange } from '../../infra/pubsub/topics.js';
import type { Identity } from '../auth/identity.js';
import { recordAudit } from '../audit.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import { parseWgQuickFiles } from '../../domain/adoption/wg-quick.js';
import { applyChoices, proposeWan, type DraftProposal, type ExistingWan, type NewWanSettings, type ProposalContext, type ProposalSource } from '../../domain/adoption/proposal.js';
import type { ChoiceOutcome, Choice, ProposedRole } from '../../domain/adoption/proposal-types.js';
import { ulaRanges } from '../../domain/addressing.js';
import { DomainError } from '../../domain/errors.js';
import { contains, overlaps, tryParseAddress, tryParseCidr, hostRange } from '../../domain/ip.js';
import { validateKey } from '../../domain/validation.js';
import { maskKeys } from '../../domain/secret-masking.js';
import type { Peers } from '../overlay/peers.js';
import type { AddedSubnet, Subnets } from '../overlay/subnets.js';
import type { Wans } from '../overlay/wans.js';
import type { DeviceReadings, Reading } from './discovery.js';
import { MAX_IMPORT_FILE_BYTES, MAX_IMPORT_FILES, MAX_IMPORT_TOTAL_BYTES, MAX_PROPOSAL_PEERS } from './limits.js';

export type NewWanTarget = NewWanSettings;

export interface AdoptionInput {
  source: { device: { deviceId: string; interfaceName: string } } | { files: Array<{ name: string; content: string }> };
  target: { newWan: NewWanTarget } | { wanId: string };
  choices: Choice[];
  peers: Array<{ id: string; name: string | null; role: ProposedRole | null }>;
}

export interface AdoptResult {
  wanId: string;
  peerIds: string[];
  jobId: string | null;
  report: ChoiceOutcome[];
}

export interface LanSuggestion {
  cidr: string;
  address: string;
  interfaceName: string;
  uplink: boolean;
  suggested: boolean;
  reason: string;
}

/** LANs one adopted peer may bring (a hub's entry may route many; a WAN page lists them all). */
const MAX_ADOPTED_PEER_LANS = 256;
/** Adopting a WAN's worth of peers and LANs is one transaction: longer than the default 5 s. */
const ADOPT_TRANSACTION = { timeout: 120_000, maxWait: 30_000 };
/** Choices and overrides one adopt takes (one per issue or peer at most). */
const MAX_CHOICES = 5 * MAX_PROPOSAL_PEERS;

export interface DeviceAdoptionJobs {
  /** Starts the ADOPT job for a peer bound to a device; returns its id. */
  adoptInPlace(actor: Identity, peerId: string): Promise<string>;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export class Adoption {
  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly pubsub: PubSub,
    private readonly wanLocks: KeyedMutex,
    private readonly wans: Wans,
    private readonly peers: Peers,
    private readonly subnets: Subnets,
    private readonly readings: DeviceReadings,
    private readonly jobs: DeviceAdoptionJobs,
  ) {}

  async discover(actor: Identity, deviceId: string, fresh: boolean): Promise<Reading> {
    if (!(await this.prisma.device.findUnique({ where: { id: deviceId }, select: { id: true } }))) throw new DomainError('NOT_FOUND', 'Device not found', { field: 'deviceId' });
    return this.readings.get(actor, deviceId, fresh);
  }

  async propose(actor: Identity, input: Pick<AdoptionInput, 'source' | 'target'>): Promise<DraftProposal> {
    return (await this.draft(actor, input)).proposal;
  }

  async adopt(actor: Identity, input: AdoptionInput): Promise<AdoptResult> {
    if (input.choices.length + input.peers.length > MAX_CHOICES) throw new DomainError('INVALID_INPUT', `At most ${MAX_CHOICES} choices and peer overrides`, { field: 'choices' });
    const { proposal, deviceId } = await this.draft(actor, input);
    const applied = applyChoices(proposal, input.choices, input.peers);
    if (applied.peers.length === 0) throw new DomainError('INVALID_INPUT', 'Every peer was left out: nothing to adopt', { field: 'choices' });
    for (const peer of applied.peers) {
      validateKey(peer.publicKey, 'publicKey');
      if (peer.lans.length > MAX_ADOPTED_PEER_LANS) throw new DomainError('INVALID_INPUT', `${peer.name} brings ${peer.lans.length} LANs; at most ${MAX_ADOPTED_PEER_LANS} with an adopted peer`, { field: 'source' });
    }
    const existingWanId = 'wanId' in input.target ? input.target.wanId : null;
    const added: AddedSubnet[] = [];
    const idOf = new Map<string, string>();
    const created: string[] = [];
    const run = async () => this.prisma.$transaction(async (tx) => {
      added.length = 0;
      idOf.clear();
      created.length = 0;
      const { wan: settings } = applied;
      const wan = existingWanId
        ? await tx.wan.findUnique({ where: { id: existingWanId } })
        : await this.wans.createWithin(tx, actor, {
          name: settings.name, tunnelCidr: settings.tunnelCidr, tunnelCidr6: settings.tunnelCidr6, servicesCidr: settings.servicesCidr, natPool: settings.natPool,
          servicesCidr6: settings.servicesCidr6 ?? null, natPool6: settings.natPool6 ?? null, topology: settings.topology, listenPort: settings.listenPort,
          mtu: settings.mtu, keepalive: settings.keepalive, interfaceName: settings.interfaceName,
        }, { adoptedFrom: proposal.source });
      if (!wan) throw new DomainError('NOT_FOUND', 'WAN not found', { field: 'target.wanId' });
      for (const peer of applied.peers) {
        if (peer.existingPeerId) {
          const current = await tx.peer.findFirst({ where: { id: peer.existingPeerId, wanId: wan.id }, include: { subnets: { select: { cidr: true } } } });
          if (!current) throw new DomainError('CONFLICT', `Peer ${peer.name} left the WAN since the proposal: propose again`, { field: 'target.wanId' });
          idOf.set(peer.id, current.id);
          if (peer.local && deviceId && current.deviceId !== deviceId) {
            if (current.deviceId !== null) throw new DomainError('CONFLICT', `${current.name} is already bound to another device: unbind it first, or adopt into another WAN`, { field: 'source.device.deviceId' });
            await tx.peer.update({ where: { id: current.id }, data: { deviceId, deliveredHash: null, deliveredAt: null, deliveredVia: null } });
            await recordAudit(tx, actor, { action: 'peer.update', targetType: 'Peer', targetId: current.id, targetName: current.name, changes: [{ field: 'deviceId', before: null, after: deviceId }], details: { adopted: true } });
          }
          for (const cidr of peer.lans.filter((lan) => !current.subnets.some((subnet) => subnet.cidr === lan))) {
            added.push(await this.subnets.addWithin(tx, actor, wan.id, current.id, { cidr, description: 'adopted' }));
          }
          continue;
        }
        const portForwarded = peer.endpointPort !== null && peer.listenPort !== null && peer.endpointPort !== peer.listenPort;
        const result = await this.peers.createWithin(tx, actor, wan.id, {
          name: peer.name, role: peer.role, endpointHost: peer.endpointHost, endpointPort: peer.endpointPort, listenPort: peer.listenPort, keepalive: peer.keepalive, portForwarded,
          deviceId: peer.local ? deviceId : null, enabled: peer.enabled, tunnelIp: peer.tunnelIp, tunnelIp6: peer.tunnelIp6, subnets: peer.lans.map((cidr) => ({ cidr, description: 'adopted' })),
        }, { publicKey: peer.publicKey, privateKeyEnc: peer.privateKey ? this.secrets.seal(peer.privateKey) : null }, { details: { adopted: true, source: proposal.source } });
        idOf.set(peer.id, result.peer.id);
        created.push(result.peer.id);
        added.push(...result.lans);
      }
      for (const pair of applied.presharedKeys) {
        const [peerAId, peerBId] = [idOf.get(pair.a)!, idOf.get(pair.b)!].sort() as [string, string];
        // A pair that already has one keeps it: adoption never overwrites.
        const existing = await tx.presharedKey.findUnique({ where: { peerAId_peerBId: { peerAId, peerBId } }, select: { id: true } });
        if (existing) continue;
        await tx.presharedKey.create({ data: { wanId: wan.id, peerAId, peerBId, keyEnc: this.secrets.seal(pair.key) } });
        await recordAudit(tx, actor, { action: 'psk.enable', targetType: 'Peer', targetId: peerAId, targetName: null, details: { peerAId, peerBId, adopted: true } });
      }
      await recordAudit(tx, actor, {
        action: 'wan.adopt', targetType: 'Wan', targetId: wan.id, targetName: wan.name,
        details: {
          source: proposal.source, newWan: existingWanId === null, created: created.length, merged: applied.peers.length - created.length,
          left: proposal.peers.length - applied.peers.length, presharedKeys: applied.presharedKeys.length,
          // Issue ids name public keys, ranges and file names: anything key-shaped is masked all the same.
          choices: applied.report.slice(0, 200).map((item) => maskKeys(`${item.issueId} → ${item.optionId}${item.chosen ? '' : ' (default)'}`)),
        },
      });
      return wan;
    }, ADOPT_TRANSACTION);
    let wan;
    try {
      wan = existingWanId ? await this.wanLocks.run(existingWanId, run) : await run();
    } catch (error) {
      if ((error as { code?: unknown }).code === 'P2002') throw new DomainError('CONFLICT', 'Something this adoption needs (the WAN\'s name, or a peer\'s name, key or address) was taken meanwhile: propose again', { field: 'target' });
      throw error;
    }
    if (!existingWanId) publishWanChange(this.pubsub, { kind: 'CREATED', wanId: wan.id, entity: 'WAN', entityId: wan.id });
    for (const id of created) publishWanChange(this.pubsub, { kind: 'CREATED', wanId: wan.id, entity: 'PEER', entityId: id });
    for (const lan of added) this.subnets.publishAdded(wan.id, lan);
    const local = applied.peers.find((peer) => peer.local);
    let jobId: string | null = null;
    if (deviceId && local) {
      this.readings.forget(deviceId);
      jobId = await this.jobs.adoptInPlace(actor, idOf.get(local.id)!);
    }
    return { wanId: wan.id, peerIds: applied.peers.map((peer) => idOf.get(peer.id)!), jobId, report: applied.report };
  }

  async adoptOnDevice(actor: Identity, peerId: string): Promise<string> {
    const peer = await this.prisma.peer.findUnique({ where: { id: peerId }, select: { deviceId: true } });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found', { field: 'peerId' });
    if (!peer.deviceId) throw new DomainError('INVALID_INPUT', 'This peer is not bound to a device: there is nothing to adopt on', { field: 'peerId' });
    this.readings.forget(peer.deviceId);
    return this.jobs.adoptInPlace(actor, peerId);
  }

  /** The networks connected to the peer's device, each with why it is (or is not) a LAN to add. */
  async lanSuggestions(actor: Identity, peerId: string): Promise<LanSuggestion[]> {
    const peer = await this.prisma.peer.findUnique({
      where: { id: peerId },
      select: { deviceId: true, tunnelIp: true, wan: { select: { id: true, tunnelCidr: true, tunnelCidr6: true } }, subnets: { select: { cidr: true } }, device: { select: { host: true, managementAddress: true } } },
    });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found', { field: 'peerId' });
    if (!peer.deviceId || !peer.device) throw new DomainError('INVALID_INPUT', 'This peer is not bound to a device: there are no networks to read', { field: 'peerId' });
    const reading = await this.readings.get(actor, peer.deviceId);
    const others = await this.prisma.subnet.findMany({ where: { peer: { wanId: peer.wan.id }, NOT: { peerId } }, select: { cidr: true, peer: { select: { name: true } } } });
    const tunnels = [peer.wan.tunnelCidr, peer.wan.tunnelCidr6].flatMap((cidr) => (cidr ? [tryParseCidr(cidr)!] : []));
    const management = tryParseAddress(peer.device.managementAddress ?? peer.device.host);
    return reading.connectedNetworks.map((network): LanSuggestion => {
      const base = { cidr: network.cidr, address: network.address, interfaceName: network.interfaceName, uplink: network.uplink };
      const range = tryParseCidr(network.cidr);
      const no = (reason: string) => ({ ...base, suggested: false, reason });
      if (!range) return no('not a network Meshplane can read');
      if (network.uplink) return no('the uplink (it holds the default route): hosting it would route the internet side into the WAN');
      if (peer.subnets.some((subnet) => subnet.cidr === network.cidr)) return no('already a LAN of this peer');
      if (tunnels.some((tunnel) => overlaps(tunnel, range))) return no('overlaps the tunnel range');
      if (management !== null && contains(range, hostRange(management))) return no('Meshplane reaches the device through it (the management address is in it)');
      const clash = others.find((other) => overlaps(tryParseCidr(other.cidr)!, range));
      if (clash) return no(`overlaps ${clash.cidr}, a LAN of ${clash.peer.name} (add it with auto-NAT on the peer page to translate it)`);
      return { ...base, suggested: true, reason: `connected to ${network.interfaceName} (the device is ${network.address} there)` };
    });
  }

  /** The proposal for the input: the source read (a cached device reading, or the files parsed) and the target loaded. */
  private async draft(actor: Identity, input: Pick<AdoptionInput, 'source' | 'target'>): Promise<{ proposal: DraftProposal; deviceId: string | null }> {
    const source = await this.sourceOf(actor, input.source);
    const target: ProposalContext['target'] = 'wanId' in input.target ? { existing: await this.existingWan(input.target.wanId) } : { newWan: input.target.newWan };
    const takenWanNames = 'newWan' in input.target && (await this.prisma.wan.findFirst({ where: { name: input.target.newWan.name }, select: { id: true } })) ? [input.target.newWan.name] : [];
    const proposal = proposeWan(source.source, { target, takenWanNames, ula: ulaRanges(randomBytes(5)), maxPeers: MAX_PROPOSAL_PEERS });
    return { proposal, deviceId: source.deviceId };
  }

  private async sourceOf(actor: Identity, source: AdoptionInput['source']): Promise<{ source: ProposalSource; deviceId: string | null }> {
    if ('device' in source) {
      const { deviceId, interfaceName } = source.device;
      const device = await this.prisma.device.findUnique({ where: { id: deviceId }, select: { name: true } });
      if (!device) throw new DomainError('NOT_FOUND', 'Device not found', { field: 'source.device.deviceId' });
      const reading: DeviceDiscovery = await this.readings.get(actor, deviceId);
      const iface = reading.interfaces.find((item) => item.name === interfaceName);
      if (!iface) {
        throw new DomainError('NOT_FOUND', `The device has no WireGuard interface named ${interfaceName.slice(0, 64)} (it has ${reading.interfaces.map((item) => item.name).join(', ') || 'none'})`, { field: 'source.device.interfaceName' });
      }
      return {
        source: { kind: 'device', interfaces: [iface], connectedNetworks: reading.connectedNetworks, problems: [], label: `device ${device.name}, interface ${iface.name}`, deviceName: device.name },
        deviceId,
      };
    }
    const { files } = source;
    if (files.length === 0) throw new DomainError('INVALID_INPUT', 'Give at least one file', { field: 'source.files' });
    if (files.length > MAX_IMPORT_FILES) throw new DomainError('INVALID_INPUT', `At most ${MAX_IMPORT_FILES} files in one import (${files.length} given)`, { field: 'source.files', limit: MAX_IMPORT_FILES });
    let total = 0;
    for (const file of files) {
      const size = byteLength(file.content);
      total += size;
      if (size > MAX_IMPORT_FILE_BYTES) throw new DomainError('INVALID_INPUT', `${file.name.slice(0, 100)}: ${size} bytes; a file may have at most ${MAX_IMPORT_FILE_BYTES}`, { field: 'source.files', limit: MAX_IMPORT_FILE_BYTES });
    }
    if (total > MAX_IMPORT_TOTAL_BYTES) throw new DomainError('INVALID_INPUT', `The files have ${total} bytes together; at most ${MAX_IMPORT_TOTAL_BYTES}`, { field: 'source.files', limit: MAX_IMPORT_TOTAL_BYTES });
    const parsed = parseWgQuickFiles(files);
    if (parsed.interfaces.length === 0) throw new DomainError('INVALID_INPUT', `No [Interface] or [Peer] section in ${files.length === 1 ? 'the file' : 'any of the files'}`, { field: 'source.files', problems: parsed.problems.slice(0, 20) });
    return {
      source: {
        kind: 'files', interfaces: parsed.interfaces, connectedNetworks: [], deviceName: null,
        problems: parsed.problems.map((problem) => ({ subject: problem.line > 0 ? `${problem.file}, line ${problem.line}` : problem.file, message: problem.message })),
        label: files.length === 1 ? `file ${parsed.interfaces[0]!.ref}` : `${files.length} files`,
      },
      deviceId: null,
    };
  }

  private async existingWan(wanId: string): Promise<ExistingWan> {
    const wan = await this.prisma.wan.findUnique({
      where: { id: wanId },
      include: { peers: { select: { id: true, name: true, publicKey: true, tunnelIp: true, tunnelIp6: true, endpointHost: true, endpointPort: true, listenPort: true, deviceId: true, subnets: { select: { cidr: true } } } } },
    });
    if (!wan) throw new DomainError('NOT_FOUND', 'WAN not found', { field: 'target.wanId' });
    return {
      wanId: wan.id, name: wan.name, tunnelCidr: wan.tunnelCidr, tunnelCidr6: wan.tunnelCidr6, servicesCidr: wan.servicesCidr, natPool: wan.natPool, servicesCidr6: wan.servicesCidr6, natPool6: wan.natPool6,
      topology: wan.topology, listenPort: wan.listenPort, mtu: wan.mtu, keepalive: wan.keepalive, interfaceName: wan.interfaceName,
      peers: wan.peers.map(({ subnets, ...peer }) => ({ ...peer, lans: subnets.map((subnet) => subnet.cidr) })),
    };
  }
}
