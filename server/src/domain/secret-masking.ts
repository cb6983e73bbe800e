// One masking policy for every place that renders a device value (plan lines, job logs and
// results, drift, audit details, error messages): which property names hold secrets, in
// every driver's spelling, and how a secret is shown instead of its value. A reviewer sees
// THAT a secret is set or changes, never the value, nor a hash of it (an unsalted hash of a
// low-entropy password can be guessed back).

/**
 * Words that make a property a secret once the name is lower-cased and stripped of
 * separators: RouterOS `private-key`/`preshared-key`/`password`, pfSense `privatekey`/
 * `presharedkey`/`apikey`, OPNsense `privkey`/`psk`, Linux `private-key`/`preshared-key`, Meshplane's own
 * `privateKey`/`presharedKey`/`secret`, and the usual credential names.
 */
const SECRET_WORDS = ['privatekey', 'privkey', 'presharedkey', 'psk', 'password', 'passwd', 'passphrase', 'secret', 'apikey', 'token', 'credential'] as const;

/** Values by which drivers say "no secret here" (Linux "(none)", pfSense "fp:" / "pub:" with nothing after). */
const ABSENT = new Set(['', '(none)', 'none', 'fp:', 'pub:']);

/** The spellings drivers and Meshplane use for secret properties (each passes isSecretProp), for redaction by exact key (pino). */
export const SECRET_PROP_SPELLINGS = [
  'private-key', 'preshared-key', 'privatekey', 'privkey', 'presharedkey', 'privateKey', 'presharedKey', 'psk',
  'password', 'passwd', 'passphrase', 'secret', 'apikey', 'api-key', 'apiKey', 'token',
] as const;

export const SECRET_MASK = '‹secret›';
export const NEW_SECRET_MASK = '‹new secret›';
export const WANTED_SECRET_MASK = '‹wanted secret›';
/** What a known secret found in free text (a device's error message) is replaced with. */
export const REDACTED = '‹redacted›';

/** Whether a property of that name holds a secret, in any driver's spelling. */
export function isSecretProp(name: string): boolean {
  const flat = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_WORDS.some((word) => flat.includes(word));
}

/** A property's value as it may be shown: secrets masked (`mask`), "none" as ∅, others unchanged. */
export function shownValue(prop: string, value: string, mask = SECRET_MASK): string {
  if (!isSecretProp(prop)) return value;
  return ABSENT.has(value.trim()) ? '∅' : mask;
}

/** `prop=value` pairs with secrets masked. */
export function describeProps(props: Record<string, string>): string {
  return Object.entries(props).map(([prop, value]) => `${prop}=${shownValue(prop, value)}`).join(' ');
}

/**
 * One changed property per entry, `prop before <sep> after`, secrets masked: a reviewer sees
 * `private-key ‹secret› → ‹new secret›` (or `∅ → ‹new secret›` when the device shows none).
 */
export function describeChanges(changes: Record<string, string>, before: Record<string, string>, separator: '→' | '≠', newMask = NEW_SECRET_MASK): string[] {
  return Object.entries(changes).map(([prop, value]) => {
    const was = before[prop] ?? '';
    const shownBefore = isSecretProp(prop) ? shownValue(prop, was) : was || '∅';
    return `${prop}${separator === '≠' ? ':' : ''} ${shownBefore} ${separator} ${shownValue(prop, value, newMask) || '∅'}`;
  });
}

/** The values of the secret properties among `records` (e.g. a plan operation's props, changes and before). */
export function secretValues(...records: ReadonlyArray<Record<string, string> | undefined>): string[] {
  const values = new Set<string>();
  for (const record of records) {
    for (const [prop, value] of Object.entries(record ?? {})) if (isSecretProp(prop) && !ABSENT.has(value.trim())) values.add(value);
  }
  return [...values];
}

/** Shorter values are not searched for: masking every "ab" in a message would garble it and hide nothing. */
const MIN_REDACTED_LENGTH = 4;

/**
 * `text` with every occurrence of each known secret replaced by ‹redacted›: as written, as a
 * JSON string escapes it and URL-encoded (how a device may quote a refused value back). The
 * last line of defence for free text (device error messages, job logs) whose source cannot
 * be told to leave the value out.
 */
export function redactSecrets(text: string, secrets: Iterable<string | null | undefined>): string {
  let result = text;
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_REDACTED_LENGTH) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret containing another one is replaced whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form.length >= MIN_REDACTED_LENGTH && result.includes(form)) result = result.split(form).join(REDACTED);
  }
  return result;
}

/** Anything shaped like a WireGuard key (base64 of 32 bytes), inside other text too. */
const KEY_SHAPED = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=(?![A-Za-z0-9+/=])/g;

/**
 * Text from a device or an uploaded file (a PostUp line, a comment) shown back to people: every
 * key-shaped token becomes SECRET_MASK except the public keys named in `shown`. A hook such as
 * `wg set wg0 private-key <(echo …)` must not carry its key into an answer.
 */
export function maskKeys(text: string, shown: ReadonlySet<string> = new Set()): string {
  return text.replace(KEY_SHAPED, (token) => (shown.has(token) ? token : SECRET_MASK));
}
