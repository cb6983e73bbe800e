// The shapes of an adoption proposal (proposal.ts builds it, the adopt service stores it, the
// GraphQL layer shows it without its secrets). Kept apart from the logic so the API, the
// service and the web UI agree on one vocabulary.

export type ProposedRole = 'HUB' | 'SITE' | 'CLIENT';
export type ProposedTopology = 'MESH' | 'HUB_SPOKE' | 'HYBRID';

export const ISSUE_KINDS = [
  'OVERLAPPING_ALLOWED_IPS', 'ADDRESS_OUTSIDE_RANGE', 'NO_TUNNEL_ADDRESS', 'DUPLICATE_PUBLIC_KEY', 'NAME_TAKEN', 'TUNNEL_IP_TAKEN', 'KEY_DIFFERS',
  'SETTING_DIFFERS', 'DISABLED_ITEM', 'UNMODELLED_SETTING', 'DEFAULT_ROUTE', 'PRIVATE_KEY_HIDDEN', 'INVALID_VALUE', 'CONNECTED_NETWORK', 'NO_ENDPOINT',
] as const;

export type IssueKind = (typeof ISSUE_KINDS)[number];

export interface IssueOption {
  id: string;
  label: string;
}

/** Something that does not fit the model as it is: each names what it is about and what each option does. */
export interface ProposalIssue {
  /** Stable for the same input: choices refer to it. */
  id: string;
  kind: IssueKind;
  /** What it is about, in words ("peer site-b", "interface wg0", "line DNS of hub.conf"). */
  subject: string;
  message: string;
  options: IssueOption[];
  /** What happens without a choice. */
  defaultOption: string;
  /** true: the default is a guess an operator should confirm (the UI asks). */
  needsChoice: boolean;
  /** The proposed peer it is about, when one. */
  peerId: string | null;
}

export interface ProposedWan {
  /** Null: merging into an existing WAN (wanId). */
  wanId: string | null;
  name: string;
  tunnelCidr: string;
  tunnelCidr6: string | null;
  servicesCidr6?: string | null;
  natPool6?: string | null;
  servicesCidr: string;
  natPool: string;
  topology: ProposedTopology;
  listenPort: number;
  mtu: number;
  keepalive: number;
  interfaceName: string;
}

export interface ProposedPeer {
  /** Stable id within the proposal ("key:<public key>"), used by issues and overrides. */
  id: string;
  name: string;
  role: ProposedRole;
  publicKey: string;
  /** Real key material when the source showed it: sealed when stored, never shown. */
  privateKey: string | null;
  tunnelIp: string | null;
  tunnelIp6: string | null;
  endpointHost: string | null;
  endpointPort: number | null;
  listenPort: number | null;
  keepalive: number | null;
  lans: string[];
  /** The device's own end (bound to the device when adopted). */
  local: boolean;
  /** Merge: the existing peer with the same public key (nothing of it is overwritten). */
  existingPeerId: string | null;
  enabled: boolean;
  /** Where it was read: the source's refs ("file hub.conf #2", a RouterOS ".id"). */
  refs: string[];
}

export interface PresharedPair {
  /** Proposed peer ids. */
  a: string;
  b: string;
  /** Real key material: sealed when stored, never shown. */
  key: string;
}

export interface Proposal {
  wan: ProposedWan;
  peers: ProposedPeer[];
  presharedKeys: PresharedPair[];
  issues: ProposalIssue[];
  /** Where it came from, in words. */
  source: string;
}

export interface Choice {
  issueId: string;
  optionId: string;
}

/** What one issue's option did, for the report the adopt answer carries. */
export interface ChoiceOutcome {
  issueId: string;
  kind: IssueKind;
  subject: string;
  optionId: string;
  /** Chosen by the operator (false: the default). */
  chosen: boolean;
  outcome: string;
}

export interface AppliedProposal {
  wan: ProposedWan;
  /** The peers to create (existingPeerId null) or merge into (existingPeerId set: only what is new of it). */
  peers: ProposedPeer[];
  presharedKeys: PresharedPair[];
  report: ChoiceOutcome[];
}
