// Wire codec of the RouterOS binary API (routeros.md §1.2–1.3): length-prefixed words,
// sentences ended by a zero-length word. Pure: no sockets, no model. Words are raw bytes
// held as latin1 strings so whatever a client sends (node-routeros speaks win1252) is
// echoed back byte for byte; the length always counts bytes.

export type Sentence = readonly string[];

export type ApiCodecErrorCode = 'RESERVED_CONTROL_BYTE' | 'WORD_TOO_LONG' | 'SENTENCE_TOO_LONG';

export class ApiCodecError extends Error {
  constructor(
    readonly code: ApiCodecErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCodecError';
  }
}

/** Largest word the 5-byte form can carry (MikroTik only supports 4-byte lengths, §1.2). */
const MAX_WORD_LENGTH = 0xffffffff;

export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_WORD_LENGTH) {
    throw new ApiCodecError('WORD_TOO_LONG', `word length ${length} cannot be encoded`);
  }
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([(length >>> 8) | 0x80, length & 0xff]);
  if (length < 0x200000) return Buffer.from([(length >>> 16) | 0xc0, (length >>> 8) & 0xff, length & 0xff]);
  if (length < 0x10000000) {
    return Buffer.from([(length >>> 24) | 0xe0, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  }
  const out = Buffer.alloc(5);
  out[0] = 0xf0;
  out.writeUInt32BE(length, 1);
  return out;
}

/** How many bytes the length prefix starting with `first` occupies. */
export function lengthPrefixSize(first: number): number {
  if (first < 0x80) return 1;
  if ((first & 0xc0) === 0x80) return 2;
  if ((first & 0xe0) === 0xc0) return 3;
  if ((first & 0xf0) === 0xe0) return 4;
  if (first === 0xf0) return 5;
  throw new ApiCodecError('RESERVED_CONTROL_BYTE', `reserved control byte 0x${first.toString(16)} in length prefix`);
}

/** Decodes a complete length prefix (`prefix.length === lengthPrefixSize(prefix[0])`). */
export function decodeLength(prefix: Uint8Array): number {
  const size = lengthPrefixSize(prefix[0]!);
  const b = (i: number) => prefix[i]!;
  switch (size) {
    case 1:
      return b(0);
    case 2:
      return ((b(0) & 0x3f) << 8) | b(1);
    case 3:
      return ((b(0) & 0x1f) << 16) | (b(1) << 8) | b(2);
    case 4:
      return (b(0) & 0x0f) * 0x1000000 + ((b(1) << 16) | (b(2) << 8) | b(3));
    default:
      return Buffer.from(prefix).readUInt32BE(1);
  }
}

export function encodeWord(word: string): Buffer {
  const body = Buffer.from(word, 'latin1');
  return Buffer.concat([encodeLength(body.length), body]);
}

export function encodeSentence(words: Sentence): Buffer {
  return Buffer.concat([...words.map(encodeWord), Buffer.from([0])]);
}

export interface SentenceDecoderOptions {
  /** Refuse words longer than this (a misbehaving peer could otherwise make us buffer gigabytes). */
  maxWordBytes?: number;
  /** Refuse sentences with more words than this. */
  maxWords?: number;
}

/**
 * Incremental decoder: feed it TCP chunks of any size, get whole sentences back.
 * A length prefix or a word may span chunks; a `00` inside a prefix (e.g. `81 00`)
 * is never mistaken for a terminator. Empty sentences are dropped (§1.3).
 */
export class SentenceDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private words: string[] = [];
  private readonly maxWordBytes: number;
  private readonly maxWords: number;

  constructor(options: SentenceDecoderOptions = {}) {
    this.maxWordBytes = options.maxWordBytes ?? 64 * 1024 * 1024;
    this.maxWords = options.maxWords ?? 10_000;
  }

  push(chunk: Uint8Array): Sentence[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const sentences: Sentence[] = [];
    let offset = 0;
    // Each pass consumes one whole word or stops; bounded by the bytes available.
    while (offset < this.pending.length) {
      const size = lengthPrefixSize(this.pending[offset]!);
      if (offset + size > this.pending.length) break;
      const length = decodeLength(this.pending.subarray(offset, offset + size));
      if (length > this.maxWordBytes) {
        throw new ApiCodecError('WORD_TOO_LONG', `word of ${length} bytes exceeds the limit of ${this.maxWordBytes}`);
      }
      if (offset + size + length > this.pending.length) break;
      const start = offset + size;
      offset = start + length;
      if (length === 0) {
        if (this.words.length > 0) sentences.push(this.words);
        this.words = [];
        continue;
      }
      if (this.words.length >= this.maxWords) {
        throw new ApiCodecError('SENTENCE_TOO_LONG', `sentence has more than ${this.maxWords} words`);
      }
      this.words.push(this.pending.toString('latin1', start, offset));
    }
    this.pending = this.pending.subarray(offset);
    return sentences;
  }

  /** True while a sentence or a word is only partly received. */
  get midSentence(): boolean {
    return this.pending.length > 0 || this.words.length > 0;
  }
}
