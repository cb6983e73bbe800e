// The one way a value enters a RouterOS script. Strings are always double-quoted with
// RouterOS's escapes, so nothing inside can end the string, substitute a variable ($),
// start a command ([ ]) inside an expression, or break the line; numbers must be
// non-negative safe integers.

const NAMED_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  $: '\\$',
  '?': '\\?',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function escapeCharacter(character: string): string {
  const named = NAMED_ESCAPES[character];
  if (named !== undefined) return named;
  // Other control characters and anything beyond ASCII: RouterOS's \HH byte escape
  // (two upper-case hex digits). Non-ASCII text is reduced to "?" first, as the API
  // and the console disagree about its encoding.
  const code = character.charCodeAt(0);
  return code > 0x7e ? '\\?' : `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Any character outside printable ASCII, or one of " $ ? \ (the complement of what passes as is). */
const NEEDS_ESCAPE = /[^\x20\x21\x23\x25-\x3e\x40-\x5b\x5d-\x7e]/;

export function rosValue(value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a RouterOS integer: ${value}`);
    return String(value);
  }
  const text = String(value);
  // Almost every value (tags, keys, addresses, names) needs no escape: one test of the
  // whole string is much cheaper than running the replacing regex over it.
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  return `"${text.replace(/[\\"$?\x00-\x1f\x7f-\uffff]/g, escapeCharacter)}"`;
}
