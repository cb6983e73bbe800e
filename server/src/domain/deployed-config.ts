// A deployment's configuration as text a person can read and compare: the RouterOS script
// for a RouterOS device, the wg-quick file otherwise, rendered from what the deployment
// stored (never from today's overlay). Secrets never appear: every private and preshared key
// is swapped for a stand-in key before rendering and the stand-in shown as ‹secret›, so the
// stored (sealed) values need not be opened at all.
import { diffLines } from 'diff';
import { interfacesOf, withSecretsMapped, type CompiledInterface, type CompiledPeer, type CompiledRemote } from './compiled.js';
import type { WanSpec } from './model.js';
import { renderCompiledPeerRouterOs } from './render/routeros.js';
import { renderCompiledPeerWgQuick, renderWgQuickInterfaces } from './render/wgquick.js';
import { SECRET_MASK } from './secret-masking.js';

/** A valid key no real key is (32 zero bytes), replaced by ‹secret› after rendering. */
export const STAND_IN_KEY = Buffer.alloc(32).toString('base64');
const STAND_IN = STAND_IN_KEY;

function masked(peer: CompiledPeer): CompiledPeer {
  return withSecretsMapped(
    peer,
    (value: CompiledInterface): CompiledInterface => ({ ...value, privateKey: value.privateKey === null ? null : STAND_IN }),
    (list: CompiledRemote[]): CompiledRemote[] => list.map((remote) => ({ ...remote, presharedKey: remote.presharedKey === null ? null : STAND_IN })),
  );
}

export type ConfigFormat = 'routeros' | 'wg-quick';

export function configFormatOf(deviceKind: string | null): ConfigFormat {
  return deviceKind === 'ROUTEROS_API' || deviceKind === 'ROUTEROS_REST' ? 'routeros' : 'wg-quick';
}

/** The peer's configuration as text, secrets shown as ‹secret›. */
export function deployedConfigText(wan: WanSpec, peer: CompiledPeer, format: ConfigFormat): string {
  const shown = masked(peer);
  const overlay = { wan, peers: [shown] };
  const text = format === 'routeros'
    ? renderCompiledPeerRouterOs(overlay, shown, {})
    // A peer with several interfaces (redundant hubs) gets one file each, one after the other.
    : interfacesOf(shown).length > 1
      ? renderWgQuickInterfaces(overlay, shown.peerId).map((file) => `# ${file.name}.conf\n${file.text}`).join('\n\n')
      : renderCompiledPeerWgQuick(overlay, shown);
  return text.split(STAND_IN).join(SECRET_MASK);
}

export interface DiffLine {
  /** "added" (only in the newer), "removed" (only in the older) or "same". */
  change: 'added' | 'removed' | 'same';
  text: string;
}

/** A line diff (jsdiff) of two configurations, every line of both in order. */
export function configDiff(before: string, after: string): DiffLine[] {
  return diffLines(before, after).flatMap((part) => {
    const change = part.added ? 'added' : part.removed ? 'removed' : 'same';
    return part.value.replace(/\n$/, '').split('\n').map((text) => ({ change, text }) as DiffLine);
  });
}
