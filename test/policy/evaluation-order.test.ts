/**
 * Which schedule applies (most specific scope wins) and in which order the
 * rules are evaluated: emergency → exception/holiday → weekly hours.
 */
import { describe, expect, it } from 'vitest';
import { decideAt, EVERY_DAY, policyOf } from './helpers.js';

const nineToFive = (id: string, zone = 'Europe/Berlin') => ({ id, timeZone: zone, weekly: EVERY_DAY('09:00-17:00') });

describe('schedule scope: the most specific applicable schedule wins', () => {
  const policy = policyOf({
    schedules: ['g', 'g-sms', 'g-es', 'menu', 'menu-ivr', 'inner', 'leaf', 'leaf-sms', 'leaf-es'].map((id) => nineToFive(id)),
    hours: { schedule: 'g', channels: { sms: 'g-sms' }, languages: { es: 'g-es' } },
    queues: [
      { id: 'top', name: 'Top menu', hours: { schedule: 'menu', channels: { ivr: 'menu-ivr' } } },
      { id: 'inner', name: 'Inner menu', parent: 'top', hours: { schedule: 'inner' } },
      { id: 'leaf', name: 'Leaf', parent: 'inner', hours: { schedule: 'leaf', channels: { sms: 'leaf-sms' }, languages: { es: 'leaf-es' } } },
      { id: 'plain', name: 'Plain leaf', parent: 'inner' },
      { id: 'direct', name: 'Directly under top', parent: 'top' },
      { id: 'lonely', name: 'No menu' },
    ],
  });
  const table: [rule: string, queue: string, channel: 'ivr' | 'sms' | 'chat', language: string | undefined, id: string, scope: string][] = [
    ['the queue\'s channel schedule beats its language and plain schedules', 'leaf', 'sms', 'es', 'leaf-sms', 'queues[leaf].hours.channels.sms'],
    ['the queue\'s language schedule beats its plain schedule', 'leaf', 'ivr', 'es', 'leaf-es', 'queues[leaf].hours.languages.es'],
    ['a language schedule matches a regional tag by its language (es-MX → es)', 'leaf', 'ivr', 'es-MX', 'leaf-es', 'queues[leaf].hours.languages.es'],
    ['the queue\'s plain schedule beats every menu above it, even a menu channel schedule', 'leaf', 'ivr', 'en', 'leaf', 'queues[leaf].hours.schedule'],
    ['a queue without hours takes the nearest menu\'s', 'plain', 'ivr', undefined, 'inner', 'queues[inner].hours.schedule'],
    ['a menu\'s channel schedule applies to queues under it on that channel', 'direct', 'ivr', undefined, 'menu-ivr', 'queues[top].hours.channels.ivr'],
    ['a menu\'s plain schedule applies on other channels', 'direct', 'chat', undefined, 'menu', 'queues[top].hours.schedule'],
    ['global: a channel schedule beats a language schedule', 'lonely', 'sms', 'es', 'g-sms', 'hours.channels.sms'],
    ['global: a language schedule beats the global schedule', 'lonely', 'ivr', 'es', 'g-es', 'hours.languages.es'],
    ['global: the global schedule applies when nothing more specific does', 'lonely', 'ivr', 'en', 'g', 'hours.schedule'],
  ];
  for (const [rule, queue, channel, language, id, scope] of table) {
    it(rule, () => {
      const d = decideAt(policy, queue, '2026-06-03T10:00:00Z', channel, language);
      expect(d.schedule).toEqual({ id, timeZone: 'Europe/Berlin', scope });
    });
  }

  it('no schedule anywhere: the queue is always open', () => {
    const d = decideAt(policyOf({ queues: [{ id: 'q', name: 'Q' }] }), 'q', '2026-06-03T03:00:00Z');
    expect(d).toMatchObject({ open: true, reason: 'no-schedule', schedule: null, nextOpen: null, closesAt: null, action: 'enqueue' });
  });

  it('exception folders named in a queue\'s hours are added to the schedule that applies to it (and only to it)', () => {
    const p = policyOf({
      schedules: [nineToFive('g')],
      exceptions: [{ id: 'inventory', entries: [{ name: 'Inventory day', date: '2026-06-03', closed: true }] }],
      hours: { schedule: 'g' },
      queues: [
        { id: 'store', name: 'Store', hours: { exceptions: ['inventory'] } },
        { id: 'online', name: 'Online' },
      ],
    });
    expect(decideAt(p, 'store', '2026-06-03T10:00:00Z')).toMatchObject({ open: false, reason: 'exception', exception: { folder: 'inventory', name: 'Inventory day' } });
    expect(decideAt(p, 'online', '2026-06-03T10:00:00Z')).toMatchObject({ open: true, exception: null });
  });
});

describe('evaluation order: emergency → exception/holiday → weekly', () => {
  const base = {
    schedules: [{ id: 'week', timeZone: 'America/New_York', weekly: { monday: ['09:00-17:00'], tuesday: ['09:00-17:00'] }, exceptions: ['hol'] }],
    exceptions: [
      {
        id: 'hol',
        entries: [
          { name: 'Closed Monday', date: '2026-06-01', closed: true },
          { name: 'Sunday opening', date: '2026-06-07', hours: ['10:00-12:00'] },
        ],
      },
    ],
    hours: { schedule: 'week' },
    deflection: { calls: { enabled: true, ivr: { option: 'message' } }, messages: { afterHours: { en: { text: 'closed' } } } },
  };
  const q = (extra: Record<string, unknown> = {}) => ({ id: 'q', name: 'Q', ...extra });

  it('an exception beats the weekly hours: a holiday closes a weekly open day', () => {
    const d = decideAt(policyOf({ ...base, queues: [q()] }), 'q', '2026-06-01T10:00:00-04:00');
    expect(d).toMatchObject({ open: false, reason: 'exception', exception: { name: 'Closed Monday' }, nextOpen: '2026-06-02T09:00:00-04:00' });
  });

  it('an exception beats the weekly hours: special hours open a weekly closed day', () => {
    const d = decideAt(policyOf({ ...base, queues: [q()] }), 'q', '2026-06-07T11:00:00-04:00');
    expect(d).toMatchObject({ open: true, reason: 'exception', closesAt: '2026-06-07T12:00:00-04:00' });
  });

  it('an emergency beats an exception: forced open on a holiday', () => {
    const d = decideAt(policyOf({ ...base, queues: [q({ emergency: { force: 'open' } })] }), 'q', '2026-06-01T10:00:00-04:00');
    expect(d).toMatchObject({ open: true, reason: 'emergency', closesAt: null, emergency: { force: 'open', scope: 'queues[q].emergency' } });
  });

  it('an emergency beats the weekly hours: forced closed during opening hours, with its own message', () => {
    const d = decideAt(
      policyOf({ ...base, emergency: { force: 'closed', reason: 'storm', message: { en: { text: 'We are closed because of the storm.' } } }, queues: [q()] }),
      'q',
      '2026-06-02T10:00:00-04:00',
    );
    expect(d).toMatchObject({ open: false, reason: 'emergency', nextOpen: null, action: 'message', emergency: { force: 'closed', scope: 'emergency', reason: 'storm' } });
    expect(d.message).toEqual({ kind: 'prompt', path: 'emergency.message.en', language: 'en', prompt: { text: 'We are closed because of the storm.' } });
  });

  it('an emergency closure with an end reopens at its end when the schedule is open then', () => {
    const d = decideAt(policyOf({ ...base, emergency: { force: 'closed', until: '2026-06-02T13:00:00-04:00' }, queues: [q()] }), 'q', '2026-06-02T10:00:00-04:00');
    expect(d).toMatchObject({ open: false, nextOpen: '2026-06-02T13:00:00-04:00', emergency: { until: '2026-06-02T13:00:00-04:00' } });
  });

  it('an emergency closure with an end reopens at the next scheduled opening after it', () => {
    const d = decideAt(policyOf({ ...base, emergency: { force: 'closed', until: '2026-06-02T18:00:00-04:00' }, queues: [q()] }), 'q', '2026-06-02T10:00:00-04:00');
    expect(d.nextOpen).toBe('2026-06-07T10:00:00-04:00'); // the Sunday special opening
  });

  it('an emergency opening with an end closes at its end when the schedule is closed then', () => {
    const d = decideAt(policyOf({ ...base, queues: [q({ emergency: { force: 'open', until: '2026-06-03T20:00:00Z' } })] }), 'q', '2026-06-03T12:00:00Z');
    expect(d).toMatchObject({ open: true, reason: 'emergency', closesAt: '2026-06-03T16:00:00-04:00' });
  });

  it('an emergency opening that ends inside opening hours stays open until the schedule closes', () => {
    const d = decideAt(policyOf({ ...base, queues: [q({ emergency: { force: 'open', until: '2026-06-02T10:00:00-04:00' } })] }), 'q', '2026-06-02T08:00:00-04:00');
    expect(d.closesAt).toBe('2026-06-02T17:00:00-04:00');
  });

  it('an emergency override lapses at its end: afterwards the schedule decides again', () => {
    const d = decideAt(policyOf({ ...base, emergency: { force: 'closed', until: '2026-06-02T09:30:00-04:00' }, queues: [q()] }), 'q', '2026-06-02T10:00:00-04:00');
    expect(d).toMatchObject({ open: true, reason: 'weekly-hours', emergency: null });
  });

  it('a queue\'s own emergency override beats the global one', () => {
    const d = decideAt(policyOf({ ...base, emergency: { force: 'closed' }, queues: [q({ emergency: { force: 'open' } })] }), 'q', '2026-06-02T10:00:00-04:00');
    expect(d).toMatchObject({ open: true, emergency: { scope: 'queues[q].emergency' } });
  });

  it('a menu\'s emergency override applies to the queues under it', () => {
    const d = decideAt(
      policyOf({ ...base, queues: [{ id: 'menu', name: 'Menu', emergency: { force: 'closed' } }, { id: 'leaf', name: 'Leaf', parent: 'menu' }] }),
      'leaf',
      '2026-06-02T10:00:00-04:00',
    );
    expect(d).toMatchObject({ open: false, reason: 'emergency', emergency: { scope: 'queues[menu].emergency' } });
  });

  it('an emergency closure is not answered by a 24-hour virtual agent: deflection applies', () => {
    const d = decideAt(
      policyOf({ ...base, emergency: { force: 'closed' }, queues: [q({ virtualAgent: { name: 'bot', availability: '24h' } })] }),
      'q',
      '2026-06-02T10:00:00-04:00',
    );
    expect(d.action).toBe('message');
  });
});
