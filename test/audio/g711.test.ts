import { describe, expect, it } from 'vitest';
import { alawToLinear, decodeG711, encodeG711, linearToAlaw, linearToUlaw, ulawToLinear } from '../../src/audio/g711.js';
import { goertzel, rms, sineTone } from '../../src/audio/analysis.js';

describe('G.711', () => {
  it('µ-law reference points (G.711 table 2a): 0xFF is +0, 0x7F is -0, 0x00 is -32124, 0x80 is +32124', () => {
    expect(ulawToLinear(0xff)).toBe(0);
    expect(ulawToLinear(0x7f)).toBe(0);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(ulawToLinear(0x80)).toBe(32124);
  });

  it('A-law reference points (G.711 table 1a): 0xD5 is +8, 0x55 is -8, 0xAA is +32256, 0x2A is -32256', () => {
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
  });

  it('every code word survives decode → encode unchanged (except µ-law negative zero)', () => {
    for (let b = 0; b < 256; b++) {
      const u = linearToUlaw(ulawToLinear(b));
      if (b === 0x7f) expect(u).toBe(0xff);
      else expect(u).toBe(b);
      expect(linearToAlaw(alawToLinear(b))).toBe(b);
    }
  });

  it('round trip error stays within the quantisation step of each segment', () => {
    for (const law of ['pcmu', 'pcma'] as const) {
      const tone = sineTone(1000, 800, 8000, 12000);
      const back = decodeG711(law, encodeG711(law, tone));
      for (let i = 0; i < tone.length; i++) {
        const x = Math.abs(tone[i]!);
        expect(Math.abs(back[i]! - tone[i]!)).toBeLessThanOrEqual(Math.max(16, x / 16));
      }
    }
  });

  it('payload encoding (lookup tables) gives the computed code word of every 16-bit sample', () => {
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const ulaw = encodeG711('pcmu', all);
    const alaw = encodeG711('pcma', all);
    const mismatches = all.filter((s, i) => ulaw[i] !== linearToUlaw(s) || alaw[i] !== linearToAlaw(s));
    expect(mismatches.length).toBe(0);
    expect(ulaw[32768]).toBe(0xff); // 0 → µ-law +0
  });

  it('clips instead of wrapping on out-of-range input', () => {
    expect(ulawToLinear(linearToUlaw(40000))).toBe(32124);
    expect(ulawToLinear(linearToUlaw(-40000))).toBe(-32124);
    expect(alawToLinear(linearToAlaw(40000))).toBe(32256);
  });
});

describe('signal analysis', () => {
  it('Goertzel finds the tone that is there and not the one that is not', () => {
    const tone = sineTone(440, 1600, 8000, 8000);
    expect(goertzel(tone, 440)).toBeGreaterThan(7000);
    expect(goertzel(tone, 1000)).toBeLessThan(200);
  });

  it('rms of a sine of amplitude A is A/√2', () => {
    expect(rms(sineTone(1000, 8000, 8000, 10000))).toBeCloseTo(10000 / Math.SQRT2, -1);
    expect(rms([])).toBe(0);
  });
});
