/** The streaming pcap reader gives the same records however the file is cut into chunks. */
import { describe, expect, it } from 'vitest';
import { PcapParser } from '../../src/recordings/pcap/pcap-parser.js';
import { PcapWriter } from './support/pcap-writer.js';
import { callerStream, synthStream } from './support/rtp-call.js';

function records(file: Buffer, cuts: (i: number) => number): { time: number; data: string }[] {
  const out: { time: number; data: string }[] = [];
  const p = new PcapParser('test.pcap', (time, buf, start, end) => out.push({ time, data: buf.toString('hex', start, end) }));
  for (let pos = 0, i = 0; pos < file.length; i++) {
    const n = Math.max(1, cuts(i));
    p.push(file.subarray(pos, pos + n));
    pos += n;
  }
  expect(p.end()).toBe(0);
  return out;
}

describe('pcap parser', () => {
  const w = new PcapWriter({ nanosecond: true, bigEndian: true });
  for (const pkt of synthStream(callerStream(), 1_700_000_000_000_000, 30)) w.udp(pkt.time, pkt.udp);
  const file = w.toBuffer();
  const whole = records(file, () => file.length);

  it('reads every record of a file given whole', () => {
    expect(whole).toHaveLength(30);
    expect(whole[1]!.time - whole[0]!.time).toBe(20_000);
  });

  it.each<[string, (i: number) => number]>([
    ['one byte at a time', () => 1],
    ['7-byte pieces', () => 7],
    ['pieces cutting record headers', () => 16 + 3],
    ['irregular pieces', (i) => [1, 23, 24, 200, 5, 17, 1000][i % 7]!],
  ])('gives the same records when fed %s', (_what, cuts) => {
    expect(records(file, cuts)).toEqual(whole);
  });
});
