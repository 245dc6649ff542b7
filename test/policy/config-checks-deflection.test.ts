/**
 * Configuration mistakes in references, emergency overrides and deflection,
 * each with the message an operator sees, and the one message that lists them
 * all. (Schedules and exceptions: config-checks-schedules.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { loadConfigObject, loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { createPolicy, policyConfigChecks } from '../../src/policy/index.js';
import { problemsOf } from './helpers.js';

const sched = (extra: Record<string, unknown> = {}) => ({ id: 's', timeZone: 'Europe/Berlin', weekly: { monday: ['09:00-17:00'] }, ...extra });
const msgs = { afterHours: { en: { text: 'closed' } }, voicemailGreeting: { en: { text: 'leave a message' } } };

describe('references', () => {
  it('unknown schedules and exception folders, with suggestions', () => {
    expect(
      problemsOf({
        schedules: [sched({ exceptions: ['holiday', 'holidays'] })],
        exceptions: [{ id: 'holidays', entries: [] }],
        hours: { schedule: 'ss', channels: { sms: 'nope' }, exceptions: ['holidayz'] },
      }),
    ).toEqual([
      'schedules[0].exceptions[0]: unknown exception folder "holiday" (did you mean "holidays"?); folders: holidays',
      'hours.schedule: unknown schedule "ss" (did you mean "s"?); schedules: s',
      'hours.channels.sms: unknown schedule "nope"; schedules: s',
      'hours.exceptions[0]: unknown exception folder "holidayz" (did you mean "holidays"?); folders: holidays',
    ]);
  });

  it('duplicate ids and a folder listed twice', () => {
    expect(problemsOf({ schedules: [sched({ exceptions: ['f', 'f'] }), sched()], exceptions: [{ id: 'f', entries: [] }, { id: 'f', entries: [] }] })).toEqual([
      'schedules[0].exceptions[1]: exception folder "f" is listed twice',
      'schedules[1].id: duplicate schedule id "s" (also schedules[0])',
      'exceptions[1].id: duplicate exception folder id "f" (also exceptions[0])',
    ]);
  });

  it('a language key that is not a language tag, and a message without the default language', () => {
    expect(problemsOf({ schedules: [sched()], hours: { languages: { Spanish: 's' } }, deflection: { messages: { afterHours: { de: { text: 'zu' } }, voicemailGreeting: { EN: { text: 'x' } } } } })).toEqual([
      'hours.languages.Spanish: "Spanish" is not a language tag such as en, en-US or id',
      'deflection.messages.afterHours: has no entry for the default language "en" (deflection.defaultLanguage), which other languages fall back to',
      'deflection.messages.voicemailGreeting.EN: "EN" is not a language tag such as en, en-US or id (lower-case language first)',
    ]);
  });

  it('a queue schedule for a channel the queue does not serve', () => {
    expect(problemsOf({ schedules: [sched()], queues: [{ id: 'e', name: 'E', channels: ['ivr'], hours: { channels: { sms: 's' } } }] })).toEqual([
      'queues[0].hours.channels.sms: queue "e" does not serve sms (its channels: ivr)',
    ]);
  });

  it('exception folders on a queue that no schedule gives a time zone', () => {
    expect(problemsOf({ exceptions: [{ id: 'f', entries: [{ name: 'x', date: '12-25', closed: true }] }], queues: [{ id: 'q', name: 'Q', channels: ['ivr', 'sms'], hours: { exceptions: ['f'] } }] })).toEqual([
      'queues[0].hours.exceptions: queue "q" gets exception folders (f) but no schedule applies to it (on ivr, sms), so their dates have no time zone; give it a schedule (00:00-24:00 every day for a 24-hour queue)',
    ]);
  });

  it('scheduled calls on a queue without hours', () => {
    expect(problemsOf({ queues: [{ id: 'm', name: 'M', channels: ['mobile'], scheduledCalls: { enabled: true } }] })).toEqual([
      'queues[0].scheduledCalls: scheduled calls need hours, but no schedule applies to this queue on mobile',
    ]);
  });

  it('a broken queue tree: loop, unknown parent, duplicate id, own parent', () => {
    expect(
      problemsOf({
        queues: [
          { id: 'a', name: 'A', parent: 'b' },
          { id: 'b', name: 'B', parent: 'a' },
          { id: 'c', name: 'C', parent: 'bb' },
          { id: 'c', name: 'C again' },
          { id: 'd', name: 'D', parent: 'd' },
        ],
      }),
    ).toEqual([
      'queues[0].parent: the parent chain loops: a → b → a; a queue tree needs a root menu',
      'queues[2].parent: unknown parent queue "bb" (did you mean "b"?)',
      'queues[3].id: duplicate queue id "c" (also queues[2])',
      'queues[4].parent: queue "d" is its own parent',
    ]);
  });
});

describe('emergency overrides', () => {
  it('an end that is not a real instant, and a message on a forced opening', () => {
    expect(problemsOf({ emergency: { force: 'open', until: '2026-02-30T10:00:00Z', message: { en: { text: 'x' } } } })).toEqual([
      'emergency.until: "2026-02-30T10:00:00Z": 2026-02 has no day 30',
      'emergency.message: a message is only played while forced closed; remove it or use force: closed',
    ]);
  });

  it('an end without an offset is refused by the schema', () => {
    expect(problemsOf({ emergency: { force: 'closed', until: '2026-12-24T18:00' } })).toEqual([
      'emergency.until: expected an ISO-8601 instant with an offset, such as 2026-12-24T18:00:00-05:00, got "2026-12-24T18:00"',
    ]);
  });
});

describe('deflection settings', () => {
  it('an override on a web queue', () => {
    expect(problemsOf({ deflection: { messages: msgs }, queues: [{ id: 'w', name: 'W', channels: ['web'], deflection: { ivr: { option: 'message' } } }] })).toEqual([
      'queues[0].deflection: queue "w" is a web queue; web has no per-queue deflection (the global deflection.calls.sdk settings apply)',
    ]);
  });

  it('a web override key does not exist', () => {
    expect(problemsOf({ queues: [{ id: 'w', name: 'W', deflection: { web: {} } }] })).toEqual([
      'queues[0].deflection: unknown setting "web"; allowed: ivr, mobile, sms',
    ]);
  });

  it('an override on a channel the queue does not serve, and on a menu', () => {
    expect(
      problemsOf({
        deflection: { messages: msgs },
        queues: [
          { id: 'menu', name: 'M', channels: ['ivr'], deflection: { ivr: { option: 'voicemail' } } },
          { id: 'leaf', name: 'L', parent: 'menu', channels: ['ivr'], deflection: { sms: { afterHoursText: { en: 'closed' } } } },
        ],
      }),
    ).toEqual([
      'queues[0].deflection: "menu" is a menu (leaf under it); per-queue deflection is for leaf queues',
      'queues[1].deflection.sms: queue "leaf" does not serve sms (its channels: ivr), so this override never applies',
    ]);
  });

  it('a deflection to a queue that does not exist', () => {
    expect(problemsOf({ deflection: { messages: msgs }, queues: [{ id: 'billing', name: 'B', deflection: { ivr: { option: 'queue', queue: 'overflw' } } }, { id: 'overflow', name: 'O' }] })).toEqual([
      'queues[0].deflection.ivr.queue: unknown queue "overflw" (did you mean "overflow"?)',
    ]);
  });

  it('a deflection to the queue itself', () => {
    expect(problemsOf({ queues: [{ id: 'billing', name: 'B', deflection: { mobile: { redirectQueue: 'billing' } } }] })).toEqual([
      'queues[0].deflection.mobile.redirectQueue: queue "billing" deflects to itself; choose another queue or another option',
    ]);
  });

  it('a deflection to a menu, or to a queue that does not take that channel', () => {
    expect(
      problemsOf({
        deflection: { messages: msgs, calls: { enabled: true, ivr: { option: 'queue', queue: 'menu' } } },
        queues: [{ id: 'menu', name: 'M' }, { id: 'leaf', name: 'L', parent: 'menu', deflection: { ivr: { option: 'queue', queue: 'sms' } } }, { id: 'sms', name: 'S', channels: ['sms'] }],
      }),
    ).toEqual([
      'deflection.calls.ivr.queue: "menu" is a menu (leaf under it), not a leaf queue that takes contacts',
      'queues[1].deflection.ivr.queue: queue "sms" does not serve ivr (its channels: sms)',
    ]);
  });

  it('a cycle of queue-to-queue deflection', () => {
    expect(
      problemsOf({
        queues: [
          { id: 'x', name: 'X', channels: ['ivr'], deflection: { ivr: { option: 'queue', queue: 'y' } } },
          { id: 'y', name: 'Y', channels: ['ivr'], deflection: { ivr: { option: 'queue', queue: 'z' } } },
          { id: 'z', name: 'Z', channels: ['ivr'], deflection: { ivr: { option: 'queue', queue: 'x' } } },
        ],
      }),
    ).toEqual(['queues[0].deflection.ivr.queue: closed ivr contacts would be deflected round in a circle: x → y → z → x']);
  });

  it('a cycle of mobile redirects', () => {
    expect(
      problemsOf({
        queues: [
          { id: 'm1', name: 'M1', channels: ['mobile'], deflection: { mobile: { redirectQueue: 'm2' } } },
          { id: 'm2', name: 'M2', channels: ['mobile'], deflection: { mobile: { redirectQueue: 'm1' } } },
        ],
      }),
    ).toEqual(['queues[0].deflection.mobile.redirectQueue: closed mobile contacts would be deflected round in a circle: m1 → m2 → m1']);
  });

  it('the global deflection queue has nowhere to send its own calls when it is closed', () => {
    expect(problemsOf({ deflection: { calls: { enabled: true, ivr: { option: 'queue', queue: 'night' } } }, queues: [{ id: 'night', name: 'N' }, { id: 'day', name: 'D' }] })).toEqual([
      'deflection.calls.ivr.queue: queue "night" takes the closed calls of every queue, but when it is closed itself the same setting would send its calls to itself; give it its own deflection.ivr override (e.g. voicemail or message)',
    ]);
  });

  it('a phone number that is not E.164', () => {
    expect(problemsOf({ deflection: { calls: { ivr: { option: 'phoneNumber', phoneNumber: '030 1234567' } } } })).toEqual([
      'deflection.calls.ivr.phoneNumber: expected an E.164 number such as +15551234567 (+, then 2 to 15 digits, the first not 0), got "030 1234567"',
    ]);
  });

  it('a mobile queue with both a redirect queue and other options', () => {
    expect(
      problemsOf({
        supportCenter: { email: 'help@example.com' },
        queues: [
          { id: 'm', name: 'M', channels: ['mobile'], deflection: { mobile: { redirectQueue: 'm2', options: ['voicemail', 'email'] } } },
          { id: 'm2', name: 'M2', channels: ['mobile'] },
        ],
      }),
    ).toEqual(['queues[0].deflection.mobile: give either redirectQueue or options, not both: a consumer redirected to a queue cannot also get voicemail and email']);
  });

  it('a mobile override with neither a redirect queue nor options', () => {
    expect(problemsOf({ queues: [{ id: 'm', name: 'M', channels: ['mobile'], deflection: { mobile: { options: [] } } }] })).toEqual([
      'queues[0].deflection.mobile: give redirectQueue, or options with at least one of scheduledCall, email, phoneNumber, voicemail',
    ]);
  });

  it('an option without what it needs: queue, phone number, email address, scheduled calls, messages', () => {
    expect(
      problemsOf({
        deflection: { calls: { enabled: true, ivr: { option: 'queue' }, sdk: { options: ['phoneNumber', 'email'] } }, chat: { enabled: true } },
        queues: [
          { id: 'm', name: 'M', channels: ['mobile'], deflection: { mobile: { options: ['scheduledCall'] } } },
          { id: 'v', name: 'V', channels: ['ivr'], deflection: { ivr: { option: 'voicemail' } } },
          { id: 'x', name: 'X', channels: ['ivr'], deflection: { ivr: { option: 'message' } } },
        ],
      }),
    ).toEqual([
      'deflection.calls.ivr.queue: option queue needs the queue to send calls to (queue: <id>)',
      'deflection.calls.sdk.phoneNumber: options include phoneNumber, but no phoneNumber is set to show as "Call now"',
      'deflection.calls.sdk.options: the email option shows the support-center address, but supportCenter.email is not set',
      'deflection.chat.option: chat deflection to email shows the support-center address, but supportCenter.email is not set',
      'queues[0].deflection.mobile.options: scheduledCall needs scheduled calls enabled for queue "m" (scheduledCalls: { enabled: true })',
      'queues[1].deflection.ivr.option: option voicemail needs a greeting: set voicemailGreeting here or deflection.messages.voicemailGreeting',
      'queues[2].deflection.ivr.option: option message needs an after-hours message: set message here or deflection.messages.afterHours',
    ]);
  });

  it('global message and voicemail options without their messages', () => {
    expect(problemsOf({ deflection: { calls: { enabled: true, ivr: { option: 'message' } } } })).toEqual([
      'deflection.calls.ivr.option: option message plays the after-hours message, but deflection.messages.afterHours is not set',
    ]);
    expect(problemsOf({ deflection: { calls: { enabled: true, ivr: { option: 'voicemail' } } } })).toEqual([
      'deflection.calls.ivr.option: option voicemail needs a greeting, but deflection.messages.voicemailGreeting is not set',
    ]);
  });

  it('settings the chosen option ignores', () => {
    expect(
      problemsOf({
        deflection: { messages: msgs, calls: { ivr: { option: 'voicemail', phoneNumber: '+15551234567' }, sdk: { options: [], phoneNumber: '+15551234567' } } },
        queues: [{ id: 'q', name: 'Q', channels: ['ivr'], deflection: { ivr: { option: 'phoneNumber', phoneNumber: '+15551234567', queue: 'q2', message: { en: { text: 'x' } }, voicemailGreeting: { en: { text: 'y' } } } } }, { id: 'q2', name: 'Q2' }],
      }),
    ).toEqual([
      'deflection.calls.ivr.phoneNumber: phoneNumber is set but option is voicemail; remove it or set option: phoneNumber',
      'deflection.calls.sdk.phoneNumber: phoneNumber is set but options do not include phoneNumber; remove it or add the option',
      'queues[0].deflection.ivr.queue: queue is set but option is phoneNumber; remove it or set option: queue',
      'queues[0].deflection.ivr.message: message is only played with option message (option is phoneNumber)',
      'queues[0].deflection.ivr.voicemailGreeting: voicemailGreeting is only played with option voicemail (option is phoneNumber)',
    ]);
  });

  it('the chat transfer option while chat deflection is enabled', () => {
    expect(problemsOf({ supportCenter: { email: 'a@b.co' }, deflection: { chat: { enabled: true, allowTransferOutsideHours: true } } })).toEqual([
      'deflection.chat.allowTransferOutsideHours: applies only while chat deflection is disabled (the seed offers it then); set deflection.chat.enabled: false or remove this',
    ]);
  });

  it('an SMS text without the default language', () => {
    expect(problemsOf({ queues: [{ id: 's', name: 'S', channels: ['sms'], deflection: { sms: { afterHoursText: { de: 'zu' } } } }] })).toEqual([
      'queues[0].deflection.sms.afterHoursText: has no entry for the default language "en" (deflection.defaultLanguage), which other languages fall back to',
    ]);
  });
});

describe('one message lists every problem', () => {
  const yaml = [
    'schedules:',
    '  - id: ny',
    '    timeZone: America/NewYork',
    '    weekly:',
    '      monday: [09:00-17:00, 16:00-18:00]',
    'deflection:',
    '  calls:',
    '    enabled: true',
    '    ivr: { option: phoneNumber, phoneNumber: "555-1234" }',
    'queues:',
    '  - id: web',
    '    name: Web',
    '    channels: [web]',
    '    hours: { schedule: nyc }',
    '    deflection: { mobile: { redirectQueue: web2 } }',
  ].join('\n');

  it('schema problems and policy problems come together, each with its line', () => {
    let error: unknown;
    try {
      loadConfigText(yaml, { file: 'hours.yaml', checks: policyConfigChecks });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      [
        'hours.yaml: 6 problems',
        '  - hours.yaml:9:46: deflection.calls.ivr.phoneNumber: expected an E.164 number such as +15551234567 (+, then 2 to 15 digits, the first not 0), got "555-1234"',
        '  - hours.yaml:3:15: schedules[0].timeZone: unknown time zone "America/NewYork" (did you mean "America/New_York"?); use an IANA zone name such as America/New_York or Europe/Berlin',
        '  - hours.yaml:5:29: schedules[0].weekly.monday[1]: "16:00-18:00" on monday overlaps "09:00-17:00" on monday (monday[0]); intervals may touch but not overlap',
        '  - hours.yaml:14:24: queues[0].hours.schedule: unknown schedule "nyc" (did you mean "ny"?); schedules: ny',
        '  - hours.yaml:15:17: queues[0].deflection: queue "web" is a web queue; web has no per-queue deflection (the global deflection.calls.sdk settings apply)',
        '  - hours.yaml:15:44: queues[0].deflection.mobile.redirectQueue: unknown queue "web2" (did you mean "web"?)',
      ].join('\n'),
    );
  });

  it('once the schema is satisfied, the same reference problems are listed', () => {
    const fixed = yaml.replace('"555-1234"', '"+15551234"');
    let error: unknown;
    try {
      loadConfigText(fixed, { file: 'hours.yaml', checks: policyConfigChecks });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems.map((p) => `${p.location ?? ''} ${p.path}`)).toEqual([
      'hours.yaml:3:15 schedules[0].timeZone',
      'hours.yaml:5:29 schedules[0].weekly.monday[1]',
      'hours.yaml:14:24 queues[0].hours.schedule',
      'hours.yaml:15:17 queues[0].deflection',
      'hours.yaml:15:44 queues[0].deflection.mobile.redirectQueue',
    ]);
  });

  it('a value the schema refused hides only the checks that read it: loops, unknown targets, overlaps and empty intervals elsewhere are listed too', () => {
    const config = [
      'schedules:',
      '  - { id: ny, timeZone: America/New_York, weekly: { monday: [09:00-12:00, 11:00-13:00], tuesday: [25:00-26:00], wednesday: [10:00-10:00] } }',
      'queues:',
      '  - { id: d, name: D, deflection: { ivr: { option: phoneNumber, phoneNumber: "5550100" } } }',
      '  - { id: a, name: A, deflection: { ivr: { option: queue, queue: b } } }',
      '  - { id: b, name: B, deflection: { ivr: { option: queue, queue: a } } }',
      '  - { id: c, name: C, deflection: { ivr: { option: queue, queue: nosuch } } }',
    ].join('\n');
    let error: unknown;
    try {
      loadConfigText(config, { file: 'c.yaml', checks: policyConfigChecks });
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        'queues[0].deflection.ivr.phoneNumber',
        'queues[1].deflection.ivr.queue',
        'queues[3].deflection.ivr.queue',
        'schedules[0].weekly.monday[1]',
        'schedules[0].weekly.tuesday[0]',
        'schedules[0].weekly.wednesday[0]',
      ].sort(),
    );
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^expected an E\.164 number/),
        expect.stringMatching(/round in a circle: a → b → a$/),
        expect.stringMatching(/^unknown queue "nosuch"/),
        expect.stringMatching(/^"11:00-13:00" on monday overlaps "09:00-12:00"/),
        expect.stringMatching(/^expected a time range/),
        expect.stringMatching(/^"10:00-10:00" is empty/),
      ]),
    );
  });

  it('createPolicy refuses a configuration loaded without the policy checks, listing its problems', () => {
    const unchecked = loadConfigObject({ hours: { schedule: 'missing' }, queues: [{ id: 'q', name: 'Q' }] });
    expect(() => createPolicy(unchecked)).toThrow(
      expect.objectContaining({ code: 'SB_CONFIG_INVALID', problems: [{ path: 'hours.schedule', message: 'unknown schedule "missing"; schedules: (none)' }] }),
    );
  });
});
