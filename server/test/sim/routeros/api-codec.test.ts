// Byte-for-byte tests of the binary API codec (routeros.md §1.2, §1.9), including
// prefixes and words split across TCP chunks and several sentences in one chunk.
import { describe, expect, it } from 'vitest';
import {
  ApiCodecError,
  decodeLength,
  encodeLength,
  encodeSentence,
  lengthPrefixSize,
  SentenceDecoder,
} from './api-codec.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('word length prefix', () => {
  // Boundary vectors from routeros.md §1.2 / summary §1.12.
  const vectors: Array<[number, string]> = [
    [0, '00'],
    [5, '05'],
    [0x7f, '7f'],
    [0x80, '80 80'],
    [130, '80 82'],
    [256, '81 00'],
    [0x3fff, 'bf ff'],
    [0x4000, 'c0 40 00'],
    [0x4321, 'c0 43 21'],
    [2097140, 'df ff f4'],
    [0x1fffff, 'df ff ff'],
    [0x200000, 'e0 20 00 00'],
    [0x2acdef, 'e0 2a cd ef'],
    [268435440, 'ef ff ff f0'],
    [0xfffffff, 'ef ff ff ff'],
    [0x10000000, 'f0 10 00 00 00'],
    [0x10000080, 'f0 10 00 00 80'],
  ];

  it.each(vectors)('encodes %i as %s', (length, bytes) => {
    expect(encodeLength(length).toString('hex')).toBe(hex(bytes).toString('hex'));
  });

  it.each(vectors)('decodes %i from %s', (length, bytes) => {
    const prefix = hex(bytes);
    expect(lengthPrefixSize(prefix[0]!)).toBe(prefix.length);
    expect(decodeLength(prefix)).toBe(length);
  });

  it('rejects reserved control bytes (first byte >= 0xF8)', () => {
    for (const first of [0xf8, 0xfc, 0xff]) {
      expect(() => lengthPrefixSize(first)).toThrow(ApiCodecError);
    }
    try {
      lengthPrefixSize(0xf8);
    } catch (error) {
      expect((error as ApiCodecError).code).toBe('RESERVED_CONTROL_BYTE');
    }
  });

  it('refuses negative lengths and lengths beyond four bytes', () => {
    expect(() => encodeLength(-1)).toThrow(ApiCodecError);
    expect(() => encodeLength(0x100000000)).toThrow(ApiCodecError);
  });
});

describe('sentences', () => {
  // routeros.md §1.9: tagged post-6.43 login.
  const login = hex(`
    06 2f 6c 6f 67 69 6e 0b 3d 6e 61 6d 65 3d 61 64
    6d 69 6e 10 3d 70 61 73 73 77 6f 72 64 3d 73 65
    63 72 65 74 06 2e 74 61 67 3d 31 00`);
  const loginWords = ['/login', '=name=admin', '=password=secret', '.tag=1'];

  // routeros.md §1.9: tagged print of WireGuard peers.
  const print = hex(`
    20 2f 69 6e 74 65 72 66 61 63 65 2f 77 69 72 65
    67 75 61 72 64 2f 70 65 65 72 73 2f 70 72 69 6e
    74 2d 3d 2e 70 72 6f 70 6c 69 73 74 3d 2e 69 64
    2c 6e 61 6d 65 2c 70 75 62 6c 69 63 2d 6b 65 79
    2c 6c 61 73 74 2d 68 61 6e 64 73 68 61 6b 65 0e
    3f 69 6e 74 65 72 66 61 63 65 3d 77 67 30 0f 3f
    64 69 73 61 62 6c 65 64 3d 66 61 6c 73 65 06 2e
    74 61 67 3d 37 00`);
  const printWords = [
    '/interface/wireguard/peers/print',
    '=.proplist=.id,name,public-key,last-handshake',
    '?interface=wg0',
    '?disabled=false',
    '.tag=7',
  ];

  it('encodes the reference login and print sentences byte for byte', () => {
    expect(encodeSentence(loginWords).equals(login)).toBe(true);
    expect(encodeSentence(printWords).equals(print)).toBe(true);
  });

  it('encodes the reference replies byte for byte (!empty, !done, !done =ret=)', () => {
    expect(encodeSentence(['!empty', '.tag=7']).toString('hex')).toBe('0621656d70747906' + '2e7461673d3700');
    expect(encodeSentence(['!done', '.tag=7']).toString('hex')).toBe(hex('05 21 64 6f 6e 65 06 2e 74 61 67 3d 37 00').toString('hex'));
    expect(encodeSentence(['!done', '=ret=*A', '.tag=9']).toString('hex')).toBe(
      hex('05 21 64 6f 6e 65 07 3d 72 65 74 3d 2a 41 06 2e 74 61 67 3d 39 00').toString('hex'),
    );
  });

  it('decodes a whole sentence from one chunk', () => {
    expect(new SentenceDecoder().push(login)).toEqual([loginWords]);
  });

  it('decodes several sentences from one chunk', () => {
    const decoder = new SentenceDecoder();
    expect(decoder.push(Buffer.concat([login, print, login]))).toEqual([loginWords, printWords, loginWords]);
    expect(decoder.midSentence).toBe(false);
  });

  it('decodes the same bytes split at every possible position', () => {
    const stream = Buffer.concat([login, print]);
    for (let cut = 1; cut < stream.length; cut += 1) {
      const decoder = new SentenceDecoder();
      const sentences = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(sentences).toEqual([loginWords, printWords]);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const decoder = new SentenceDecoder();
    const sentences = [...Buffer.concat([print, login])].flatMap((byte) => decoder.push(Buffer.from([byte])));
    expect(sentences).toEqual([printWords, loginWords]);
  });

  it('keeps a 256-byte word whose prefix contains 00 (81 00) intact', () => {
    const word = `=comment=${'x'.repeat(256 - '=comment='.length)}`;
    const bytes = encodeSentence(['/ip/address/set', word]);
    expect(bytes.subarray(16, 18).toString('hex')).toBe('8100');
    const decoder = new SentenceDecoder();
    // Split right between the two prefix bytes.
    expect([...decoder.push(bytes.subarray(0, 17)), ...decoder.push(bytes.subarray(17))]).toEqual([['/ip/address/set', word]]);
  });

  it('decodes a 45012-byte word whose 3-byte prefix arrives split (node-routeros receiver test)', () => {
    const word = `=comment=${'lotsofdata!'.repeat(4092)}`;
    const bytes = encodeSentence(['!re', word]);
    const prefixAt = 4; // after 03 "!re"
    expect(bytes.subarray(prefixAt, prefixAt + 3).toString('hex')).toBe(encodeLength(word.length).toString('hex'));
    const decoder = new SentenceDecoder();
    const out = [
      ...decoder.push(bytes.subarray(0, prefixAt + 1)),
      ...decoder.push(bytes.subarray(prefixAt + 1, prefixAt + 2)),
      ...decoder.push(bytes.subarray(prefixAt + 2)),
    ];
    expect(out).toEqual([['!re', word]]);
  });

  it('ignores empty sentences', () => {
    const decoder = new SentenceDecoder();
    expect(decoder.push(Buffer.concat([hex('00 00'), login, hex('00')]))).toEqual([loginWords]);
  });

  it('round-trips non-ASCII bytes unchanged (words are raw bytes, not UTF-8)', () => {
    const raw = Buffer.from([0x3d, 0x63, 0x3d, 0xe9, 0xff]); // "=c=" + two win1252 bytes
    const bytes = Buffer.concat([encodeLength(raw.length), raw, hex('00')]);
    const [sentence] = new SentenceDecoder().push(bytes);
    expect(encodeSentence(sentence!).equals(bytes)).toBe(true);
  });

  it('refuses words above the configured limit before buffering them', () => {
    const decoder = new SentenceDecoder({ maxWordBytes: 10 });
    expect(() => decoder.push(hex('0b'))).toThrow(expect.objectContaining({ code: 'WORD_TOO_LONG' }));
  });
});
