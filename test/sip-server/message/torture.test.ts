/**
 * RFC 4475-style torture cases against the parser and the stream framer: the
 * valid-but-strange ones parse (as a datagram and as a stream), the invalid
 * ones are refused with the right status and, when they can be answered, with
 * headers a response can be built from.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/sip-server/message/parser.js';
import { StreamFramer } from '../../../src/sip-server/message/stream-framer.js';
import { offline } from '../../support/sip-fixtures/builder.js';
import type { TortureCase } from '../../support/sip-fixtures/cases.js';
import { INVALID_REQUESTS, INVALID_RESPONSES } from '../../support/sip-fixtures/invalid-cases.js';
import { VALID_CASES, VALID_RESPONSES } from '../../support/sip-fixtures/valid-cases.js';

const ctx = offline('torture1');

/** Frames bytes as a TCP stream would deliver them, in one read. */
function frame(buf: Buffer): ReturnType<StreamFramer['push']> {
  return new StreamFramer(65535).push(buf);
}

function checkDatagram(tc: TortureCase): void {
  const buf = tc.build(ctx);
  const r = parseMessage(buf, { maxBytes: 65535 });
  if (tc.expect.kind === 'accept') {
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    return;
  }
  expect(r.ok).toBe(false);
  if (r.ok) return;
  if (tc.expect.kind === 'refuse') {
    expect(r.status, r.reason).toBe(tc.expect.status);
    expect(r.request, 'the refusal carries headers to answer from').toBeDefined();
    expect(r.request!.method).not.toBe('ACK');
    expect(r.request!.headers.has('via')).toBe(true);
  } else {
    // Dropped: nothing a response could be built from, or an ACK, or no Via to answer to.
    const answerable = r.request !== undefined && r.request.method !== 'ACK' && r.request.headers.has('via');
    expect(answerable, r.reason).toBe(false);
  }
}

function checkStream(tc: TortureCase): void {
  if (tc.stream === 'skip') return;
  const events = frame(tc.build(ctx));
  const outcome = tc.stream ?? tc.expect;
  const closes = tc.stream?.closes ?? false;
  if (closes) {
    const err = events.find((e) => e.type === 'error');
    expect(err, 'a framing error').toBeDefined();
    if (err?.type === 'error' && outcome.kind === 'refuse') {
      expect(err.status).toBe(outcome.status);
      expect(err.head, 'the header section, to answer from').toBeDefined();
    }
    return;
  }
  const messages = events.filter((e) => e.type === 'message');
  expect(messages.length).toBe(1);
  const m = messages[0]!;
  if (m.type !== 'message') return;
  const r = parseMessage(m.data, { stream: true, maxBytes: 65535 });
  if (outcome.kind === 'accept') expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  else expect(r.ok).toBe(false);
  if (!r.ok && outcome.kind === 'refuse') expect(r.status).toBe(outcome.status);
}

describe('valid but strange requests parse (RFC 4475 §3.1.1, §3.2, §3.3)', () => {
  it.each(VALID_CASES.map((c) => [c.name, c] as const))('%s', (_name, tc) => {
    checkDatagram(tc);
    checkStream(tc);
  });

  it('the tortuous request yields the values its folded, spaced fields carry', () => {
    const r = parseMessage(VALID_CASES[0]!.build(ctx));
    if (!r.ok || r.message.kind !== 'request') throw new Error('expected a request');
    expect(r.info.cseq).toBe(7);
    expect(r.info.cseqMethod).toBe('OPTIONS');
    expect(r.info.fromTag).toBe(`f${ctx.id}`);
    expect(r.info.via.transport).toBe('UDP');
    expect(r.info.via.host).toBe(ctx.host);
    expect(r.info.via.port).toBe(ctx.port);
    expect(r.info.via.branch).toBe(`z9hG4bK${ctx.id}`);
    expect(r.message.headers.entries('via')).toHaveLength(3);
    expect(r.message.headers.get('max-forwards')).toBe('0069');
    expect(r.message.headers.get('subject')).toBe('');
    expect(r.message.headers.get('x-folded')).toBe('first part second part');
    expect(r.message.body.length).toBe(0);
  });

  it('the extra datagram bytes after Content-Length are not part of the body (RFC 3261 §18.3)', () => {
    const tc = VALID_CASES.find((c) => c.unseenCallId !== undefined)!;
    const r = parseMessage(tc.build(ctx));
    if (!r.ok) throw new Error(r.reason);
    expect(r.message.body.length).toBe(0);
    expect(r.info.callId).not.toBe(tc.unseenCallId!(ctx));
  });
});

describe('valid but strange responses parse (RFC 4475 §3.1.1.12, §3.1.1.13, §3.3.10)', () => {
  it.each(VALID_RESPONSES.map((c) => [c.name, c] as const))('%s', (_name, tc) => {
    checkDatagram(tc);
    checkStream(tc);
  });

  it('an empty reason phrase is kept empty and the code is read exactly', () => {
    const r = parseMessage(VALID_RESPONSES[1]!.build(ctx));
    if (!r.ok || r.message.kind !== 'response') throw new Error('expected a response');
    expect(r.message.status).toBe(100);
    expect(r.message.reason).toBe('');
  });
});

describe('invalid requests are refused with the right status (RFC 4475 §3.1.2, §3.3)', () => {
  it.each(INVALID_REQUESTS.map((c) => [c.name, c] as const))('%s', (_name, tc) => {
    checkDatagram(tc);
    checkStream(tc);
  });
});

describe('invalid responses are dropped (RFC 4475 §3.1.2.5, §3.1.2.19)', () => {
  it.each(INVALID_RESPONSES.map((c) => [c.name, c] as const))('%s', (_name, tc) => {
    checkDatagram(tc);
    checkStream(tc);
  });
});

describe('what a refusal offers to answer from', () => {
  it('duplicated single-value headers are reduced to the first copy, so the 400 is itself well-formed (RFC 3261 §8.2.6.2)', () => {
    const tc = INVALID_REQUESTS.find((c) => c.name.startsWith('two CSeq'))!;
    const r = parseMessage(tc.build(ctx));
    if (r.ok || r.request === undefined) throw new Error('expected an answerable refusal');
    expect(r.request.headers.values('cseq')).toEqual(['1 OPTIONS']);
  });

  it('reasons quote no received text, so they are safe in a Reason-Phrase (RFC 3261 §25.1 Reason-Phrase)', () => {
    for (const tc of [...INVALID_REQUESTS, ...INVALID_RESPONSES]) {
      const r = parseMessage(tc.build(ctx));
      if (r.ok) continue;
      expect(r.reason, tc.name).toMatch(/^[A-Za-z0-9 ,\-()*]+$/);
    }
  });
});
