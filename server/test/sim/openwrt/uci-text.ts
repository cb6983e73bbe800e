// /etc/config/<package> text: what `uci commit` writes (anonymous sections without a name, options
// in order, lists one line per element, values single-quoted) and a reader for it, so seeds can be
// written as the files OpenWrt ships.
import type { UciValue } from './model.js';

/** A section as the file holds it: anonymous ones have no name until a load numbers them. */
export interface StoredSection {
  type: string;
  name: string | null;
  options: Map<string, UciValue>;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderUciText(sections: readonly StoredSection[]): string {
  let text = '';
  for (const section of sections) {
    text += `\nconfig ${section.type}${section.name === null ? '' : ` ${quote(section.name)}`}\n`;
    for (const [option, value] of section.options) {
      if (Array.isArray(value)) for (const item of value) text += `\tlist ${option} ${quote(item)}\n`;
      else text += `\toption ${option} ${quote(value)}\n`;
    }
  }
  return text;
}

/** Splits a line into words the way uci's parser does: '…', "…" and bare words, '\'' joins. */
function words(line: string, lineNo: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    let word = '';
    while (i < line.length && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === "'" || c === '"') {
        const end = line.indexOf(c, i + 1);
        if (end === -1) throw new Error(`uci text line ${lineNo}: unterminated quote`);
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (c === '\\' && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    out.push(word);
  }
  return out;
}

export function parseUciText(text: string): StoredSection[] {
  const sections: StoredSection[] = [];
  text.split('\n').forEach((line, index) => {
    const parts = words(line, index + 1);
    if (parts.length === 0) return;
    const [keyword, first, second] = parts;
    if (keyword === 'package') return;
    if (keyword === 'config') {
      if (!first) throw new Error(`uci text line ${index + 1}: config without a type`);
      sections.push({ type: first, name: second ?? null, options: new Map() });
      return;
    }
    const section = sections.at(-1);
    if (!section || !first || second === undefined) throw new Error(`uci text line ${index + 1}: unexpected "${keyword}"`);
    if (keyword === 'option') section.options.set(first, second);
    else if (keyword === 'list') {
      const old = section.options.get(first);
      section.options.set(first, Array.isArray(old) ? [...old, second] : old === undefined ? [second] : [old, second]);
    } else throw new Error(`uci text line ${index + 1}: unexpected "${keyword}"`);
  });
  return sections;
}
