import { describe, expect, it } from 'vitest';
import { parseAttribute, parseReply } from './reply.js';

describe('parseReply', () => {
  it('splits attributes on the second = only, and reads a word without one as empty', () => {
    expect(parseAttribute('=name=iu=c3Eeg')).toEqual(['name', 'iu=c3Eeg']);
    expect(parseAttribute('=comment=')).toEqual(['comment', '']);
    expect(parseAttribute('=only-key')).toEqual(['only-key', '']);
    expect(parseReply(['!re', '=tx-byte=123456789', '=only-key']).attributes).toEqual({ 'tx-byte': '123456789', 'only-key': '' });
  });

  it('finds the tag wherever it is in the sentence', () => {
    expect(parseReply(['!re', '.tag=chnl-1', '=.id=*1']).tag).toBe('chnl-1');
    expect(parseReply(['!trap', '=category=2', '=message=interrupted', '.tag=2'])).toMatchObject({ type: '!trap', tag: '2', attributes: { category: '2', message: 'interrupted' } });
    expect(parseReply(['!done']).tag).toBeNull();
  });

  it('keeps the bare reason word of !fatal and flags unknown reply words', () => {
    expect(parseReply(['!fatal', 'session terminated on request'])).toMatchObject({ type: '!fatal', other: ['session terminated on request'] });
    expect(parseReply(['!xxx']).type).toBe('unknown');
    expect(parseReply(['!empty', '.tag=5'])).toMatchObject({ type: '!empty', tag: '5' });
  });
});
