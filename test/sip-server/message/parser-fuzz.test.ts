/**
 * Seeded property tests: whatever bytes arrive, the parser and the framer
 * return a verdict instead of throwing, a refusal's reason is safe to put in a
 * Reason-Phrase, and whatever the parser accepts it can write back out and
 * read again to the same meaning (RFC 3261 §7: serialization is lossless for
 * what the server relies on).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/sip-server/message/parser.js';
import { serialize } from '../../../src/sip-server/message/sip-message.js';
import { StreamFramer } from '../../../src/sip-server/message/stream-framer.js';
import { offline, requestBytes, responseBytes } from '../../support/sip-fixtures/builder.js';
import { mutate, mutation } from '../../support/sip-fixtures/mutations.js';
import { VALID_CASES } from '../../support/sip-fixtures/valid-cases.js';

/** Reason-Phrase characters (RFC 3261 §25.1) restricted to what our reasons use: printable ASCII without quotes or escapes. */
const REASON_SAFE = /^[A-Za-z0-9 ,\-()*]+$/;

const seeds: Buffer[] = [
  requestBytes(offline('z1'), { method: 'INVITE', extra: ['Content-Type: application/sdp'], body: 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n' }),
  responseBytes(offline('z2'), { start: 'SIP/2.0 180 Ringing' }),
  ...VALID_CASES.slice(0, 6).map((tc) => tc.build(offline('z3'))),
];

function checkVerdict(buf: Buffer, stream: boolean): boolean {
  const r = parseMessage(buf, { stream, maxBytes: 65535 });
  if (!r.ok) {
    expect(r.reason).toMatch(REASON_SAFE);
    expect([400, 505, 513]).toContain(r.status);
    return true;
  }
  // What was accepted survives a write and a re-read with the same meaning.
  const again = parseMessage(serialize(r.message), { stream: true });
  expect(again.ok, again.ok ? '' : again.reason).toBe(true);
  if (again.ok) {
    expect(again.info).toEqual(r.info);
    expect(again.message.body.equals(r.message.body)).toBe(true);
    // serialize always writes one Content-Length, computed from the body; every other field is kept as it was.
    const fields = (m: typeof r.message): string[][] => m.headers.fields.filter((f) => f.key !== 'content-length').map((f) => [f.key, f.value]);
    expect(fields(again.message)).toEqual(fields(r.message));
    expect(again.message.headers.get('content-length')).toBe(String(r.message.body.length));
  }
  return true;
}

describe('the parser never throws and keeps what it accepts (seeded fuzz)', () => {
  it('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => checkVerdict(Buffer.from(bytes), false)),
      { seed: 3261, numRuns: 2000 },
    );
  });

  it('arbitrary text built from SIP-ish pieces', () => {
    const piece = fc.constantFrom('INVITE ', 'SIP/2.0', ' 200 OK', 'sip:', '@', 'example.org', ':5060', ';tag=', ';branch=z9hG4bK', 'Via: ', 'From: ', 'To: ', 'Call-ID: ', 'CSeq: 1 INVITE', 'l: ', '0', '9', '\r\n', '\n', ' ', '"', '<', '>', ',');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (parts) => checkVerdict(Buffer.from(parts.join('')), false)),
      { seed: 4475, numRuns: 2000 },
    );
  });

  it('mutations of valid messages, as datagrams and as stream messages', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (i, edits, stream) =>
        checkVerdict(mutate(seeds[i]!, edits), stream),
      ),
      { seed: 5118, numRuns: 3000 },
    );
  });
});

describe('the stream framer never throws and never loses bytes (seeded fuzz)', () => {
  it('arbitrary chunks: every message it returns is a prefix-exact slice of the input', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
        const framer = new StreamFramer(2048);
        const input = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        let consumed = Buffer.alloc(0);
        for (const c of chunks) {
          for (const e of framer.push(Buffer.from(c))) if (e.type === 'message') consumed = Buffer.concat([consumed, e.data]);
        }
        // Messages come out in order and unchanged: with CR/LF runs removed, their bytes appear in the input in order.
        const strip = (b: Buffer): string => b.toString('latin1').replace(/[\r\n]/g, '');
        expect(strip(input).startsWith(strip(consumed))).toBe(true);
      }),
      { seed: 5626, numRuns: 1500 },
    );
  });

  it('mutated valid messages framed from one read or byte by byte give the same events', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, edits) => {
        const wire = Buffer.concat([mutate(seeds[i]!, edits), seeds[0]!]);
        const whole = new StreamFramer(4096).push(wire);
        const byByte = new StreamFramer(4096);
        const pieces = [];
        for (let k = 0; k < wire.length; k++) pieces.push(...byByte.push(wire.subarray(k, k + 1)));
        expect(pieces.map((e) => (e.type === 'message' ? e.data.toString('latin1') : e.type))).toEqual(whole.map((e) => (e.type === 'message' ? e.data.toString('latin1') : e.type)));
      }),
      { seed: 18, numRuns: 400 },
    );
  });
});
