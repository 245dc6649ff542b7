/**
 * Transfer targets, exactly per the seed's two lists:
 *  - calls: "Izinkan transfer ke antrean di luar jam operasional"
 *    (Allow transfer to queues outside operating hours);
 *  - chats: its variant when after-hours deflection is disabled
 *    ("Izinkan pengalihan ke antrean di luar operasi saat Pengalihan di Luar Jam Kerja dinonaktifkan").
 */
import { describe, expect, it } from 'vitest';
import { classifyTransferTarget, type TransferFacts } from '../../src/policy/transfer-targets.js';
import type { TransferTargets } from '../../src/policy/index.js';
import { policyOf } from './helpers.js';

describe('the rule table (each fact alone)', () => {
  const closed: TransferFacts = { open: false, virtualAgent: undefined, deflectionEnabled: false, agentsLoggedIn: false, allowOutsideHours: true };
  const table: [rule: string, facts: Partial<TransferFacts>, visible: boolean, name: string][] = [
    ['visible: every queue inside its operating hours', { open: true }, true, 'inside-hours'],
    ['visible: inside hours even with a virtual agent limited to queue hours', { open: true, virtualAgent: 'queueHours' }, true, 'inside-hours'],
    ['visible: inside hours even when transfers outside hours are not allowed', { open: true, allowOutsideHours: false }, true, 'inside-hours'],
    ['visible: outside hours with after-hours deflection enabled', { deflectionEnabled: true }, true, 'outside-hours-deflection-enabled'],
    ['visible: outside hours without deflection, with agents logged in', { agentsLoggedIn: true }, true, 'outside-hours-agents-logged-in'],
    ['visible: outside hours with a virtual agent in 24-hour availability mode', { virtualAgent: '24h' }, true, 'outside-hours-virtual-agent-24h'],
    ['hidden: outside hours with a virtual agent limited to the queue hours', { virtualAgent: 'queueHours' }, false, 'outside-hours-virtual-agent-queue-hours'],
    [
      'hidden: a virtual agent limited to queue hours hides the queue even with deflection and logged-in agents',
      { virtualAgent: 'queueHours', deflectionEnabled: true, agentsLoggedIn: true },
      false,
      'outside-hours-virtual-agent-queue-hours',
    ],
    ['hidden: outside hours without deflection and without logged-in agents', {}, false, 'outside-hours-no-deflection-no-agents'],
    ['hidden: every queue outside hours when the setting is off', { allowOutsideHours: false, deflectionEnabled: true, agentsLoggedIn: true, virtualAgent: '24h' }, false, 'outside-hours-not-allowed'],
  ];
  for (const [rule, facts, visible, name] of table) {
    it(rule, () => {
      expect(classifyTransferTarget({ ...closed, ...facts })).toEqual({ visible, rule: name });
    });
  }
});

// Every queue is open 09:00-17:00 Berlin time except "open-*" queues, which are open around the clock.
const SUNDAY = new Date('2026-06-07T12:00:00+02:00');
const schedules = [
  { id: 'office', timeZone: 'Europe/Berlin', weekly: { monday: ['09:00-17:00'] } },
  {
    id: 'always',
    timeZone: 'Europe/Berlin',
    weekly: Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [d, ['00:00-24:00']])),
  },
];

const names = (r: TransferTargets): Record<string, string> => Object.fromEntries([...r.visible, ...r.hidden].map((t) => [t.queue, t.rule]));
const visible = (r: TransferTargets): string[] => r.visible.map((t) => t.queue);

describe('calls: "Allow transfer to queues outside operating hours"', () => {
  const config = (allow: boolean, enabled = false) => ({
    schedules,
    hours: { schedule: 'office' },
    deflection: { calls: { enabled, allowTransferOutsideHours: allow, ivr: { option: 'phoneNumber', phoneNumber: '+4930111' } } },
    queues: [
      { id: 'menu', name: 'Menu' },
      { id: 'source', name: 'Where the call is', parent: 'menu' },
      { id: 'open-q', name: 'Open', parent: 'menu', hours: { schedule: 'always' } },
      { id: 'open-va-limited', name: 'Open, VA limited', parent: 'menu', hours: { schedule: 'always' }, virtualAgent: { name: 'v', availability: 'queueHours' } },
      { id: 'deflects', name: 'Deflects', parent: 'menu', deflection: { ivr: { option: 'voicemail', voicemailGreeting: { en: { text: 'hi' } } } } },
      { id: 'staffed', name: 'Agents logged in', parent: 'menu' },
      { id: 'empty', name: 'Nobody', parent: 'menu' },
      { id: 'va-24h', name: 'VA 24h', parent: 'menu', virtualAgent: { name: 'v', availability: '24h' } },
      { id: 'va-limited', name: 'VA limited', parent: 'menu', virtualAgent: { name: 'v', availability: 'queueHours' } },
      { id: 'sms-only', name: 'SMS only', parent: 'menu', channels: ['sms'] },
    ],
  });
  const run = (allow: boolean, enabled = false): TransferTargets =>
    policyOf(config(allow, enabled)).transferTargets({ queue: 'source', channel: 'ivr', at: SUNDAY, loggedIn: ['staffed', 'va-limited'] });

  it('agents see exactly: queues in hours, closed queues with deflection, closed queues with logged-in agents, closed queues with a 24-hour virtual agent', () => {
    const r = run(true);
    expect(r).toMatchObject({ kind: 'calls', allowOutsideHours: true, at: '2026-06-07T12:00:00+02:00' });
    expect(visible(r)).toEqual(['open-q', 'open-va-limited', 'deflects', 'staffed', 'va-24h']);
    expect(names(r)).toEqual({
      'open-q': 'inside-hours',
      'open-va-limited': 'inside-hours',
      deflects: 'outside-hours-deflection-enabled',
      staffed: 'outside-hours-agents-logged-in',
      'va-24h': 'outside-hours-virtual-agent-24h',
      empty: 'outside-hours-no-deflection-no-agents',
      'va-limited': 'outside-hours-virtual-agent-queue-hours',
    });
  });

  it('menus, the queue the call is in and queues that do not take calls are not targets', () => {
    const all = [...run(true).visible, ...run(true).hidden].map((t) => t.queue);
    expect(all).not.toContain('menu');
    expect(all).not.toContain('source');
    expect(all).not.toContain('sms-only');
  });

  it('with global call deflection enabled every closed queue deflects, so all are visible except the one whose virtual agent is limited to queue hours', () => {
    const r = run(true, true);
    expect(visible(r)).toEqual(['open-q', 'open-va-limited', 'deflects', 'staffed', 'empty', 'va-24h']);
    expect(r.hidden.map((t) => t.queue)).toEqual(['va-limited']);
  });

  it('without the setting only queues inside their hours are visible', () => {
    const r = run(false);
    expect(visible(r)).toEqual(['open-q', 'open-va-limited']);
    expect(new Set(r.hidden.map((t) => t.rule))).toEqual(new Set(['outside-hours-not-allowed']));
  });

  it('each visible target carries its menu path', () => {
    expect(run(true).visible[0]).toEqual({ queue: 'open-q', name: 'Open', menuPath: ['Menu', 'Open'], open: true, rule: 'inside-hours' });
  });
});

describe('chats: the variant when after-hours deflection is disabled', () => {
  const config = (chat: Record<string, unknown>) => ({
    supportCenter: { email: 'help@example.com' },
    schedules,
    hours: { schedule: 'office' },
    deflection: { chat },
    queues: [
      { id: 'source', name: 'Where the chat is', channels: ['sms', 'chat'] },
      { id: 'open-q', name: 'Open', channels: ['sms'], hours: { schedule: 'always' } },
      { id: 'sms-text', name: 'Has after-hours text', channels: ['sms'], deflection: { sms: { afterHoursText: { en: 'closed' } } } },
      { id: 'staffed', name: 'Agents logged in', channels: ['sms'] },
      { id: 'empty', name: 'Nobody', channels: ['sms'] },
      { id: 'va-24h', name: 'VA 24h', channels: ['sms'], virtualAgent: { name: 'v', availability: '24h' } },
      { id: 'va-limited', name: 'VA limited', channels: ['sms'], virtualAgent: { name: 'v', availability: 'queueHours' } },
    ],
  });
  const run = (chat: Record<string, unknown>): TransferTargets =>
    policyOf(config(chat)).transferTargets({ queue: 'source', channel: 'sms', at: SUNDAY, loggedIn: ['staffed'] });

  it('with deflection disabled and the option checked: in hours, closed with deflection, closed with logged-in agents, closed with a 24-hour virtual agent', () => {
    const r = run({ enabled: false, allowTransferOutsideHours: true });
    expect(r).toMatchObject({ kind: 'chat', allowOutsideHours: true });
    expect(visible(r)).toEqual(['open-q', 'sms-text', 'staffed', 'va-24h']);
    expect(names(r)).toMatchObject({ 'sms-text': 'outside-hours-deflection-enabled', empty: 'outside-hours-no-deflection-no-agents', 'va-limited': 'outside-hours-virtual-agent-queue-hours' });
  });

  it('with deflection disabled and the option unchecked: only queues inside hours', () => {
    expect(visible(run({ enabled: false, allowTransferOutsideHours: false }))).toEqual(['open-q']);
  });

  it('with chat deflection enabled the option does not exist: only queues inside hours', () => {
    const r = run({ enabled: true });
    expect(r.allowOutsideHours).toBe(false);
    expect(visible(r)).toEqual(['open-q']);
  });
});
