// Adoption service: propose from a device reading or files, adopt (one transaction), then the
// ADOPT job on the device.
import type { Identity } from '../auth/identity.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import type { ChoiceOutcome, Choice, Proposal, ProposedRole, ProposedTopology } from '../../domain/adoption/proposal-types.js';
import { DomainError } from '../../domain/errors.js';

export interface NewWanTarget {
  name: string;
  tunnelCidr?: string | null;
  tunnelCidr6?: string | null;
  topology?: ProposedTopology | null;
  listenPort?: number | null;
  mtu?: number | null;
  keepalive?: number | null;
}

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

export class Adoption {
  async discover(_actor: Identity, _deviceId: string, _fresh: boolean): Promise<DeviceDiscovery & { deviceId: string; readAt: Date }> {
    throw new DomainError('INVALID_INPUT', 'not yet');
  }

  async propose(_actor: Identity, _input: Pick<AdoptionInput, 'source' | 'target'>): Promise<Proposal> {
    throw new DomainError('INVALID_INPUT', 'not yet');
  }

  async adopt(_actor: Identity, _input: AdoptionInput): Promise<AdoptResult> {
    throw new DomainError('INVALID_INPUT', 'not yet');
  }

  async adoptOnDevice(_actor: Identity, _peerId: string): Promise<string> {
    throw new DomainError('INVALID_INPUT', 'not yet');
  }

  async lanSuggestions(_actor: Identity, _peerId: string): Promise<LanSuggestion[]> {
    throw new DomainError('INVALID_INPUT', 'not yet');
  }
}
