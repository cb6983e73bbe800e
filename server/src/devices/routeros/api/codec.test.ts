import { describe, expect, it } from 'vitest';
import { SentenceDecoder, WireFormatError, decodeLength, encodeLength, encodeSentence } from './codec.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// ref/routeros.md §1.2 (DOC-API table, GOROS and LIBROS vectors).
const LENGTHS: [number, string][] = [
  [0, '00'], [5, '05'], [0x7f, '7f'], [0x80, '8080'], [130, '8082'], [135, '8087'], [256, '8100'], [0x3fff, 'bfff'],
  [0x4000, 'c04000'], [0x4321, 'c04321'], [2097140, 'dffff4'], [0x1fffff, 'dfffff'], [0x200000, 'e0200000'],
  [0x2acdef, 'e02acdef'], [268435440, 'effffff0'], [0xfffffff, 'efffffff'], [0x10000000, 'f010000000'], [0x10000080, 'f010000080'],
];

// ref/routeros.md §1.9: exact bytes of a tagged login and of router replies.
const LOGIN = '062f6c6f67696e 0b3d6e616d653d61646d696e 103d70617373776f72643d736563726574 062e7461673d31 00';
const PEERS_PRINT = `20 2f696e746572666163652f776972656775617264 2f70656572732f7072696e74
  2d 3d2e70726f706c6973743d2e69642c6e616d652c7075626c69632d6b65792c6c6173742d68616e647368616b65
  0e 3f696e746572666163653d776730 0f 3f64697361626c65643d66616c7365 06 2e7461673d37 00`;
const RE_PEER = `03 217265 07 3d2e69643d2a33 0b 3d6e616d653d7065657231
  38 3d7075626c69632d6b65793d6f5674453 74d796459696c332b4e63536b324f314f5a374a513655 6e546c7461646e6b2b35632b75786b6f3d
  13 3d6c6173742d68616e647368616b653d313473 06 2e7461673d37 00`;
const EMPTY_7 = '06 21656d707479 06 2e7461673d37 00';
const DONE_7 = '05 21646f6e65 06 2e7461673d37 00';
const DONE_RET = '05 21646f6e65 07 3d7265743d2a41 06 2e7461673d39 00';

describe('length prefix', () => {
  it.each(LENGTHS)('encodes %i as %s and decodes it back', (length, bytes) => {
    expect(encodeLength(length).toString('hex')).toBe(bytes);
    expect(decodeLength(hex(bytes))).toEqual({ length, size: bytes.length / 2 });
  });

  it('waits for a prefix split across chunks', () => {
    expect(decodeLength(hex('c043'))).toBeNull();
    expect(decodeLength(hex(''))).toBeNull();
  });

  it('refuses reserved control bytes (>= 0xF8)', () => {
    expect(() => decodeLength(hex('f8'))).toThrow(WireFormatError);
    expect(() => decodeLength(hex('ff00'))).toThrow(WireFormatError);
  });
});

describe('encodeSentence', () => {
  it('writes the reference login bytes', () => {
    expect(encodeSentence(['/login', '=name=admin', '=password=secret', '.tag=1']).toString('hex')).toBe(hex(LOGIN).toString('hex'));
  });

  it('writes the reference WireGuard peers print bytes', () => {
    const words = ['/interface/wireguard/peers/print', '=.proplist=.id,name,public-key,last-handshake', '?interface=wg0', '?disabled=false', '.tag=7'];
    expect(encodeSentence(words).toString('hex')).toBe(hex(PEERS_PRINT).toString('hex'));
  });
});

describe('SentenceDecoder', () => {
  const stream = Buffer.concat([hex(RE_PEER), hex(EMPTY_7), hex(DONE_7), hex(DONE_RET)]);
  const expected = [
    ['!re', '=.id=*3', '=name=peer1', '=public-key=oVtE7MydYil3+NcSk2O1OZ7JQ6UnTltadnk+5c+uxko=', '=last-handshake=14s', '.tag=7'],
    ['!empty', '.tag=7'],
    ['!done', '.tag=7'],
    ['!done', '=ret=*A', '.tag=9'],
  ];

  it('reads the reference replies from one chunk', () => {
    expect(new SentenceDecoder().push(stream)).toEqual(expected);
  });

  it('reads them split at every possible position', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const decoder = new SentenceDecoder();
      expect([...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))]).toEqual(expected);
      expect(decoder.buffered).toBe(0);
    }
  });

  it('reads them one byte at a time', () => {
    const decoder = new SentenceDecoder();
    const sentences: string[][] = [];
    for (const byte of stream) sentences.push(...decoder.push(Buffer.from([byte])));
    expect(sentences).toEqual(expected);
  });

  it('does not take the 00 inside a 256-byte word prefix (81 00) for a terminator', () => {
    const comment = `=comment=${'x'.repeat(256 - 9)}`;
    const bytes = encodeSentence(['!re', comment, '.tag=1']);
    expect(bytes.subarray(4, 6).toString('hex')).toBe('8100');
    expect(new SentenceDecoder().push(bytes)).toEqual([['!re', comment, '.tag=1']]);
  });

  it('reassembles a 45 012-byte word whose 3-byte prefix is split across reads (node-routeros receiver test)', () => {
    const word = `=data=${'lotsofdata!'.repeat(4092)}`.slice(0, 45012);
    const bytes = encodeSentence(['!re', word]);
    const decoder = new SentenceDecoder();
    expect(decoder.push(bytes.subarray(0, 5))).toEqual([]);
    expect(decoder.push(bytes.subarray(5, 6))).toEqual([]);
    expect(decoder.push(bytes.subarray(6))).toEqual([['!re', word]]);
  });

  it('skips empty sentences', () => {
    expect(new SentenceDecoder().push(Buffer.concat([hex('00 00'), hex(DONE_7)]))).toEqual([['!done', '.tag=7']]);
  });

  it('refuses a word longer than its limit', () => {
    expect(() => new SentenceDecoder(100).push(encodeLength(101))).toThrow(/exceeds/);
  });
});
