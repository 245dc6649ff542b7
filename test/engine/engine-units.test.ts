import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject, loadConfigText } from '../../src/config/load.js';
import { AgentRegistry } from '../../src/engine/agents/agent-registry.js';
import { callRecordOf } from '../../src/engine/call-record.js';
import { CallSession } from '../../src/engine/session/call-session.js';
import { agentParty } from '../../src/engine/tasks/record-task.js';
import { waitAnnouncement } from '../../src/engine/tasks/hold-caller-task.js';
import { QueueDirectory } from '../../src/engine/queue-directory.js';
import { dialedNumber } from '../../src/engine/signaling/srf-leg.js';
import { sipFailureOf } from '../../src/engine/sip-errors.js';
import { PromptMissingError, RtpengineError, RtpengineTimeoutError } from '../../src/media/index.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { contactFor } from '../../src/recordings/crm/contact.js';

function problems(yaml: string): string[] {
  try {
    loadConfigText(yaml, { checks: configChecks });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
}

describe('engine routing', () => {
  it('the dialed number is the Request-URI user part, unescaped', () => {
    expect(dialedNumber('sip:1000@127.0.0.1:5060;transport=tcp')).toBe('1000');
    expect(dialedNumber('sip:%2B15550100@carrier.example')).toBe('+15550100');
    expect(dialedNumber('tel:+15550100;phone-context=x')).toBe('+15550100');
    expect(dialedNumber('sip:127.0.0.1')).toBe('127.0.0.1');
    expect(dialedNumber('mailto:x@y')).toBeUndefined();
  });

  it('a number selects its queue with or without the leading +', () => {
    const d = new QueueDirectory([
      { id: 'a', name: 'A', numbers: ['+15550100'] },
      { id: 'b', name: 'B', numbers: ['2000'] },
    ]);
    expect(d.forNumber('+15550100')?.id).toBe('a');
    expect(d.forNumber('15550100')?.id).toBe('a');
    expect(d.forNumber('+2000')?.id).toBe('b');
    expect(d.forNumber('3000')).toBeUndefined();
  });

  it('config check: one number may select only one queue (+ ignored)', () => {
    expect(
      problems(['queues:', '  - { id: a, name: A, numbers: ["+15550100"] }', '  - { id: b, name: B, numbers: ["15550100", "7"] }'].join('\n')),
    ).toEqual(['queues[1].numbers[0]: number "15550100" already selects queue "a"; a number may select only one queue']);
  });

  it('config check: without the embedded server, drachtio host, port and secret are required', () => {
    expect(problems('sipServer: { embedded: false }\ndrachtio: { host: 10.0.0.5 }\n')).toEqual([
      'drachtio.port: required when sipServer.embedded is false: the engine needs the port of the drachtio-server to connect to',
      'drachtio.secret: required when sipServer.embedded is false: the engine needs the secret of the drachtio-server to connect to',
    ]);
    expect(problems('sipServer: { embedded: false }\ndrachtio: { host: 10.0.0.5, port: 9022, secret: s }\n')).toEqual([]);
  });
});

function newSession(): CallSession {
  return new CallSession({
    callId: 'cid',
    caller: { number: '+15551234', name: undefined, withheld: false },
    dialed: '1000',
    source: { address: '127.0.0.1', port: 5060, transport: 'udp' },
    language: 'en',
    logger: silentLogger(),
  });
}

describe('configuration of the live call', () => {
  it('a deflection to a missing queue, a prompt file that does not exist and an outbound trunk without host: one error lists all three', () => {
    expect(
      problems(
        [
          'deflection: { calls: { enabled: true, ivr: { option: message } }, messages: { afterHours: { en: { file: /nonexistent/closed.mp3 } } } }',
          'trunks: { outbound: [{ id: carrier, port: 5090 }] }',
          'queues:',
          '  - { id: support, name: Support, numbers: ["1000"], deflection: { ivr: { option: queue, queue: nowhere } } }',
        ].join('\n'),
      ),
    ).toEqual([
      'trunks.outbound[0]: missing required setting "host"',
      'queues[0].deflection.ivr.queue: unknown queue "nowhere"',
      'deflection.messages.afterHours.en.file: /nonexistent/closed.mp3 does not exist',
    ]);
  });

  it('outbound trunks: ids unique, credentials in pairs and readable, one trunk named for phone-number deflections', () => {
    expect(
      problems(
        [
          'engine: { outboundTrunk: nope }',
          'trunks:',
          '  outbound:',
          '    - { id: a, host: 10.0.0.1, username: sb }',
          '    - { id: a, host: 10.0.0.2, password: s, passwordFile: /nonexistent/secret }',
          'queues:',
          '  - { id: q, name: Q, numbers: ["1"], deflection: { ivr: { option: phoneNumber, phoneNumber: "+15550199" } } }',
        ].join('\n'),
      ),
    ).toEqual([
      'trunks.outbound[0]: username needs password or passwordFile (digest credentials come in pairs)',
      'trunks.outbound[1].id: trunk id "a" is also used by trunks.outbound[0]',
      'trunks.outbound[1]: give password or passwordFile, not both',
      'trunks.outbound[1]: a password needs a username',
      'trunks.outbound[1].passwordFile: cannot read /nonexistent/secret: ENOENT: no such file or directory, open \'/nonexistent/secret\'',
      'engine.outboundTrunk: no outbound trunk "nope"; configured: a',
    ]);
    expect(problems('queues: [{ id: q, name: Q, numbers: ["1"], deflection: { ivr: { option: phoneNumber, phoneNumber: "+15550199" } } }]\n')).toEqual([
      'queues[0].deflection.ivr: a phone-number deflection needs an outbound trunk (trunks.outbound) to call through',
    ]);
  });

  it('outbound trunks: the ring time ends at least 2 s before the embedded SIP server would answer the caller 500 itself', () => {
    const trunks = (a: number, b: number): string => `trunks: { outbound: [{ id: a, host: 10.0.0.1, ringTimeoutSeconds: ${a} }, { id: b, host: 10.0.0.2, ringTimeoutSeconds: ${b} }] }\n`;
    // The default (60 s) fits the default appResponseTimeoutMs (64 s).
    expect(problems('trunks: { outbound: [{ id: a, host: 10.0.0.1 }] }\n')).toEqual([]);
    expect(problems(trunks(62, 63))).toEqual([
      'trunks.outbound[1].ringTimeoutSeconds: 63 s is not at least 2 s below sipServer.timers.appResponseTimeoutMs (64 s): the SIP server would answer the caller 500 before the gateway is given up',
    ]);
    expect(problems(`sipServer: { timers: { appResponseTimeoutMs: 200000 } }\n${trunks(120, 198)}`)).toEqual([]);
    // A real drachtio-server has no such timer.
    expect(problems(`sipServer: { embedded: false }\ndrachtio: { host: 10.0.0.5, port: 9022, secret: s }\n${trunks(300, 600)}`)).toEqual([]);
  });

  it('a queue with phone numbers serves ivr: one whose channels leave it out would fail every call to them (probe AO-3)', () => {
    expect(problems('queues: [{ id: q, name: Q, numbers: ["1"], channels: [web, chat] }]\n')).toEqual([
      'queues[0].channels: queue "q" has phone numbers but does not serve ivr (its channels: web, chat); every call to them would fail',
    ]);
    expect(problems('queues: [{ id: q, name: Q, numbers: ["1"], channels: [ivr, web] }, { id: w, name: W, channels: [web] }]\n')).toEqual([]);
  });
});

describe('call session teardown', () => {
  it('end() releases everything once, most recent first, and survives a failing release', async () => {
    const s = newSession();
    const order: string[] = [];
    s.own('first', () => void order.push('first'));
    s.own('failing', () => {
      throw new Error('boom');
    });
    s.own('last', async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('last');
    });
    await Promise.all([s.end('a'), s.end('b')]);
    await s.end('c');
    expect(order).toEqual(['last', 'first']);
    expect(s.endReason).toBe('a');
    expect(s.state).toBe('ended');
    expect(s.signal.aborted).toBe(true);
  });

  it('a resource released early is not released again; one owned after the end is released at once', async () => {
    const s = newSession();
    let n = 0;
    const release = s.own('timer', () => void n++);
    await release();
    await release();
    await s.end('done');
    expect(n).toBe(1);
    let late = false;
    s.own('late', () => void (late = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(late).toBe(true);
  });
});

describe('the call record', () => {
  it('names an anonymous caller in crm.timeZone, as the recording does, whatever the zone of the queue\'s schedule', () => {
    const arrived = Date.parse('2026-12-06T06:22:30Z');
    const s = new CallSession({
      callId: 'cid',
      caller: { number: undefined, name: undefined, withheld: true },
      dialed: '1000',
      source: { address: '127.0.0.1', port: 5060, transport: 'udp' },
      language: 'en',
      logger: silentLogger(),
      now: () => arrived,
    });
    s.decisions.push({ queue: 'q', open: true, action: 'enqueue', reason: 'weekly-hours', deflection: null, schedule: 'always', timeZone: 'UTC', exception: null, at: '2026-12-06T06:22:30Z' });
    const contact = { channel: 'Phone', timeZone: 'Asia/Jakarta' };
    const record = callRecordOf(s, contact);
    expect(record.caller.contact).toBe('Phone User - 12/06 13:22');
    // The recording's own contact (recordings/crm/contact.ts), for the same instant: the same name.
    expect(record.caller.contact).toBe(contactFor({ anonymous: true }, new Date(arrived), contact).name);
  });
});

describe('SIP answers for failures', () => {
  it('a prompt missing at call time is our fault: 500 naming it, not 488 (which tells a carrier its SDP was refused)', () => {
    const f = sipFailureOf(new PromptMissingError('queues[5].emergency.message.en'));
    expect([f.status, f.reason]).toEqual([500, 'Server Internal Error (no prompt is configured at queues[5].emergency.message.en)']);
  });

  it('a relay out of ports or not answering: 503 with Retry-After (try another node), not 488 (the offer refused)', () => {
    const full = sipFailureOf(new RtpengineError('offer', 'Ran out of ports', 'embedded'));
    expect([full.status, full.reason, full.headers]).toEqual([503, 'Media Relay Unavailable (Ran out of ports)', { 'Retry-After': '5' }]);
    const silent = sipFailureOf(new RtpengineTimeoutError('offer', 1000, 3, 'embedded'));
    expect([silent.status, silent.headers]).toEqual([503, { 'Retry-After': '5' }]);
    const refused = sipFailureOf(new RtpengineError('offer', 'Failed to parse SDP', 'embedded'));
    expect([refused.status, refused.headers]).toEqual([488, { Warning: '399 switchboard "Failed to parse SDP"' }]);
  });
});

describe('the agent in a recording’s CRM metadata', () => {
  it('a configured agent by id and name (a static device by its URI too); a queue’s static agent by its URI; none: empty', () => {
    const config = loadConfigObject(
      {
        queues: [{ id: 'sales', name: 'Sales', numbers: ['6000'], waiting: {} }],
        agents: [
          { id: 'ann', name: 'Ann Lee', device: 'registered', password: 'ann-secret', queues: [{ queue: 'sales' }] },
          { id: 'bob', name: 'Bob', device: 'sip:bob@127.0.0.1:5999', queues: [{ queue: 'sales' }] },
        ],
      },
      { checks: configChecks },
    );
    const services = { agents: { agents: new AgentRegistry(config, silentLogger()) } } as unknown as Parameters<typeof agentParty>[0];
    expect(agentParty(services, 'ann')).toEqual({ id: 'ann', name: 'Ann Lee' });
    expect(agentParty(services, 'bob')).toEqual({ id: 'bob', name: 'Bob', uri: 'sip:bob@127.0.0.1:5999' });
    expect(agentParty(services, 'sip:agent@127.0.0.1:5080')).toEqual({ uri: 'sip:agent@127.0.0.1:5080' });
    expect(agentParty({ agents: undefined } as unknown as Parameters<typeof agentParty>[0], 'sip:agent@127.0.0.1:5080')).toEqual({ uri: 'sip:agent@127.0.0.1:5080' });
    expect(agentParty(services, undefined)).toEqual({});
  });
});

describe('the estimated wait announced to a waiting caller', () => {
  it('in whole minutes, at least one, and "1 minute" for one', () => {
    const text = 'Your estimated wait time is about {Minutes} minutes.';
    expect(waitAnnouncement(text, 20_000)).toBe('Your estimated wait time is about 1 minute.');
    expect(waitAnnouncement(text, 60_001)).toBe('Your estimated wait time is about 2 minutes.');
    expect(waitAnnouncement('Perkiraan waktu tunggu {Minutes} menit.', 10_000)).toBe('Perkiraan waktu tunggu 1 menit.');
  });
});
