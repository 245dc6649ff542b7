/**
 * Monitor tickets (src/engine/monitor-tickets.ts): 256 random bits in a SIP
 * URI's user part, usable once, until they expire, forgotten with their call.
 */
import { describe, expect, it } from 'vitest';
import { MonitorTickets } from '../../src/engine/monitor-tickets.js';

function tickets(): { t: MonitorTickets<{ callId: string; ttlMs: number; user: string }>; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return { t: new MonitorTickets(() => clock.now), clock };
}

describe('monitor tickets', () => {
  it('a ticket is 43 base64url characters (256 bits), different every time, and names its call in the SIP URI', () => {
    const { t } = tickets();
    const a = t.issue({ callId: 'c1', ttlMs: 30_000, user: 'sam' });
    const b = t.issue({ callId: 'c1', ttlMs: 30_000, user: 'sam' });
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.token, 'base64url')).toHaveLength(32);
    expect(a.token).not.toBe(b.token);
    expect(a.expiresAt).toBe(1_000_000 + 30_000);
    expect(t.claim(`sip:monitor-${a.token}@127.0.0.1:5066;transport=ws`)).toEqual({ kind: 'valid', ticket: { callId: 'c1', ttlMs: 30_000, user: 'sam' } });
  });

  it('works once: the second INVITE with the same URI is refused as spent (used), naming its ticket, until the ticket would have expired', () => {
    const { t, clock } = tickets();
    const a = t.issue({ callId: 'c1', ttlMs: 30_000, user: 'sam' });
    expect(t.claim(`sip:monitor-${a.token}@h`).kind).toBe('valid');
    expect(t.size).toBe(0);
    expect(t.claim(`sip:monitor-${a.token}@h`)).toEqual({ kind: 'spent', why: 'used', ticket: { callId: 'c1', ttlMs: 30_000, user: 'sam' } });
    clock.now += 30_000;
    expect(t.claim(`sip:monitor-${a.token}@h`)).toMatchObject({ kind: 'spent', why: 'used' });
    expect(t.claim(`sip:monitor-${a.token}@h`).kind).toBe('unknown');
  });

  it('expires: at its expiry it is refused as spent (expired) once, then unknown, and the table forgets it', () => {
    const { t, clock } = tickets();
    const a = t.issue({ callId: 'c1', ttlMs: 5_000, user: 'sam' });
    const b = t.issue({ callId: 'c1', ttlMs: 5_000, user: 'sam' });
    clock.now += 4_999;
    expect(t.claim(`sips:monitor-${a.token}@h`).kind).toBe('valid');
    clock.now += 1;
    expect(t.claim(`sip:monitor-${b.token}@h`)).toMatchObject({ kind: 'spent', why: 'expired' });
    expect(t.claim(`sip:monitor-${b.token}@h`).kind).toBe('unknown');
    t.issue({ callId: 'c2', ttlMs: 5_000, user: 'sam' });
    clock.now += 5_000;
    t.sweep();
    expect(t.size).toBe(0);
  });

  it("a call's end forgets its tickets and only its tickets", () => {
    const { t } = tickets();
    const a = t.issue({ callId: 'c1', ttlMs: 30_000, user: 'sam' });
    const b = t.issue({ callId: 'c2', ttlMs: 30_000, user: 'sam' });
    t.sweep('c1');
    expect(t.claim(`sip:monitor-${a.token}@h`).kind).toBe('unknown');
    expect(t.claim(`sip:monitor-${b.token}@h`).kind).toBe('valid');
  });

  it('tells tickets from other calls: a guessed, altered or truncated token is unknown; other users are not tickets', () => {
    const { t } = tickets();
    const a = t.issue({ callId: 'c1', ttlMs: 30_000, user: 'sam' });
    const altered = `${a.token.slice(0, -1)}${a.token.endsWith('A') ? 'B' : 'A'}`;
    expect(t.claim(`sip:monitor-${altered}@h`).kind).toBe('unknown');
    expect(t.claim(`sip:monitor-${a.token.slice(1)}@h`).kind).toBe('unknown');
    expect(t.claim('sip:monitor-x@h').kind).toBe('unknown');
    expect(t.claim('sip:1000@h').kind).toBe('not-a-ticket');
    expect(t.claim('sip:monitor@h').kind).toBe('not-a-ticket');
    expect(t.claim('tel:+15551230000').kind).toBe('not-a-ticket');
    // The guesses did not use up the real one.
    expect(t.claim(`sip:MONITOR-${a.token}@h`).kind).toBe('valid');
  });
});
