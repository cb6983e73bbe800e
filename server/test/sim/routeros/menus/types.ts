// The contract between the generic model (model.ts) and each menu's definition: which
// properties a menu accepts and how it validates them, which fields RouterOS derives,
// and what the menu may ask of the rest of the router.
import type { Row } from '../query.js';
import type { RouterOsVersion } from '../version.js';

/** One row of a menu as stored: settable values (normalised strings) plus runtime state. */
export interface Item {
  readonly id: number;
  props: Record<string, string>;
  /** State RouterOS derives or counts (peer statistics, timestamps); never settable. */
  runtime: Record<string, number | bigint | string | undefined>;
}

/** What menus may look up elsewhere in the router. */
export interface MenuContext {
  readonly version: RouterOsVersion;
  /** Milliseconds, from the model's clock (tests inject one). */
  now(): number;
  readonly bootedAt: number;
  items(menuPath: string): readonly Item[];
  /** Every interface name: physical ones and WireGuard interfaces. */
  interfaceNames(): string[];
  /** Removes rows of another menu (e.g. peers of a removed WireGuard interface). */
  removeWhere(menuPath: string, predicate: (item: Item) => boolean): void;
}

export interface PropertySpec {
  /** Normalises a written value or throws a RouterOsTrap. */
  parse(value: string, name: string, ctx: MenuContext): string;
  /** First version that knows the property (routeros.md §3.5), inclusive. */
  since?: string;
  /** First version that no longer knows it. */
  until?: string;
  /** Accepted but never printed (passwords). */
  writeOnly?: boolean;
  /** Printed as `*****` when the simulator masks secrets. */
  sensitive?: boolean;
  /** Holds an interface name, so renaming the interface rewrites it. */
  interfaceReference?: boolean;
}

export type MenuKind =
  /** Rows can be added and removed. */
  | 'table'
  /** A fixed set of rows that can only be `set` (`/ip/service`). */
  | 'fixed'
  /** One row without `.id` (`/system/identity`). */
  | 'singleton';

export interface MenuSpec {
  readonly path: string;
  readonly kind: MenuKind;
  /** First internal id handed out (routes use `*80000001`). */
  readonly firstId?: number;
  /** Property whose value may stand in for `.id` (routeros.md §1.4). */
  readonly nameKey?: string;
  /** Rows have an order: `add place-before=` and `move` work. */
  readonly ordered?: boolean;
  /** Only `print` works (read-only singletons and state listings). */
  readonly readOnly?: boolean;
  readonly properties: Readonly<Record<string, PropertySpec>>;
  readonly required?: readonly string[];
  /** Values RouterOS fills in on `add` when the client left them out. */
  defaults?(props: Readonly<Record<string, string>>, ctx: MenuContext): Record<string, string>;
  /** Rules across rows, run on add (`self` undefined) and set with the merged values. */
  check?(props: Readonly<Record<string, string>>, self: Item | undefined, ctx: MenuContext): void;
  /** Read-only menus whose rows are other rows seen another way (`/routing/bgp/session`). */
  derive?(ctx: MenuContext): readonly Item[];
  /** Called after a row was removed. */
  afterRemove?(item: Item, ctx: MenuContext): void;
  /** The printed row, `.id` included (the model removes write-only and masks secrets). */
  render(item: Item, ctx: MenuContext): Row;
}
