// JSON.parse rounds integers above 2^53: WireGuard byte counters of long-lived tunnels
// exceed that. The named integer fields are quoted in the text before it is parsed.

function escaped(field: string): string {
  return field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The text with every `"<field>":<integer>` of the named fields turned into `"<field>":"<integer>"`. */
export function quoteCounters(text: string, fields: readonly string[]): string {
  if (fields.length === 0) return text;
  const names = fields.map(escaped).join('|');
  return text.replace(new RegExp(`"(${names})"\\s*:\\s*(-?\\d+)(?=\\s*[,}\\]])`, 'g'), '"$1":"$2"');
}
