// The building blocks of an idempotent RouterOS script: lines, tagged upserts per menu,
// and the removal of tagged items a run no longer writes. Every value goes through
// rosValue; tag bases only ever contain [A-Za-z0-9_:-].
import { sameList } from './fragments.js';
import { rosValue } from './routeros-quote.js';

export type Properties = Record<string, string | number>;

/** `key="value" key=123 ...` in the object's key order. */
export function properties(props: Properties): string {
  let text = '';
  for (const key in props) text += `${text === '' ? '' : ' '}${key}=${rosValue(props[key] as string | number)}`;
  return text;
}

/** The script's lines; text() joins them once into one flat string. */
export class Script {
  private readonly lines: string[] = [];

  /** One line, or several joined by "\n" (a memoised fragment). */
  line(line: string): void {
    this.lines.push(line);
  }

  text(): string {
    // A last empty line gives the final newline inside the one join: appending it to the
    // joined text would make a rope that each reader flattens again.
    this.lines.push('');
    return this.lines.join('\n');
  }
}

/** A menu of managed items, and what is derived from its tag base once per script context. */
export interface Menu {
  readonly path: string;
  /** Every item's tag starts with `${tagBase}:`. */
  readonly tagBase: string;
  /** `[<path>/find where comment~"^<tagBase>:"]`: every item tagged for this menu. */
  readonly findTagged: string;
}

export function menu(path: string, tagBase: string): Menu {
  // The tag base only contains [A-Za-z0-9_-:], so it is literal inside the regex.
  return { path, tagBase, findTagged: `[${path}/find where comment~${rosValue(`^${tagBase}:`)}]` };
}

/** The quoted comment tag of a managed item. */
export function quotedTag(menu: Menu, key: string): string {
  return rosValue(`${menu.tagBase}:${key}`);
}

/** An upsert line of one item without its body: `${head}${body}${middle}${body} }`. */
export interface UpsertParts {
  readonly head: string;
  readonly middle: string;
}

export function upsertParts(menu: Menu, tag: string): UpsertParts {
  const find = `[${menu.path}/find where comment=${tag}]`;
  return { head: `:if ([:len ${find}] = 0) do={ ${menu.path}/add `, middle: ` comment=${tag} } else={ ${menu.path}/set ${find} ` };
}

/** Adds the item if no item has its tag, otherwise sets it in place. */
export function upsertLine(menu: Menu, tag: string, body: string): string {
  const { head, middle } = upsertParts(menu, tag);
  return `${head}${body}${middle}${body} }`;
}

/** A line (or lines) upserting one item, with the item's quoted tag. */
export interface RenderedItem {
  readonly tag: string;
  readonly lines: string;
}

/**
 * The items a menu section of the previous script held, in one script context: in a
 * hub-spoke WAN every spoke writes the same peers, routes and firewall sections, so the
 * section is joined once, on its first repeat, and reused while the items stay the same
 * objects (memoised items are never changed; items rendered afresh never match).
 */
export class RepeatedSection {
  items: readonly RenderedItem[] = [];
  text: string | null = null;
}

/** The section's lines: the menu, its items, and the removal of tagged items it no longer has. */
function sectionLines(menu: Menu, items: readonly RenderedItem[]): string[] {
  const lines = [menu.path];
  for (const item of items) lines.push(item.lines);
  if (items.length === 0) {
    lines.push(`${menu.path}/remove ${menu.findTagged}`);
  } else {
    const wanted = items.map((item) => item.tag).join(';');
    lines.push(`:foreach i in=${menu.findTagged} do={ :if ([:typeof [:find {${wanted}} [${menu.path}/get $i comment]]] = "nil") do={ ${menu.path}/remove $i } }`);
  }
  return lines;
}

/** Collects one menu's items, tagging every item it manages; end() writes the section. */
export class MenuWriter {
  private readonly items: RenderedItem[] = [];

  constructor(private readonly script: Script, private readonly menu: Menu, private readonly previous: RepeatedSection) {}

  /** Adds the item if no item has its tag, otherwise sets it in place. */
  upsert(key: string, props: Properties | string): void {
    const tag = quotedTag(this.menu, key);
    this.items.push({ tag, lines: upsertLine(this.menu, tag, typeof props === 'string' ? props : properties(props)) });
  }

  /** An item rendered before for this menu. */
  write(item: RenderedItem): void {
    this.items.push(item);
  }

  /** Firewall rules go first so an existing drop rule cannot shadow them; `comment` is a line written before. */
  upsertFirst(key: string, props: Properties, comment: string): void {
    const { path } = this.menu;
    const firstRule = `([${path}/find where !dynamic]->0)`;
    const tag = quotedTag(this.menu, key);
    const find = `[${path}/find where comment=${tag}]`;
    const body = properties(props);
    const add = `${path}/add ${body} comment=${tag}`;
    const line = `:if ([:len ${find}] = 0) do={ :if ([:len [${path}/find where !dynamic]] = 0) do={ ${add} } else={ ${add} place-before=${firstRule} } } else={ ${path}/set ${find} ${body} }`;
    this.items.push({ tag, lines: `${comment}\n${line}` });
  }

  /** Writes the menu, its items, and the removal of tagged items not written in this run. */
  end(): void {
    const { previous, items } = this;
    if (sameList(previous.items, items)) {
      previous.text ??= sectionLines(this.menu, items).join('\n');
      this.script.line(previous.text);
      return;
    }
    previous.items = items;
    previous.text = null;
    for (const line of sectionLines(this.menu, items)) this.script.line(line);
  }
}
