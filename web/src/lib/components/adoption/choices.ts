// The operator's answers to a proposal, and what adopt() is sent: one option per issue they
// chose (the rest take their default on the server) and only the names/roles they changed.
import type { AdoptionChoiceInput, AdoptionPeerOverrideInput, PeerRole } from '$lib/gql/graphql';

export interface PeerOverride {
  name?: string;
  role?: PeerRole;
}

interface IssueLike {
  id: string;
  needsChoice: boolean;
  options: ReadonlyArray<{ id: string }>;
}

/** Issues whose default is only a guess and that have no choice yet: adopting waits for them. */
export function choicesMissing<T extends IssueLike>(issues: readonly T[], choices: Record<string, string>): T[] {
  return issues.filter((issue) => issue.needsChoice && !issue.options.some((option) => option.id === choices[issue.id]));
}

export function adoptAnswers(
  proposal: { issues: readonly IssueLike[]; peers: ReadonlyArray<{ id: string; name: string; role: PeerRole }> },
  choices: Record<string, string>,
  overrides: Record<string, PeerOverride>,
): { choices: AdoptionChoiceInput[]; peers: AdoptionPeerOverrideInput[] } {
  const chosen = proposal.issues.flatMap((issue) => {
    const optionId = choices[issue.id];
    return optionId && issue.options.some((option) => option.id === optionId) ? [{ issueId: issue.id, optionId }] : [];
  });
  const peers = proposal.peers.flatMap((peer) => {
    const override = overrides[peer.id];
    const name = override?.name?.trim();
    const changedName = name && name !== peer.name ? name : undefined;
    const changedRole = override?.role && override.role !== peer.role ? override.role : undefined;
    return changedName || changedRole ? [{ id: peer.id, ...(changedName ? { name: changedName } : {}), ...(changedRole ? { role: changedRole } : {}) }] : [];
  });
  return { choices: chosen, peers };
}
