// Counts in messages people read (job steps, errors): "1 change", "2 changes", never "change(s)".

const rules = new Intl.PluralRules('en');

/** `n` with its noun in the right number; irregular plurals are passed as `plural`. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${rules.select(n) === 'one' ? singular : plural}`;
}
