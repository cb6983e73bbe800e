// The one cache of compiled overlay views, shared by GraphQL reads (OverlayReader), config
// downloads, deploy jobs and deployment history. A view is a pure function of its WAN's rows,
// and the database bumps Wan.overlayRevision on every change to those rows (triggers of the
// migration overlay_revision), so a cached view is current while the revision is: a request
// on an unchanged WAN reads one small row. After a change, only the rows the change journal
// (OverlayChange) names are read, patched into the cached rows, and the new view is built
// from its predecessor. Replicas share the database, so each sees the others' changes.
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { DomainError } from '../../domain/errors.js';
import { OverlayView } from './overlay-view.js';
import { loadChangedOverlayRows, loadOverlayRows, overlaySpecFromRows, sortOverlayRows, type OverlayRows } from './overlay-spec.js';

type Reader = Pick<Db, 'wan' | 'peer' | 'subnet' | 'publishedService' | 'presharedKey' | 'device' | 'overlayChange'>;

/** Set (to 1) in the test suite: every view the cache returns is checked against one read and built whole, and a difference throws. */
const VERIFY_ENV = 'MESHPLANE_VERIFY_OVERLAY_CACHE';

/** WANs kept per master key (least recently used leaves first). */
const MAX_WANS = 32;
/** Opened ciphertexts kept per master key: one per peer and per preshared key of the cached WANs, bounded. */
const MAX_OPENED = 50_000;

interface Entry {
  revision: number;
  rows: OverlayRows;
  view: OverlayView;
}

function indexed<T extends { id: string }>(rows: readonly T[]): Map<string, T> {
  return new Map(rows.map((row) => [row.id, row]));
}

/** `open` of a SecretBox that opens each ciphertext once: a changed WAN's new view re-opens none of the keys it kept. */
class OpenedSecrets {
  private readonly opened = new Map<string, string>();

  constructor(private readonly secrets: SecretBox) {}

  open(ciphertext: string): string {
    let plain = this.opened.get(ciphertext);
    if (plain === undefined) {
      plain = this.secrets.open(ciphertext);
      if (this.opened.size >= MAX_OPENED) this.opened.delete(this.opened.keys().next().value as string);
      this.opened.set(ciphertext, plain);
    }
    return plain;
  }

  /** What overlaySpecFromRows takes: only `open` is called. */
  get box(): SecretBox {
    return { open: (ciphertext: string) => this.open(ciphertext) } as unknown as SecretBox;
  }
}

export interface ViewOptions {
  /** The WAN's revision when the caller already read it (with its own row): saves that read. */
  revision?: number;
}

export class OverlayViewCache {
  private readonly entries = new Map<string, Entry>();
  /** One build per WAN at a time: requests arriving meanwhile share it. */
  private readonly building = new Map<string, { revision: number; view: Promise<Entry> }>();
  private readonly opened: OpenedSecrets;
  /** Told of each compile of a view this cache built: set once by the services (the compile counter of /metrics). */
  onCompile: () => void = () => {};

  constructor(private readonly secrets: SecretBox) {
    this.opened = new OpenedSecrets(secrets);
  }

  /** The WAN's current view: the cached one while its revision is unchanged. */
  async view(db: Reader, wanId: string, options: ViewOptions = {}): Promise<OverlayView> {
    const revision = options.revision ?? (await this.revisionOf(db, wanId));
    const cached = this.entries.get(wanId);
    // A view built from rows read after `revision` is as new: a reader that raced a writer got the newer view.
    if (cached && cached.revision >= revision) {
      this.touch(wanId, cached);
      if (verifying()) await this.verify(db, wanId, cached);
      return cached.view;
    }
    const pending = this.building.get(wanId);
    if (pending && pending.revision >= revision) return (await pending.view).view;
    const build = this.build(db, wanId, revision, cached).finally(() => {
      if (this.building.get(wanId)?.view === build) this.building.delete(wanId);
    });
    this.building.set(wanId, { revision, view: build });
    const entry = await build;
    if (verifying()) await this.verify(db, wanId, entry);
    return entry.view;
  }

  private async revisionOf(db: Reader, wanId: string): Promise<number> {
    const wan = await db.wan.findUnique({ where: { id: wanId }, select: { overlayRevision: true } });
    if (!wan) throw new DomainError('NOT_FOUND', 'WAN not found');
    return wan.overlayRevision;
  }

  private touch(wanId: string, entry: Entry): void {
    this.entries.delete(wanId);
    this.entries.set(wanId, entry);
    if (this.entries.size > MAX_WANS) this.entries.delete(this.entries.keys().next().value as string);
  }

  /**
   * The rows are read after `revision` was: they are at least that new, and a change that
   * lands in between is journalled under a later revision, so the next request reads it again.
   */
  private async build(db: Reader, wanId: string, revision: number, cached: Entry | undefined): Promise<Entry> {
    const patched = cached ? await this.patched(db, wanId, cached) : null;
    const rows = patched?.rows ?? (await loadOverlayRows(db, wanId));
    const entry: Entry = {
      revision: Math.max(revision, patched?.revision ?? revision),
      rows,
      // The view it replaces lets the compile redo only what the change touched, and keep the other peers' hashes.
      view: new OverlayView(overlaySpecFromRows(rows, { secrets: this.opened.box }), () => this.onCompile(), cached?.view),
    };
    // A slower build of an older revision must not replace a newer entry.
    const current = this.entries.get(wanId);
    if (current && current.revision > entry.revision) return current;
    this.touch(wanId, entry);
    return entry;
  }

  /**
   * The cached rows brought up to date from the journal entries after the cached revision, or
   * null when the journal no longer reaches back to it (pruned): then the WAN is read whole.
   */
  private async patched(db: Reader, wanId: string, cached: Entry): Promise<{ rows: OverlayRows; revision: number } | null> {
    const changes = await db.overlayChange.findMany({
      where: { wanId, revision: { gt: cached.revision } },
      select: { revision: true, entity: true, entityId: true },
      orderBy: { revision: 'asc' },
    });
    // Each bump journals its own revision: a gap is a pruned (or not yet committed) entry.
    if (changes.length === 0 || changes.some((change, i) => change.revision !== cached.revision + 1 + i)) return null;
    const named = { PEER: new Set<string>(), SUBNET: new Set<string>(), SERVICE: new Set<string>(), PSK: new Set<string>() };
    for (const change of changes) {
      if (change.entity in named) named[change.entity as keyof typeof named].add(change.entityId);
    }
    const fresh = await loadChangedOverlayRows(db, wanId, {
      peers: [...named.PEER], subnets: [...named.SUBNET], services: [...named.SERVICE], presharedKeys: [...named.PSK],
    });
    const peers = indexed(cached.rows.peers);
    const subnets = indexed(cached.rows.subnets);
    const services = indexed(cached.rows.services);
    const presharedKeys = indexed(cached.rows.presharedKeys);
    const replace = <T extends { id: string }>(into: Map<string, T>, ids: Set<string>, rows: readonly T[]) => {
      for (const id of ids) into.delete(id);
      for (const row of rows) into.set(row.id, row);
    };
    replace(peers, named.PEER, fresh.peers);
    replace(subnets, named.SUBNET, fresh.subnets);
    replace(services, named.SERVICE, fresh.services);
    replace(presharedKeys, named.PSK, fresh.presharedKeys);
    // A deleted peer takes its subnets, services and keys with it (a cascade the journal may not name).
    const gone = new Set([...named.PEER].filter((id) => !peers.has(id)));
    if (gone.size > 0) {
      for (const [id, row] of subnets) if (gone.has(row.peerId)) subnets.delete(id);
      for (const [id, row] of services) if (gone.has(row.peerId)) services.delete(id);
      for (const [id, row] of presharedKeys) if (gone.has(row.peerAId) || gone.has(row.peerBId)) presharedKeys.delete(id);
    }
    const rows = sortOverlayRows({
      wan: fresh.wan,
      peers: [...peers.values()],
      subnets: [...subnets.values()],
      services: [...services.values()],
      presharedKeys: [...presharedKeys.values()],
      devices: fresh.devices,
    });
    return { rows, revision: changes.at(-1)!.revision };
  }

  /**
   * Verify mode: the view's spec equals the spec of a whole read made while the revision
   * stayed the entry's (a concurrent change makes the comparison meaningless: skipped).
   */
  private async verify(db: Reader, wanId: string, entry: Entry): Promise<void> {
    const before = await this.revisionOf(db, wanId);
    if (before !== entry.revision) return;
    const rows = await loadOverlayRows(db, wanId);
    if ((await this.revisionOf(db, wanId)) !== before) return;
    const expected = JSON.stringify(overlaySpecFromRows(rows, { secrets: this.secrets }));
    if (JSON.stringify(entry.view.spec) !== expected) {
      throw new Error(`overlay view cache: the cached view of WAN ${wanId} at revision ${entry.revision} differs from its rows (${VERIFY_ENV})`);
    }
  }
}

function verifying(): boolean {
  return process.env[VERIFY_ENV] === '1';
}

const caches = new WeakMap<SecretBox, OverlayViewCache>();

/** The view cache of the views opened with `secrets` (one per master key, as views hold opened keys). */
export function overlayViewCache(secrets: SecretBox): OverlayViewCache {
  let cache = caches.get(secrets);
  if (!cache) {
    cache = new OverlayViewCache(secrets);
    caches.set(secrets, cache);
  }
  return cache;
}

/** The WAN's current overlay view, from the cache of `secrets`. */
export function overlayView(db: Reader, secrets: SecretBox, wanId: string, options: ViewOptions = {}): Promise<OverlayView> {
  return overlayViewCache(secrets).view(db, wanId, options);
}
