// The API's query language for `print` (routeros.md §1.8): each word pushes a boolean on a
// stack that starts with infinitely many `true`s; `?#` words combine them. An item is
// returned when no `false` is left. REST's `.query` array uses the same words without `?`.
import { RouterOsTrap } from './trap.js';

export type Row = Readonly<Record<string, string>>;

/** Does `row` pass the query words (each without its leading `?`)? */
export function matchesQuery(row: Row, words: readonly string[]): boolean {
  const stack = new QueryStack();
  for (const word of words) {
    if (word.startsWith('#')) stack.run(word.slice(1));
    else stack.push(evaluateTest(row, word));
  }
  return stack.allTrue();
}

function evaluateTest(row: Row, word: string): boolean {
  if (word.startsWith('-')) return !(word.slice(1) in row);
  if (word.startsWith('<') || word.startsWith('>')) {
    const [name, value] = splitNameValue(word.slice(1));
    const actual = row[name];
    if (actual === undefined || value === undefined) return false;
    const order = compareValues(actual, value);
    return word.startsWith('<') ? order < 0 : order > 0;
  }
  const [name, value] = splitNameValue(word.startsWith('=') ? word.slice(1) : word);
  if (value === undefined) return name in row;
  return row[name] === value;
}

function splitNameValue(text: string): [string, string | undefined] {
  const eq = text.indexOf('=');
  return eq === -1 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)];
}

/** Integers compare as numbers, everything else lexically (the reference leaves it open). */
function compareValues(a: string, b: string): number {
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return Math.sign(Number(a) - Number(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

class QueryStack {
  /** Explicit values, top last; below them lie infinitely many `true`s. */
  private values: boolean[] = [];

  push(value: boolean): void {
    this.values.push(value);
  }

  allTrue(): boolean {
    return this.values.every(Boolean);
  }

  private pop(): boolean {
    return this.values.length > 0 ? this.values.pop()! : true;
  }

  private at(indexFromTop: number): boolean {
    const i = this.values.length - 1 - indexFromTop;
    return i >= 0 ? this.values[i]! : true;
  }

  /** Runs the operations of one `?#` word, left to right. */
  run(ops: string): void {
    let afterIndex = false;
    let i = 0;
    while (i < ops.length) {
      const digits = /^\d+/.exec(ops.slice(i));
      if (digits) {
        const value = this.at(Number(digits[0]));
        i += digits[0].length;
        // An index at the end of the word replaces the whole stack with that value.
        if (i === ops.length) this.values = [value];
        else this.push(value);
        afterIndex = true;
        continue;
      }
      const op = ops[i]!;
      if (op === '!') this.push(!this.pop());
      else if (op === '&' || op === '|') {
        // Pop both before combining: `&&`/`||` would skip the second pop.
        const a = this.pop();
        const b = this.pop();
        this.push(op === '&' ? a && b : a || b);
      } else if (op === '.') {
        if (!afterIndex) this.push(this.at(0));
      } else {
        throw new RouterOsTrap('INVALID_VALUE', `invalid query operation ${op}`, 1);
      }
      afterIndex = false;
      i += 1;
    }
  }
}
