import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { bdecode, bencode, bencodeToText, BencodeError, type BencodeValue } from '../../src/media/ng/bencode.js';

const text = (v: BencodeValue): string => bencode(v).toString('latin1');

describe('bencode (BEP 3 "bencoding")', () => {
  it('encodes strings, integers, lists and dictionaries as BEP 3 spells them', () => {
    expect(text('spam')).toBe('4:spam');
    expect(text('')).toBe('0:');
    expect(text(3)).toBe('i3e');
    expect(text(-3)).toBe('i-3e');
    expect(text(0)).toBe('i0e');
    expect(text(['spam', 'eggs'])).toBe('l4:spam4:eggse');
    expect(text({ cow: 'moo', spam: 'eggs' })).toBe('d3:cow3:moo4:spam4:eggse');
  });

  it('"keys must be strings and appear in sorted order" (sorted as raw bytes)', () => {
    expect(text({ zeta: 1, alpha: 2, 'call-id': 'x', B: 3 })).toBe('d1:Bi3e5:alphai2e7:call-id1:x4:zetai1ee');
  });

  it('string lengths count UTF-8 bytes, not characters', () => {
    expect(text('é')).toBe(`2:${Buffer.from('é', 'utf8').toString('latin1')}`);
  });

  it('leaves out undefined dictionary entries (optional request fields)', () => {
    expect(text({ a: 'x', b: undefined })).toBe('d1:a1:xe');
  });

  it('carries binary data unchanged (an inline WAV blob)', () => {
    const blob = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const decoded = bdecode(bencode({ blob, command: 'play media' })) as Record<string, Buffer>;
    expect(Buffer.compare(decoded.blob!, blob)).toBe(0);
  });

  it('refuses values bencode cannot carry, naming where they are', () => {
    expect(() => bencode({ a: { b: 1.5 } })).toThrow(/a\.b is 1\.5/);
    expect(() => bencode([true as unknown as string])).toThrow(BencodeError);
    expect(() => bencode(null as unknown as string)).toThrow(/null/);
  });

  it.each([
    ['i12', 'unterminated integer'],
    ['i-0e', 'malformed integer'],
    ['i03e', 'malformed integer'],
    ['5:abc', 'runs past the end'],
    ['l4:spam', 'unterminated list'],
    ['d3:cow3:moo', 'unterminated dictionary'],
    ['di1e3:mooe', 'dictionary key is not a string'],
    ['4:spamX', 'trailing bytes'],
    ['x', 'unexpected byte'],
    ['-1:a', 'cannot be negative'],
    ['', 'unexpected end'],
  ])('rejects malformed input %j (%s) with a typed error', (input, why) => {
    let caught: unknown;
    try {
      bdecode(Buffer.from(input, 'latin1'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BencodeError);
    expect((caught as BencodeError).code).toBe(ErrorCodes.RTPENGINE_PROTOCOL);
    expect((caught as Error).message).toContain(why);
  });

  it('refuses nesting deep enough to exhaust the stack', () => {
    expect(() => bdecode(Buffer.from(`${'l'.repeat(100)}${'e'.repeat(100)}`))).toThrow(/nesting deeper/);
  });

  it('a "__proto__" key from the wire stays plain data', () => {
    const decoded = bencodeToText(bdecode(Buffer.from('d9:__proto__d1:xi1eee'))) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('round-trips any value (property)', () => {
    const value: fc.Arbitrary<BencodeValue> = fc.letrec<{ v: BencodeValue }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        expect(bencodeToText(bdecode(bencode(v)))).toEqual(v);
      }),
      { numRuns: 300 },
    );
  });
});
