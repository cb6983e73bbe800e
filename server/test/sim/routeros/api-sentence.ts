// Meaning of the words inside one sentence (routeros.md §1.4): the command word,
// `=name=value` attributes, the `.tag` API attribute and `?` query words. Reply sentences
// are built here too, so the `.tag`-goes-last rule (§8 item 3) lives in one place.
import type { Sentence } from './api-codec.js';

export interface CommandSentence {
  /** e.g. `/interface/wireguard/peers/print`. */
  command: string;
  /** `=name=value` words; a later duplicate wins. */
  attributes: Record<string, string>;
  /** Query words without their leading `?`, in order (order matters, §1.8). */
  queries: string[];
  /** `.tag` value, or undefined when absent or empty (then replies carry no tag). */
  tag: string | undefined;
}

export function parseCommandSentence(words: Sentence): CommandSentence {
  const [command = '', ...rest] = words;
  const attributes: Record<string, string> = {};
  const queries: string[] = [];
  let tag: string | undefined;
  for (const word of rest) {
    if (word.startsWith('=')) {
      // Split on the second `=` only: values may contain `=` (base64 keys do).
      const eq = word.indexOf('=', 1);
      if (eq === -1) attributes[word.slice(1)] = '';
      else attributes[word.slice(1, eq)] = word.slice(eq + 1);
    } else if (word.startsWith('?')) {
      queries.push(word.slice(1));
    } else if (word.startsWith('.tag=')) {
      tag = word.slice('.tag='.length) || undefined;
    }
    // Anything else is ignored, as RouterOS ignores unknown API attributes.
  }
  return { command, attributes, queries, tag };
}

export type ReplyWord = '!re' | '!done' | '!trap' | '!empty';

/** A reply sentence: reply word, attribute words, then `.tag` last when the command was tagged. */
export function replySentence(reply: ReplyWord, attributes: Record<string, string>, tag: string | undefined): string[] {
  const words: string[] = [reply];
  for (const [name, value] of Object.entries(attributes)) words.push(`=${name}=${value}`);
  if (tag !== undefined) words.push(`.tag=${tag}`);
  return words;
}

/** Attribute words of a reply sentence as a record (test and client side). */
export function replyAttributes(sentence: Sentence): Record<string, string> {
  return parseCommandSentence(sentence).attributes;
}
