/**
 * The seed's after-hours deflection rules ("Pengalihan di Luar Jam Kerja untuk
 * Panggilan dan Chat"), one test per rule, named after it. Every queue here is
 * closed at CLOSED (a Sunday) and open at OPEN (a Monday morning).
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/policy/index.js';
import { decideAt, policyOf } from './helpers.js';

const CLOSED = '2026-06-07T12:00:00+02:00';
const OPEN = '2026-06-08T10:00:00+02:00';

const base = (deflection: Record<string, unknown>, queues: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
  supportCenter: { email: 'help@example.com' },
  schedules: [{ id: 'office', timeZone: 'Europe/Berlin', weekly: { monday: ['09:00-17:00'], tuesday: ['09:00-17:00'] } }],
  hours: { schedule: 'office' },
  deflection: {
    messages: {
      afterHours: { en: { text: 'We are closed.' }, es: { text: 'Estamos cerrados.' } },
      voicemailGreeting: { en: { text: 'Leave a message.' } },
      voicemailBlockedNumber: { en: { text: 'Your number is blocked.' } },
      voicemailAskNumber: { en: { text: 'Enter your number.' } },
      voicemailNumberEntered: { en: { text: 'Thank you.' } },
    },
    ...deflection,
  },
  queues,
  ...extra,
});

const leaf = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, agents: ['sip:agent@192.0.2.1'], ...extra });
const calls = (ivr: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ calls: { enabled: true, ivr, ...more } });

function decide(config: Record<string, unknown>, queue: string, channel: Decision['channel'] = 'ivr', at = CLOSED, language?: string): Decision {
  return decideAt(policyOf(config), queue, at, channel, language);
}

describe('IVR after-hours deflection (global call settings)', () => {
  it('inside opening hours the call is queued as usual, with no message', () => {
    const d = decide(base(calls({ option: 'message' }), [leaf('q')]), 'q', 'ivr', OPEN);
    expect(d).toMatchObject({ open: true, action: 'enqueue', target: { queue: 'q' }, message: null, closesAt: '2026-06-08T17:00:00+02:00' });
  });

  it('with call deflection disabled, a call outside hours waits in the queue', () => {
    const d = decide(base({}, [leaf('q')]), 'q');
    expect(d).toMatchObject({ open: false, action: 'enqueue', target: { queue: 'q' }, deflection: null, nextOpen: '2026-06-08T09:00:00+02:00' });
    expect(d.note).toMatch(/deflection is off/);
  });

  it('option queue: every call outside hours is sent to the configured (24-hour) queue', () => {
    const d = decide(base(calls({ option: 'queue', queue: 'always' }), [leaf('q'), leaf('always', { deflection: { ivr: { option: 'message' } } })]), 'q');
    expect(d).toMatchObject({ action: 'queue', target: { queue: 'always' }, deflection: 'global', message: null });
  });

  it('option phone number: the caller is sent on to another number', () => {
    const d = decide(base(calls({ option: 'phoneNumber', phoneNumber: '+4930123456' }), [leaf('q')]), 'q');
    expect(d).toMatchObject({ action: 'phoneNumber', target: { phoneNumber: '+4930123456' }, deflection: 'global' });
  });

  it('option voicemail: the caller leaves a voicemail; the agents of the called queue are notified when it opens again', () => {
    const d = decide(base(calls({ option: 'voicemail' }), [leaf('q')]), 'q');
    expect(d.action).toBe('voicemail');
    if (d.action !== 'voicemail') return;
    expect(d.target).toMatchObject({ queue: 'q', deliverTo: 'queue-agents', notifyAt: '2026-06-08T09:00:00+02:00' });
    expect(d.target.greeting).toEqual({ kind: 'prompt', path: 'deflection.messages.voicemailGreeting.en', language: 'en', prompt: { text: 'Leave a message.' } });
  });

  it('option voicemail on a top-level queue without assigned agents: the voicemail goes to the CRM', () => {
    const d = decide(base(calls({ option: 'voicemail' }), [{ id: 'top', name: 'Top' }]), 'top');
    expect(d).toMatchObject({ action: 'voicemail', target: { deliverTo: 'crm' } });
  });

  it('option voicemail: the custom callback prompts (blocked number, ask number, number entered) come with it', () => {
    const d = decide(base(calls({ option: 'voicemail' }), [leaf('q')]), 'q');
    if (d.action !== 'voicemail') throw new Error(`expected voicemail, got ${d.action}`);
    expect(d.target.callbackPrompts).toEqual({
      blockedNumber: { kind: 'prompt', path: 'deflection.messages.voicemailBlockedNumber.en', language: 'en', prompt: { text: 'Your number is blocked.' } },
      askNumber: { kind: 'prompt', path: 'deflection.messages.voicemailAskNumber.en', language: 'en', prompt: { text: 'Enter your number.' } },
      numberEntered: { kind: 'prompt', path: 'deflection.messages.voicemailNumberEntered.en', language: 'en', prompt: { text: 'Thank you.' } },
    });
  });

  it('option message only: the after-hours message plays and the call ends', () => {
    const d = decide(base(calls({ option: 'message' }), [leaf('q')]), 'q');
    expect(d).toMatchObject({ action: 'message', target: null, message: { path: 'deflection.messages.afterHours.en', prompt: { text: 'We are closed.' } } });
  });

  it('messages follow the caller\'s language (es-MX → es) and fall back to the default language', () => {
    const config = base(calls({ option: 'message' }), [leaf('q')]);
    expect(decide(config, 'q', 'ivr', CLOSED, 'es-MX').message).toMatchObject({ language: 'es', prompt: { text: 'Estamos cerrados.' } });
    expect(decide(config, 'q', 'ivr', CLOSED, 'fr').message).toMatchObject({ language: 'en', prompt: { text: 'We are closed.' } });
  });
});

describe('IVR per-leaf-queue custom deflection', () => {
  const g = calls({ option: 'queue', queue: 'night' });
  const night = leaf('night', { deflection: { ivr: { option: 'voicemail' } } });

  it('custom message: the queue\'s own message plays, then the call ends', () => {
    const d = decide(base(g, [night, leaf('q', { deflection: { ivr: { option: 'message', message: { en: { file: 'q-closed.mp3' } } } } })]), 'q');
    expect(d).toMatchObject({ action: 'message', deflection: 'queue', message: { path: 'queues[1].deflection.ivr.message.en', prompt: { file: 'q-closed.mp3' } } });
  });

  it('custom message without its own text: the default message of the call settings is used', () => {
    const d = decide(base(g, [night, leaf('q', { deflection: { ivr: { option: 'message' } } })]), 'q');
    expect(d).toMatchObject({ action: 'message', deflection: 'queue', message: { path: 'deflection.messages.afterHours.en' } });
  });

  it('custom queue: the caller is sent to another queue', () => {
    const d = decide(base(g, [night, leaf('q', { deflection: { ivr: { option: 'queue', queue: 'night' } } })]), 'q');
    expect(d).toMatchObject({ action: 'queue', target: { queue: 'night' }, deflection: 'queue' });
  });

  it('custom phone number: the caller is sent to a number', () => {
    const d = decide(base(g, [night, leaf('q', { deflection: { ivr: { option: 'phoneNumber', phoneNumber: '+15551234567' } } })]), 'q');
    expect(d).toMatchObject({ action: 'phoneNumber', target: { phoneNumber: '+15551234567' }, deflection: 'queue' });
  });

  it('custom voicemail: the caller hears the queue\'s own greeting', () => {
    const d = decide(base(g, [night, leaf('q', { deflection: { ivr: { option: 'voicemail', voicemailGreeting: { en: { text: 'Billing voicemail.' } } } } })]), 'q');
    expect(d).toMatchObject({ action: 'voicemail', deflection: 'queue', target: { greeting: { path: 'queues[1].deflection.ivr.voicemailGreeting.en' } } });
  });

  it('a queue without an override follows the global setting', () => {
    const d = decide(base(g, [night, leaf('q')]), 'q');
    expect(d).toMatchObject({ action: 'queue', target: { queue: 'night' }, deflection: 'global' });
  });

  it('a queue\'s own override applies even while global call deflection is off', () => {
    const d = decide(base({}, [leaf('q', { deflection: { ivr: { option: 'message' } } })]), 'q');
    expect(d).toMatchObject({ action: 'message', deflection: 'queue' });
  });
});

describe('mobile and web SDK call deflection', () => {
  const sdk = calls({ option: 'message' }, { sdk: { options: ['scheduledCall', 'email', 'phoneNumber', 'voicemail'], phoneNumber: '+15550001111' } });

  it('mobile, global options: scheduled call, email, phone number ("Call now") and voicemail, in the configured order', () => {
    const d = decide(base(sdk, [leaf('m', { channels: ['mobile'], scheduledCalls: { enabled: true } })]), 'm', 'mobile');
    if (d.action !== 'offer') throw new Error(`expected offer, got ${d.action}`);
    expect(d.target.options.map((o) => o.type)).toEqual(['scheduledCall', 'email', 'phoneNumber', 'voicemail']);
    expect(d.target.options[0]).toEqual({
      type: 'scheduledCall',
      slots: [
        { start: '2026-06-08T09:00:00+02:00', end: '2026-06-08T09:30:00+02:00' },
        { start: '2026-06-08T09:30:00+02:00', end: '2026-06-08T10:00:00+02:00' },
        { start: '2026-06-08T10:00:00+02:00', end: '2026-06-08T10:30:00+02:00' },
        { start: '2026-06-08T10:30:00+02:00', end: '2026-06-08T11:00:00+02:00' },
        { start: '2026-06-08T11:00:00+02:00', end: '2026-06-08T11:30:00+02:00' },
      ],
    });
    expect(d.target.options.slice(1)).toEqual([
      { type: 'email', address: 'help@example.com' },
      { type: 'phoneNumber', number: '+15550001111' },
      { type: 'voicemail', queue: 'm', deliverTo: 'queue-agents' },
    ]);
    expect(d.message).toMatchObject({ path: 'deflection.messages.afterHours.en' });
  });

  it('mobile: scheduled calls are offered only for a queue that has them enabled', () => {
    const d = decide(base(sdk, [leaf('m', { channels: ['mobile'] })]), 'm', 'mobile');
    if (d.action !== 'offer') throw new Error(`expected offer, got ${d.action}`);
    expect(d.target.options.map((o) => o.type)).toEqual(['email', 'phoneNumber', 'voicemail']);
  });

  it('web: phone number and voicemail are mobile-only, so web offers scheduled call and email', () => {
    const d = decide(base(sdk, [leaf('w', { channels: ['web'], scheduledCalls: { enabled: true } })]), 'w', 'web');
    if (d.action !== 'offer') throw new Error(`expected offer, got ${d.action}`);
    expect(d.target.options.map((o) => o.type)).toEqual(['scheduledCall', 'email']);
  });

  it('web: when no option applies the regular call option stays', () => {
    const onlyMobile = calls({ option: 'message' }, { sdk: { options: ['voicemail'] } });
    expect(decide(base(onlyMobile, [leaf('w', { channels: ['web'] })]), 'w', 'web')).toMatchObject({ action: 'enqueue', deflection: null });
  });

  it('custom mobile: redirect to a queue (and nothing else)', () => {
    const d = decide(base(sdk, [leaf('m', { channels: ['mobile'], deflection: { mobile: { redirectQueue: 'm2' } } }), leaf('m2', { channels: ['mobile'] })]), 'm', 'mobile');
    expect(d).toMatchObject({ action: 'queue', target: { queue: 'm2' }, deflection: 'queue' });
  });

  it('custom mobile: a combination of options replaces the global ones', () => {
    const d = decide(
      base(sdk, [leaf('m', { channels: ['mobile'], deflection: { mobile: { options: ['voicemail', 'phoneNumber'], phoneNumber: '+15559998888' } } })]),
      'm',
      'mobile',
    );
    expect(d).toMatchObject({
      action: 'offer',
      deflection: 'queue',
      target: { options: [{ type: 'voicemail', queue: 'm' }, { type: 'phoneNumber', number: '+15559998888' }] },
    });
  });

  it('email deflection always shows the support-center address', () => {
    const d = decide(base(calls({ option: 'message' }, { sdk: { options: ['email'] } }), [leaf('m', { channels: ['mobile'] })]), 'm', 'mobile');
    expect(d).toMatchObject({ action: 'offer', target: { options: [{ type: 'email', address: 'help@example.com' }] } });
  });
});

describe('SMS and chat deflection', () => {
  it('SMS: the queue\'s after-hours text is sent as plain text in the consumer\'s language', () => {
    const text = { en: 'Closed, text us tomorrow.', id: 'Tutup, kirim SMS besok.' };
    const config = base({}, [leaf('s', { channels: ['sms'], deflection: { sms: { afterHoursText: text } } })]);
    expect(decide(config, 's', 'sms', CLOSED, 'id')).toMatchObject({
      action: 'message',
      target: null,
      deflection: 'queue',
      message: { kind: 'text', path: 'queues[0].deflection.sms.afterHoursText.id', language: 'id', text: 'Tutup, kirim SMS besok.' },
    });
    expect(decide(config, 's', 'sms', CLOSED, 'de').message).toMatchObject({ language: 'en', text: 'Closed, text us tomorrow.' });
  });

  it('SMS without its own text, with chat deflection enabled: the consumer is pointed to the support-center email', () => {
    const d = decide(base({ chat: { enabled: true } }, [leaf('s', { channels: ['sms'] })]), 's', 'sms');
    expect(d).toMatchObject({ action: 'email', target: { email: 'help@example.com' }, deflection: 'global' });
  });

  it('chat deflection enabled: a chat outside hours is pointed to the support-center email', () => {
    const d = decide(base({ chat: { enabled: true, option: 'email' } }, [leaf('c', { channels: ['chat'] })]), 'c', 'chat');
    expect(d).toMatchObject({ action: 'email', target: { email: 'help@example.com' } });
  });

  it('chat deflection disabled: the chat waits in the queue (the email appears inside the chat)', () => {
    const d = decide(base({}, [leaf('c', { channels: ['chat'] })]), 'c', 'chat');
    expect(d).toMatchObject({ action: 'enqueue', deflection: null });
    expect(d.note).toMatch(/support-center email/);
  });
});

describe('virtual agents outside hours', () => {
  it('a virtual agent in 24-hour availability mode keeps answering outside the queue hours', () => {
    const d = decide(base(calls({ option: 'message' }), [leaf('q', { virtualAgent: { name: 'helper', availability: '24h' } })]), 'q');
    expect(d).toMatchObject({ open: false, action: 'virtualAgent', target: { queue: 'q', virtualAgent: 'helper' } });
  });

  it('a virtual agent limited to the queue hours does not: the deflection applies', () => {
    const d = decide(base(calls({ option: 'message' }), [leaf('q', { virtualAgent: { name: 'helper', availability: 'queueHours' } })]), 'q');
    expect(d.action).toBe('message');
  });
});

describe('requests the policy refuses', () => {
  const config = base({}, [leaf('q', { channels: ['ivr'] })]);
  it('an unknown queue, with a suggestion', () => {
    expect(() => decide(config, 'qq')).toThrow(expect.objectContaining({ code: 'SB_POLICY_UNKNOWN_QUEUE', message: expect.stringContaining('did you mean "q"') }));
  });
  it('a channel the queue does not serve', () => {
    expect(() => decide(config, 'q', 'sms')).toThrow(expect.objectContaining({ code: 'SB_POLICY_CHANNEL_NOT_SERVED' }));
  });
  it('an unknown channel and a bad language tag', () => {
    const p = policyOf(config);
    expect(() => p.decide({ queue: 'q', channel: 'fax' as 'ivr', at: 0 })).toThrow(/unknown channel "fax"/);
    expect(() => p.decide({ queue: 'q', channel: 'ivr', language: 'English', at: 0 })).toThrow(/not a language tag/);
  });
  it('an invalid instant', () => {
    expect(() => policyOf(config).decide({ queue: 'q', channel: 'ivr', at: new Date('nope') })).toThrow(expect.objectContaining({ code: 'SB_POLICY_BAD_REQUEST' }));
  });
});
