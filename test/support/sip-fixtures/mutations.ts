/** Seeded edits of valid SIP messages, as a broken or hostile sender would make them (for fuzz tests). */
import fc from 'fast-check';

/** Edits a message the way a broken or hostile sender would: flip, insert, delete, duplicate a line, truncate. */
export const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('dupline' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('special' as const), at: fc.nat(), text: fc.constantFrom(' ', '\t', '\r', '\n', '\r\n', '\r\n ', ':', ';', ',', '"', '<', '>', '\\', '%', '\x00', '\x7f', '\u00ff', '=', '@', '[', ']') }),
);

export type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

export function mutate(buf: Buffer, edits: readonly Mutation[]): Buffer {
  let b = Buffer.from(buf);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    if (e.kind === 'flip' && b.length > 0) b[at % b.length] = e.value;
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
    else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
    else if (e.kind === 'truncate') b = b.subarray(0, at);
    else if (e.kind === 'special') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.text, 'latin1'), b.subarray(at)]);
    else if (e.kind === 'dupline') {
      const start = b.lastIndexOf(0x0a, at) + 1;
      const end = b.indexOf(0x0a, at);
      if (end > start) b = Buffer.concat([b.subarray(0, end + 1), b.subarray(start, end + 1), b.subarray(end + 1)]);
    }
  }
  return b;
}
