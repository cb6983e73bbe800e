// The RouterOS binary API wire format (ref/routeros.md §1.2-1.3): a sentence is a list of
// words, each a big-endian length prefix (1-5 bytes) and that many bytes, ended by a
// zero-length word. Pure: no sockets here, so every byte is testable.

/** First bytes from 0xF8 are reserved control bytes; a client cannot continue after one. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

/** Larger words than this are refused: nothing Meshplane reads comes close. */
export const MAX_WORD_BYTES = 16 * 1024 * 1024;

export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffffffff) throw new RangeError(`word length out of range: ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([(length >>> 8) | 0x80, length & 0xff]);
  if (length < 0x200000) return Buffer.from([(length >>> 16) | 0xc0, (length >>> 8) & 0xff, length & 0xff]);
  if (length < 0x10000000) return Buffer.from([(length >>> 24) | 0xe0, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  const buffer = Buffer.alloc(5);
  buffer[0] = 0xf0;
  buffer.writeUInt32BE(length, 1);
  return buffer;
}

/**
 * Decodes a length prefix at `offset`: `{ length, size }`, or null while the prefix is
 * still incomplete (it may be split across TCP chunks).
 */
export function decodeLength(bytes: Uint8Array, offset = 0): { length: number; size: number } | null {
  if (offset >= bytes.length) return null;
  const first = bytes[offset] as number;
  const size = first < 0x80 ? 1 : first < 0xc0 ? 2 : first < 0xe0 ? 3 : first < 0xf0 ? 4 : first < 0xf8 ? 5 : 0;
  if (size === 0) throw new WireFormatError(`reserved control byte 0x${first.toString(16)} in the reply stream`);
  if (offset + size > bytes.length) return null;
  if (size === 5) {
    if (first !== 0xf0) throw new WireFormatError(`invalid length prefix 0x${first.toString(16)}`);
    return { length: Buffer.from(bytes.buffer, bytes.byteOffset + offset + 1, 4).readUInt32BE(0), size };
  }
  const masks = [0, 0x7f, 0x3f, 0x1f, 0x0f];
  let length = first & (masks[size] as number);
  for (let i = 1; i < size; i++) length = length * 256 + (bytes[offset + i] as number);
  return { length, size };
}

/** Words travel as bytes; Meshplane only sends validated ASCII, and reads bytes as latin1. */
export function encodeSentence(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of words) {
    const bytes = Buffer.from(word, 'latin1');
    parts.push(encodeLength(bytes.length), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * Reassembles sentences from arbitrary chunks: a prefix or word may be split anywhere,
 * several sentences may share a chunk. Empty sentences are skipped (§1.3).
 */
export class SentenceDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private words: string[] = [];

  constructor(private readonly maxWordBytes = MAX_WORD_BYTES) {}

  /** Feeds one chunk; returns the sentences it completed, in order. */
  push(chunk: Uint8Array): string[][] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const sentences: string[][] = [];
    let offset = 0;
    // Each pass consumes at least one prefix byte, so the loop ends within the chunk.
    while (offset < this.pending.length) {
      const prefix = decodeLength(this.pending, offset);
      if (prefix === null) break;
      if (prefix.length > this.maxWordBytes) throw new WireFormatError(`word of ${prefix.length} bytes exceeds the ${this.maxWordBytes}-byte limit`);
      const end = offset + prefix.size + prefix.length;
      if (end > this.pending.length) break;
      if (prefix.length === 0) {
        if (this.words.length > 0) sentences.push(this.words);
        this.words = [];
      } else {
        this.words.push(this.pending.toString('latin1', offset + prefix.size, end));
      }
      offset = end;
    }
    this.pending = this.pending.subarray(offset);
    return sentences;
  }

  /** Bytes held back while waiting for the rest of a word. */
  get buffered(): number {
    return this.pending.length;
  }
}
