// A peer's configuration is stale when what would be rendered for it now differs from
// what it last downloaded or had deployed. The hash covers the whole compiled peer (the
// input of every renderer) in a canonical form, so it changes exactly when some
// rendering of that peer changes, and not because of anything that only concerns others.
import { createHash } from 'node:crypto';
import type { CompiledOverlay } from './compiled.js';
import { findCompiledPeer } from './compile.js';

/** JSON with object keys sorted, so equal data always serialises to equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, entry]) => entry !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
}

/** Hex sha256 of everything rendered for the peer, plus the WAN name its files mention. */
export function configHash(compiled: CompiledOverlay, peerId: string): string {
  // `lans` describes the peer for others (reachability, graphs); no renderer writes it.
  const { lans: _notRendered, ...peer } = findCompiledPeer(compiled, peerId);
  return createHash('sha256').update(canonicalJson({ wan: { id: compiled.wan.id, name: compiled.wan.name }, peer })).digest('hex');
}
