/**
 * Who is calling, end to end through the real SIP server and rtpengine:
 * P-Asserted-Identity counts only from a trusted trunk (RFC 3325 §5, §9.1),
 * so a spoofed one from an unknown source leaves an anonymous caller
 * anonymous (asked for a callback number by voicemail, nothing in the record
 * or the agent's INVITE); tel URIs (RFC 3966) in From or in a trusted
 * P-Asserted-Identity give the caller's number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderedPrompt } from '../../src/media/index.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone, type DialOptions } from '../support/phones.js';
import { readAudio, timesHeard } from '../support/rtp/audio-check.js';

let cc: ContactCenter;
let agent: AgentPhone;

const SPOOFED = '+15557654321';

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  // The agent refuses: each call ends at once with the agent's INVITE (and the caller's identity in it) seen.
  agent.behaviour = 'busy';
  cc = await startContactCenter({
    media: { whisper: { countdown: false } },
    engine: { voicemail: { digitTimeoutSeconds: 2, attempts: 1 } },
    trunks: {
      unknownSources: 'untrusted',
      inbound: [
        { id: 'carrier', name: 'Trusted carrier', trusted: true, sources: [{ address: '127.0.0.2' }] },
        { id: 'other', name: 'Untrusted carrier', trusted: false, sources: [{ address: '127.0.0.3' }] },
      ],
    },
    deflection: {
      calls: { enabled: true, ivr: { option: 'voicemail' } },
      messages: { voicemailGreeting: { en: { text: 'Leave a message.' } }, voicemailAskNumber: { en: { text: 'Key in your number.' } } },
    },
    queues: [
      { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
      { id: 'voicemail', name: 'Voicemail', numbers: ['3000'], emergency: { force: 'closed' }, deflection: { ivr: { option: 'voicemail' } } },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
});

const streamsWith = (phone: CallerPhone, prompt: RenderedPrompt): number => timesHeard(phone.rtp.received, readAudio(prompt.path).samples);

function agentFromOf(call: string): string {
  const offered = agent.calls.find((c) => new RegExp(`^X-Switchboard-Call: ${call}\\r?$`, 'm').test(c.invite.raw));
  if (offered === undefined) throw new Error(`the agent got no INVITE for ${call}`);
  return offered.invite.message.headers.get('from') ?? '';
}

const anonymous: DialOptions = { fromUser: 'anonymous', displayName: 'Anonymous' };

describe('the caller identity', () => {
  it('a P-Asserted-Identity from an unknown source is ignored: the anonymous caller is asked for a callback number (probe C F5)', async () => {
    const caller = await CallerPhone.create(700, 'udp', '127.0.0.1');
    try {
      const call = caller.dial(cc.udp, '3000', { ...anonymous, extra: [`P-Asserted-Identity: <sip:${SPOOFED}@127.0.0.1>`] });
      await call.waitStatus(200);
      const ask = await cc.sb.media!.prompts.configuredPrompt('deflection.messages.voicemailAskNumber.en');
      await eventually(() => streamsWith(caller, ask) >= 1, 20_000, 'the caller is asked for a number', 250);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.caller).toMatchObject({ number: null, withheld: true });
      expect(record.facts.callbackNumber).toBeUndefined();
      expect(JSON.stringify(record)).not.toContain(SPOOFED);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  const CASES: readonly { name: string; host: string; options: DialOptions; number: string | null }[] = [
    { name: 'a P-Asserted-Identity from an untrusted trunk is ignored too', host: '127.0.0.3', options: { ...anonymous, extra: [`P-Asserted-Identity: <sip:${SPOOFED}@127.0.0.3>`] }, number: null },
    { name: 'nor does it replace the From of an unknown source', host: '127.0.0.1', options: { fromUser: '+15551230000', extra: [`P-Asserted-Identity: <sip:${SPOOFED}@127.0.0.1>`] }, number: '+15551230000' },
    { name: 'a tel P-Asserted-Identity from a trusted trunk gives the number of an anonymous From', host: '127.0.0.2', options: { ...anonymous, extra: ['P-Asserted-Identity: <tel:+1-555-765-4321>'] }, number: SPOOFED },
    { name: 'a tel From from any source gives its number', host: '127.0.0.1', options: { fromUri: 'tel:+15551112222' }, number: '+15551112222' },
  ];

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const caller = await CallerPhone.create(700, 'udp', c.host);
    try {
      const call = caller.dial(cc.udp, '1000', c.options);
      expect(await call.waitFinal(20_000)).toBe(480);
      const record = await cc.recordOf(call.callId);
      expect(record.source.address).toBe(c.host);
      expect(record.caller).toMatchObject({ number: c.number, withheld: c.number === null });
      const from = agentFromOf(record.call);
      if (c.number !== null) expect(from).toContain(`sip:${c.number}@`);
      expect(from.includes(SPOOFED)).toBe(c.number === SPOOFED);
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});
