/** Scheduled-call slots: the next N bookable times inside the queue's hours. */
import { describe, expect, it } from 'vitest';
import { policyOf } from './helpers.js';

const config = (weekly: Record<string, string[]>, queue: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  schedules: [{ id: 's', timeZone: 'America/New_York', weekly }],
  hours: { schedule: 's' },
  deflection: { scheduledCalls: { slotMinutes: 30, leadMinutes: 15, offerCount: 3 } },
  queues: [{ id: 'm', name: 'M', channels: ['mobile', 'web'], scheduledCalls: { enabled: true }, ...queue }],
  ...extra,
});
const starts = (slots: { start: string }[]): string[] => slots.map((s) => s.start);

describe('scheduled-call slots', () => {
  it('slots start at each opening and every slot length after it, and lie entirely inside the interval', () => {
    const p = policyOf(config({ monday: ['09:00-10:15', '13:00-14:00'] }));
    const slots = p.scheduledCallSlots({ queue: 'm', channel: 'mobile', at: new Date('2026-06-07T12:00:00-04:00'), count: 5 });
    expect(slots).toEqual([
      { start: '2026-06-08T09:00:00-04:00', end: '2026-06-08T09:30:00-04:00' },
      { start: '2026-06-08T09:30:00-04:00', end: '2026-06-08T10:00:00-04:00' },
      { start: '2026-06-08T13:00:00-04:00', end: '2026-06-08T13:30:00-04:00' },
      { start: '2026-06-08T13:30:00-04:00', end: '2026-06-08T14:00:00-04:00' },
      { start: '2026-06-15T09:00:00-04:00', end: '2026-06-15T09:30:00-04:00' },
    ]);
  });

  it('the first slot starts at least the lead time from now', () => {
    const p = policyOf(config({ monday: ['09:00-12:00'] }));
    expect(starts(p.scheduledCallSlots({ queue: 'm', channel: 'mobile', at: new Date('2026-06-08T08:50:00-04:00') }))).toEqual([
      '2026-06-08T09:30:00-04:00',
      '2026-06-08T10:00:00-04:00',
      '2026-06-08T10:30:00-04:00',
    ]);
  });

  it('a queue\'s own slot length replaces the global one', () => {
    const p = policyOf(config({ monday: ['09:00-10:00'] }, { scheduledCalls: { enabled: true, slotMinutes: 20 } }));
    expect(starts(p.scheduledCallSlots({ queue: 'm', channel: 'web', at: new Date('2026-06-08T07:00:00-04:00') }))).toEqual([
      '2026-06-08T09:00:00-04:00',
      '2026-06-08T09:20:00-04:00',
      '2026-06-08T09:40:00-04:00',
    ]);
  });

  it('slots are real durations across a spring-forward change (01:00-04:00 lasts two real hours)', () => {
    const p = policyOf(config({ sunday: ['01:00-04:00'] }, { scheduledCalls: { enabled: true, slotMinutes: 60 } }));
    expect(p.scheduledCallSlots({ queue: 'm', channel: 'mobile', at: new Date('2026-03-07T12:00:00-05:00'), count: 3 })).toEqual([
      { start: '2026-03-08T01:00:00-05:00', end: '2026-03-08T03:00:00-04:00' },
      { start: '2026-03-08T03:00:00-04:00', end: '2026-03-08T04:00:00-04:00' },
      { start: '2026-03-15T01:00:00-04:00', end: '2026-03-15T02:00:00-04:00' },
    ]);
  });

  it('no slots during an emergency closure without an end; after its end when it has one', () => {
    const weekly = { monday: ['09:00-10:00'], tuesday: ['09:00-10:00'] };
    const at = new Date('2026-06-08T07:00:00-04:00');
    expect(policyOf(config(weekly, {}, { emergency: { force: 'closed' } })).scheduledCallSlots({ queue: 'm', channel: 'mobile', at })).toEqual([]);
    const until = policyOf(config(weekly, {}, { emergency: { force: 'closed', until: '2026-06-08T12:00:00-04:00' } }));
    expect(starts(until.scheduledCallSlots({ queue: 'm', channel: 'mobile', at, count: 1 }))).toEqual(['2026-06-09T09:00:00-04:00']);
  });

  it('a bad count is refused', () => {
    const p = policyOf(config({ monday: ['09:00-10:00'] }));
    expect(() => p.scheduledCallSlots({ queue: 'm', channel: 'mobile', at: 0, count: 0 })).toThrow(/whole number from 1 to 500/);
  });
});
