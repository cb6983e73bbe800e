// One reply sentence from the router, parsed (ref/routeros.md §1.4-1.5): the reply word,
// its `.tag`, its attribute words, and for `!fatal` the bare reason word.

export type ReplyType = '!re' | '!done' | '!trap' | '!fatal' | '!empty';

export interface Reply {
  type: ReplyType | 'unknown';
  /** The reply word as received (useful when it is unknown). */
  word: string;
  tag: string | null;
  attributes: Record<string, string>;
  /** Words that are neither attributes nor the tag, e.g. the reason after `!fatal`. */
  other: string[];
}

const KNOWN = new Set<string>(['!re', '!done', '!trap', '!fatal', '!empty']);

/** Splits `=name=value` on the second `=` only: values may contain `=` (§1.4). */
export function parseAttribute(word: string): [string, string] | null {
  if (!word.startsWith('=')) return null;
  const split = word.indexOf('=', 1);
  return split === -1 ? [word.slice(1), ''] : [word.slice(1, split), word.slice(split + 1)];
}

export function parseReply(words: readonly string[]): Reply {
  const [word = '', ...rest] = words;
  const reply: Reply = { type: KNOWN.has(word) ? (word as ReplyType) : 'unknown', word, tag: null, attributes: {}, other: [] };
  // The tag may be anywhere in the sentence (the doc puts it last, other captures second).
  for (const item of rest) {
    if (item.startsWith('.tag=')) {
      reply.tag = item.slice(5);
      continue;
    }
    const attribute = parseAttribute(item);
    if (attribute) reply.attributes[attribute[0]] = attribute[1];
    else reply.other.push(item);
  }
  return reply;
}
