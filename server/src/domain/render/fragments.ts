// Fragments that many configs of one compiled overlay share are rendered once per overlay:
// in a mesh a remote's peer line is the same in every other peer's config, in a hub-spoke
// WAN the hub's is the same in every spoke's. Memos hang off the compiled overlay (a
// WeakMap), so nothing is shared between WANs or outlives the overlay. A fragment is reused
// only while every value it was rendered from is still identical (===): compiled overlays
// are plain data, and a value edited in place after a first rendering must be validated and
// quoted again, never served from the memo. Renderers build fragments with Array.join,
// which yields one flat string: a concatenation stays a rope of small parts in V8, and every
// config that copies the fragment would walk that rope again (measured ~1.7x slower joins).
import type { CompiledRemote } from '../compiled.js';

/**
 * Fragments are kept from the second time a config asks for them: in a hub-spoke WAN most
 * remotes appear in the hub's config alone, and keeping those would only cost memory and
 * time. `null` marks a key seen once.
 */
type Seen<T> = T | null;

/** A fragment that is a function of one string (a route's destination) and the memo's context. */
export class KeyedFragments<T> {
  private readonly rendered = new Map<string, Seen<T>>();

  constructor(private readonly render: (key: string) => T) {}

  get(key: string): T {
    const known = this.rendered.get(key);
    if (known !== undefined && known !== null) return known;
    const value = this.render(key);
    this.rendered.set(key, known === undefined ? null : value);
    return value;
  }
}

/** What a remote was rendered from; AllowedIPs frozen so they cannot change under the memo. */
type RemoteValues = Readonly<Omit<CompiledRemote, 'allowedIps'>> & { readonly allowedIps: readonly string[] };

function valuesOf(remote: CompiledRemote): RemoteValues {
  const { allowedIps } = remote;
  return {
    peerId: remote.peerId,
    name: remote.name,
    publicKey: remote.publicKey,
    presharedKey: remote.presharedKey,
    endpoint: remote.endpoint,
    // Compiled lists are usually frozen and shared; a copy stands in for any other.
    allowedIps: Object.isFrozen(allowedIps) ? allowedIps : Object.freeze([...allowedIps]),
    persistentKeepalive: remote.persistentKeepalive,
  };
}

/** The same elements (===) in the same order. */
export function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameValues(remote: CompiledRemote, values: RemoteValues): boolean {
  return remote.name === values.name && remote.publicKey === values.publicKey && remote.presharedKey === values.presharedKey
    && remote.endpoint === values.endpoint && remote.persistentKeepalive === values.persistentKeepalive
    && sameList(remote.allowedIps, values.allowedIps);
}

/**
 * Variants kept per remote: the peers that carry a remote may differ in the keepalive or
 * preshared key they use with it (peers behind NAT keep the tunnel open, others do not).
 */
const VARIANTS = 4;

/** A fragment rendered from one remote's values, per remote id. */
export class RemoteFragments<T> {
  private readonly rendered = new Map<string, Seen<Array<{ values: RemoteValues; value: T }>>>();

  constructor(private readonly render: (remote: CompiledRemote) => T) {}

  get(remote: CompiledRemote): T {
    const variants = this.rendered.get(remote.peerId);
    if (variants === undefined) {
      this.rendered.set(remote.peerId, null);
      return this.render(remote);
    }
    if (variants) for (const entry of variants) if (sameValues(remote, entry.values)) return entry.value;
    const values = valuesOf(remote);
    // Rendered from the snapshot, so the memo holds exactly what was checked.
    const value = this.render(values as CompiledRemote);
    if (!variants) this.rendered.set(values.peerId, [{ values, value }]);
    else {
      if (variants.length >= VARIANTS) variants.shift();
      variants.push({ values, value });
    }
    return value;
  }
}
