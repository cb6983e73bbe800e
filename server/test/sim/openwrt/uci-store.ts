// UCI as rpcd drives libuci: committed packages (the /etc/config files) plus one delta log per
// session (/var/run/rpcd/uci-<sid>/). Every call loads the package the way libuci does — parse
// the file, numbering anonymous sections `cfg%02x%04x` from the running section counter and the
// djb2 hash of the type (uci list.c) — then replays that session's deltas by name. A commit
// writes the loaded package back with anonymous sections unnamed, so the next load renumbers
// them: anonymous ids shift when an earlier section goes, exactly as on a router.
import { UBUS, type UciChange, type UciSection } from './model.js';
import { parseUciText, renderUciText, type StoredSection } from './uci-text.js';

export type StoreReply = { status: number; data?: Record<string, unknown> };

const NAME = /^[A-Za-z0-9_]+$/;
const TYPE = /^[A-Za-z0-9_-]+$/;
const EXTENDED = /^@([A-Za-z0-9_-]+)\[(-?\d+)\]$/;

/** uci list.c djbhash over the section type, masked to 31 bits. */
function djb(text: string): number {
  let hash = 5381;
  for (const byte of Buffer.from(text)) hash = (((hash << 5) + hash + byte) >>> 0) & 0x7fffffff;
  return hash;
}

export function anonymousName(counter: number, type: string): string {
  return `cfg${counter.toString(16).padStart(2, '0')}${(djb(type) % 65536).toString(16).padStart(4, '0')}`;
}

/** A package as one load sees it. */
export class LoadedPackage {
  readonly sections: UciSection[] = [];
  /** libuci's n_section: every allocation counts, deletions do not give numbers back. */
  private counter = 0;

  constructor(stored: readonly StoredSection[]) {
    for (const section of stored) {
      this.counter++;
      this.sections.push({
        type: section.type,
        name: section.name ?? anonymousName(this.counter, section.type),
        anonymous: section.name === null,
        options: new Map([...section.options].map(([key, value]) => [key, Array.isArray(value) ? [...value] : value])),
      });
    }
  }

  find(name: string): UciSection | undefined {
    const extended = EXTENDED.exec(name);
    if (extended) {
      const ofType = this.sections.filter((section) => section.type === extended[1]);
      const index = Number(extended[2]);
      return ofType[index < 0 ? ofType.length + index : index];
    }
    return this.sections.find((section) => section.name === name);
  }

  private create(type: string, name: string | null): UciSection {
    this.counter++;
    const section: UciSection = { type, name: name ?? anonymousName(this.counter, type), anonymous: name === null, options: new Map() };
    this.sections.push(section);
    return section;
  }

  /** The name an anonymous `add` gets now (the counter after this allocation). */
  nextAnonymousName(type: string): string {
    return anonymousName(this.counter + 1, type);
  }

  /** Replays one delta; a delta naming a section that is gone is skipped, as libuci does. */
  replay(change: UciChange): void {
    const [op, sectionName] = change;
    const section = this.find(sectionName);
    switch (op) {
      case 'add': {
        // An anonymous add carries the name it got when staged.
        this.counter++;
        this.sections.push({ type: change[2], name: sectionName, anonymous: true, options: new Map() });
        return;
      }
      case 'set': {
        if (change.length === 3) {
          if (section) section.type = change[2];
          else this.create(change[2], sectionName);
          return;
        }
        if (section) section.options.set(change[2], change[3]);
        return;
      }
      case 'list-add': {
        if (!section) return;
        const old = section.options.get(change[2]);
        section.options.set(change[2], old === undefined ? [change[3]] : Array.isArray(old) ? [...old, change[3]] : [old, change[3]]);
        return;
      }
      case 'list-del': {
        const old = section?.options.get(change[2]);
        if (!section || !Array.isArray(old)) return;
        section.options.set(change[2], old.filter((item) => item !== change[3]));
        return;
      }
      case 'remove': {
        if (!section) return;
        if (change.length === 3) section.options.delete(change[2]);
        else this.sections.splice(this.sections.indexOf(section), 1);
        return;
      }
      case 'rename': {
        if (!section) return;
        if (change.length === 3) {
          section.name = change[2];
          section.anonymous = false;
        } else {
          const value = section.options.get(change[2]);
          if (value === undefined) return;
          section.options = new Map([...section.options].map(([key, v]) => (key === change[2] ? [change[3], value] : [key, v])));
        }
        return;
      }
      case 'order': {
        if (!section) return;
        this.sections.splice(this.sections.indexOf(section), 1);
        this.sections.splice(Math.max(0, Math.min(change[2], this.sections.length)), 0, section);
        return;
      }
    }
  }

  /** What `uci commit` writes: anonymous sections lose their load-time names. */
  stored(): StoredSection[] {
    return this.sections.map((section) => ({ type: section.type, name: section.anonymous ? null : section.name, options: new Map(section.options) }));
  }
}

/** rpc_uci_format_blob: strings as given, numbers in decimal, booleans "1"/"0"; anything else is not a value. */
function formatScalar(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return Number.isInteger(value) ? String(value) : String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** rpc_uci_match_section: every `match` option equals (a list option: contains) the given value. */
function matches(section: UciSection, type: unknown, match: unknown): boolean {
  if (typeof type === 'string' && section.type !== type) return false;
  if (!isObject(match)) return true;
  return Object.entries(match).every(([option, wanted]) => {
    const value = section.options.get(option);
    if (value === undefined) return false;
    if (Array.isArray(wanted)) {
      const want = wanted.map(formatScalar);
      return Array.isArray(value) ? want.every((item) => item !== null && value.includes(item)) : false;
    }
    const text = formatScalar(wanted);
    if (text === null) return false;
    return Array.isArray(value) ? value.includes(text) : value === text;
  });
}

function dumpSection(section: UciSection, index: number | null): Record<string, unknown> {
  const out: Record<string, unknown> = { '.anonymous': section.anonymous, '.type': section.type, '.name': section.name };
  if (index !== null) out['.index'] = index;
  for (const [option, value] of section.options) out[option] = Array.isArray(value) ? [...value] : value;
  return out;
}

export interface SectionSelector {
  section?: unknown;
  type?: unknown;
  match?: unknown;
}

export class UciStore {
  private readonly packages = new Map<string, StoredSection[]>();
  private readonly deltas = new Map<string, Map<string, UciChange[]>>();
  /** Called after a package was written (commit, apply, rollback): procd's config.change. */
  onConfigChange: (pkg: string) => void = () => {};
  /** `uci get` of a missing section or option: [0] without data (rpcd) instead of [4]. */
  missingIsEmpty: () => boolean = () => true;

  /** Seeds or replaces a package from /etc/config text. */
  setPackageText(pkg: string, text: string): void {
    this.packages.set(pkg, parseUciText(text));
  }

  setPackage(pkg: string, sections: StoredSection[]): void {
    this.packages.set(pkg, sections.map((section) => ({ ...section, options: new Map(section.options) })));
  }

  hasPackage(pkg: string): boolean {
    return this.packages.has(pkg);
  }

  packageNames(): string[] {
    return [...this.packages.keys()].sort();
  }

  /** The committed file's text (`file.read /etc/config/<pkg>`), or null. */
  packageText(pkg: string): string | null {
    const stored = this.packages.get(pkg);
    return stored === undefined ? null : renderUciText(stored);
  }

  /** The committed sections, as the file holds them (for rollback snapshots). */
  storedPackage(pkg: string): StoredSection[] | null {
    const stored = this.packages.get(pkg);
    return stored === undefined ? null : stored.map((section) => ({ ...section, options: new Map(section.options) }));
  }

  /** A load of `pkg`: committed, plus the deltas of `sid` when given. Null when the package does not exist. */
  load(pkg: string, sid: string | null = null): LoadedPackage | null {
    const stored = this.packages.get(pkg);
    if (stored === undefined) return null;
    const loaded = new LoadedPackage(stored);
    for (const change of sid === null ? [] : this.deltasOf(sid, pkg)) loaded.replay(change);
    return loaded;
  }

  deltasOf(sid: string, pkg: string): UciChange[] {
    return this.deltas.get(sid)?.get(pkg) ?? [];
  }

  /** Packages with staged deltas in this session. */
  changedPackages(sid: string): string[] {
    return [...(this.deltas.get(sid) ?? new Map<string, UciChange[]>())].filter(([, list]) => list.length > 0).map(([pkg]) => pkg).sort();
  }

  /** Replaces the session's deltas for `pkg` (rollback restoring them). */
  setDeltas(sid: string, pkg: string, changes: UciChange[]): void {
    let bySession = this.deltas.get(sid);
    if (!bySession) this.deltas.set(sid, (bySession = new Map()));
    if (changes.length === 0) bySession.delete(pkg);
    else bySession.set(pkg, [...changes]);
  }

  private record(sid: string, pkg: string, changes: UciChange[]): void {
    if (changes.length > 0) this.setDeltas(sid, pkg, [...this.deltasOf(sid, pkg), ...changes]);
  }

  /** The session is gone (logout, expiry): its save directory goes with it. */
  purgeSession(sid: string): void {
    this.deltas.delete(sid);
  }

  /** Writes the session's view of `pkg` as the new committed file and drops its deltas; then config.change. */
  commit(sid: string, pkg: string): void {
    const loaded = this.load(pkg, sid);
    if (loaded === null) return;
    this.packages.set(pkg, loaded.stored());
    this.deltas.get(sid)?.delete(pkg);
    this.onConfigChange(pkg);
  }

  /** Puts a committed file back (rollback) and announces it. */
  restorePackage(pkg: string, sections: StoredSection[]): void {
    this.setPackage(pkg, sections);
    this.onConfigChange(pkg);
  }

  revert(sid: string, pkg: string): void {
    this.deltas.get(sid)?.delete(pkg);
  }

  // ---- rpcd `uci` methods (ACLs are checked by objects/uci.ts) ----

  get(sid: string, pkg: string, args: SectionSelector & { option?: unknown }): StoreReply {
    const loaded = this.load(pkg, sid);
    if (loaded === null) return { status: UBUS.NOT_FOUND };
    const missing: StoreReply = { status: this.missingIsEmpty() ? UBUS.OK : UBUS.NOT_FOUND };
    if (typeof args.section === 'string') {
      const section = loaded.find(args.section);
      if (!section) return missing;
      if (typeof args.option === 'string') {
        const value = section.options.get(args.option);
        if (value === undefined) return missing;
        return { status: UBUS.OK, data: { value: Array.isArray(value) ? [...value] : value } };
      }
      return { status: UBUS.OK, data: { values: dumpSection(section, null) } };
    }
    const values: Record<string, unknown> = {};
    loaded.sections.forEach((section, index) => {
      if (matches(section, args.type, args.match)) values[section.name] = dumpSection(section, index);
    });
    return { status: UBUS.OK, data: { values } };
  }

  add(sid: string, pkg: string, args: { type?: unknown; name?: unknown; values?: unknown }): StoreReply {
    const loaded = this.load(pkg, sid);
    if (loaded === null) return { status: UBUS.NOT_FOUND };
    if (typeof args.type !== 'string' || !TYPE.test(args.type)) return { status: UBUS.INVALID_ARGUMENT };
    if (args.name !== undefined && (typeof args.name !== 'string' || !NAME.test(args.name))) return { status: UBUS.INVALID_ARGUMENT };
    if (args.values !== undefined && !isObject(args.values)) return { status: UBUS.INVALID_ARGUMENT };
    const entries = Object.entries(args.values ?? {});
    for (const [option, value] of entries) {
      if (!NAME.test(option)) return { status: UBUS.INVALID_ARGUMENT };
      if (Array.isArray(value) ? value.some((item) => formatScalar(item) === null) : formatScalar(value) === null) return { status: UBUS.INVALID_ARGUMENT };
    }
    const name = typeof args.name === 'string' ? args.name : loaded.nextAnonymousName(args.type);
    // A named add on an existing section re-types it and merges the values (uci_set on a section).
    const changes: UciChange[] = [typeof args.name === 'string' ? ['set', name, args.type] : ['add', name, args.type]];
    const apply = (change: UciChange) => {
      loaded.replay(change);
      changes.push(change);
    };
    loaded.replay(changes[0]!);
    for (const [option, value] of entries) {
      if (Array.isArray(value)) {
        for (const item of value) apply(['list-add', name, option, formatScalar(item) as string]);
      } else {
        const text = formatScalar(value) as string;
        const section = loaded.find(name);
        if (text === '') {
          if (section?.options.has(option)) apply(['remove', name, option]);
        } else apply(['set', name, option, text]);
      }
    }
    this.record(sid, pkg, changes);
    return { status: UBUS.OK, data: { section: name } };
  }

  private targets(loaded: LoadedPackage, selector: SectionSelector): UciSection[] | number {
    if (selector.section !== undefined) {
      if (typeof selector.section !== 'string') return UBUS.INVALID_ARGUMENT;
      const section = loaded.find(selector.section);
      return section ? [section] : UBUS.NOT_FOUND;
    }
    if (selector.type === undefined && selector.match === undefined) return UBUS.INVALID_ARGUMENT;
    const found = loaded.sections.filter((section) => matches(section, selector.type, selector.match));
    return found.length > 0 ? found : UBUS.NOT_FOUND;
  }

  set(sid: string, pkg: string, args: SectionSelector & { values?: unknown }): StoreReply {
    const loaded = this.load(pkg, sid);
    if (loaded === null) return { status: UBUS.NOT_FOUND };
    if (!isObject(args.values)) return { status: UBUS.INVALID_ARGUMENT };
    const targets = this.targets(loaded, args);
    if (typeof targets === 'number') return { status: targets };
    const changes: UciChange[] = [];
    let status: number = UBUS.OK;
    const apply = (change: UciChange) => {
      loaded.replay(change);
      changes.push(change);
    };
    for (const section of targets) {
      for (const [option, value] of Object.entries(args.values)) {
        if (!NAME.test(option)) {
          status = UBUS.INVALID_ARGUMENT;
          continue;
        }
        const old = section.options.get(option);
        if (Array.isArray(value)) {
          // rpc_uci_merge_set: the option is deleted, then each element added; an empty array
          // leaves the call INVALID_ARGUMENT, and an erroneous call saves nothing.
          if (old !== undefined) apply(['remove', section.name, option]);
          const items = value.map(formatScalar).filter((item): item is string => item !== null);
          if (items.length === 0) status = UBUS.INVALID_ARGUMENT;
          for (const item of items) apply(['list-add', section.name, option, item]);
          continue;
        }
        const text = formatScalar(value);
        if (text === null) {
          status = UBUS.INVALID_ARGUMENT;
          continue;
        }
        if (text === '') {
          if (old !== undefined) apply(['remove', section.name, option]);
        } else if (old !== text) apply(['set', section.name, option, text]);
      }
    }
    if (status === UBUS.OK) this.record(sid, pkg, changes);
    return { status };
  }

  delete(sid: string, pkg: string, args: SectionSelector & { option?: unknown; options?: unknown }): StoreReply {
    const loaded = this.load(pkg, sid);
    if (loaded === null) return { status: UBUS.NOT_FOUND };
    const targets = this.targets(loaded, args);
    if (typeof targets === 'number') return { status: targets };
    const changes: UciChange[] = [];
    for (const section of targets) {
      if (typeof args.option === 'string') {
        if (!section.options.has(args.option)) return { status: UBUS.NOT_FOUND };
        changes.push(['remove', section.name, args.option]);
      } else if (Array.isArray(args.options)) {
        for (const option of args.options) if (typeof option === 'string' && section.options.has(option)) changes.push(['remove', section.name, option]);
      } else changes.push(['remove', section.name]);
    }
    this.record(sid, pkg, changes);
    return { status: UBUS.OK };
  }

  rename(sid: string, pkg: string, args: { section?: unknown; option?: unknown; name?: unknown }): StoreReply {
    const loaded = this.load(pkg, sid);
    if (loaded === null) return { status: UBUS.NOT_FOUND };
    if (typeof args.section !== 'string' || typeof args.name !== 'string' || !NAME.test(args.name)) return { status: UBUS.INVALID_ARGUMENT };
    const section = loaded.find(args.section);
    if (!section) return { status: UBUS.NOT_FOUND };
    if (args.option !== undefined) {
      if (typeof args.option !== 'string') return { status: UBUS.INVALID_ARGUMENT };
      if (!section.options.has(args.option)) return { status: UBUS.NOT_FOUND };
      this.record(sid, pkg, [['rename', section.name, args.option, args.name]]);
    } else {
      if (loaded.find(args.name)) return { status: UBUS.INVALID_ARGUMENT };
      this.record(sid, pkg, [['rename', section.name, args.name]]);
    }
    return { status: UBUS.OK };
  }

  order(sid: string, pkg: string, args: { sections?: unknown }): StoreReply {
    const loaded = this.load(pkg, sid);
    if (loaded === null) return { status: UBUS.NOT_FOUND };
    if (!Array.isArray(args.sections)) return { status: UBUS.INVALID_ARGUMENT };
    const changes: UciChange[] = [];
    let index = 0;
    for (const name of args.sections) {
      const section = typeof name === 'string' ? loaded.find(name) : undefined;
      if (!section) continue;
      const change: UciChange = ['order', section.name, index++];
      loaded.replay(change);
      changes.push(change);
    }
    this.record(sid, pkg, changes);
    return { status: UBUS.OK };
  }

  /** `uci changes`: one package's records, or every package with deltas among `readable`. */
  changes(sid: string, pkg: string | null, readable: (pkg: string) => boolean): StoreReply {
    const copy = (list: UciChange[]) => list.map((change) => [...change]);
    if (pkg !== null) {
      if (!this.packages.has(pkg)) return { status: UBUS.NOT_FOUND };
      return { status: UBUS.OK, data: { changes: copy(this.deltasOf(sid, pkg)) } };
    }
    const all: Record<string, unknown> = {};
    for (const name of this.changedPackages(sid)) if (readable(name)) all[name] = copy(this.deltasOf(sid, name));
    return { status: UBUS.OK, data: { changes: all } };
  }
}
