/**
 * Silent monitoring end to end, with real audio: the caller sends 700 Hz, the
 * agent 1300 Hz, through the engine and real rtpengine. Supervisors ask the
 * API to listen on their SIP phones: two test phones that record every RTP
 * packet (decoded and measured here) and a baresip softphone (a third-party
 * SIP stack answering and hanging up). Each phone is called and the test
 * phones hear both parties mixed. The caller's and the agent's SIP and RTP are
 * the same while monitoring starts and stops (no request, no new stream, no
 * missing or extra packet), the monitors share one subscription, and they end
 * when the call ends or the phone hangs up.
 *
 * (baresip's decoded audio is not measured: with the aubridge stand-in for a
 * sound card, baresip 1.0 restarts its player when it answers a sendonly offer
 * and the bridge keeps feeding the old one, so it decodes nothing; with a
 * sendrecv offer it decodes normally. A harness limit, not a monitor one.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/api/audit/audit-log.js';
import { generateKey } from '../../src/api/auth/api-key.js';
import { writeKeysFile } from '../../src/api/auth/keys-file.js';
import type { CallDetailsView, CallSummary } from '../../src/api/schemas.js';
import type { MonitorView } from '../../src/engine/call-control.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import type { Received } from '../support/sip-peer.js';
import { eventually } from '../support/harness.js';
import { Baresip } from '../support/interop/baresip.js';
import { AgentPhone, CallerPhone, type PlacedCall } from '../support/phones.js';
import { Registrant, statusOf } from '../support/registration.js';
import { bySsrc, median, streamPcm, toneLevels } from '../support/rtp/audio-check.js';
import { apiClient } from './support/api-http.js';
import { SseClient } from './support/sse-client.js';

const CALLER_HZ = 700;
const AGENT_HZ = 1300;

let cc: ContactCenter;
let agent: AgentPhone;
let busyDevice: AgentPhone;
let ringingDevice: AgentPhone;
let sup1: AgentPhone;
let sup2: AgentPhone;
let softphone: Baresip;
const admin = generateKey();
const supervisor = generateKey();
let asAdmin: ReturnType<typeof apiClient>;
let asSupervisor: ReturnType<typeof apiClient>;

beforeAll(async () => {
  agent = await AgentPhone.create(AGENT_HZ);
  busyDevice = await AgentPhone.create(0);
  busyDevice.behaviour = 'busy';
  ringingDevice = await AgentPhone.create(0);
  ringingDevice.behaviour = 'ring';
  cc = await startContactCenter({
    media: { whisper: { enabled: false } },
    api: {
      enabled: true,
      port: 0,
      monitor: { ringTimeoutSeconds: 2 },
      keys: [
        { id: admin.id, user: 'alice', role: 'admin', hash: admin.hash },
        { id: supervisor.id, user: 'sam', role: 'supervisor', hash: supervisor.hash },
      ],
    },
    queues: [{ id: 'support', name: 'Support', team: 'care', numbers: ['1000'], agents: [agent.uri()] }],
    // A supervisor's desk phone that registers: an agents entry serving no queue.
    agents: [{ id: 'sam-desk', name: "Sam's desk phone", password: 'desk-secret' }],
  });
  sup1 = await AgentPhone.create(0);
  sup2 = await AgentPhone.create(0);
  softphone = await Baresip.start({ user: 'supervisor', answer: 'auto' });
  asAdmin = apiClient(cc.sb.api!.port, admin.key);
  asSupervisor = apiClient(cc.sb.api!.port, supervisor.key);
});
afterAll(async () => {
  await cc?.stop();
  sup1?.close();
  sup2?.close();
  await softphone?.stop();
  agent?.close();
  busyDevice?.close();
  ringingDevice?.close();
});

/** Places a call to the queue and waits until both sides hear each other. */
async function connectedCall(caller: CallerPhone): Promise<{ call: PlacedCall; id: string }> {
  const call = caller.dial(cc.udp, '1000');
  await call.waitStatus(200, 30_000);
  const mark = caller.rtp.received.length;
  await eventually(() => caller.rtp.received.length - mark > 25 && agent.rtp.received.length > 25, 10_000, 'audio both ways');
  const { body } = await asAdmin<{ calls: CallSummary[] }>('GET', '/calls?state=connected');
  const id = body.calls.find((c) => c.sipCallId === call.callId)!.id;
  return { call, id };
}

/** Waits for the caller to receive `n` more packets: time measured by the call's own audio, not a clock. */
async function packets(caller: CallerPhone, n: number): Promise<void> {
  const mark = caller.rtp.received.length;
  await eventually(() => caller.rtp.received.length - mark >= n, 15_000, `${n} more packets at the caller`);
}

describe('silent monitoring of a live call', () => {
  it("a supervisor's registered phone: the monitor calls it where it registered; while none is registered, 409", async () => {
    const caller = await CallerPhone.create(CALLER_HZ);
    const desk = await AgentPhone.create(0);
    try {
      const { call, id } = await connectedCall(caller);
      const unregistered = await asSupervisor<{ code: string; reason: string }>('POST', `/calls/${id}/monitors`, { device: 'sip:sam-desk@127.0.0.1' });
      expect(unregistered.status).toBe(409);
      expect(unregistered.body.reason).toContain('sam-desk has no phone registered');
      expect(desk.calls).toHaveLength(0);

      expect(statusOf(await new Registrant(desk.peer, cc.udp).register({ user: 'sam-desk', password: 'desk-secret', expires: 120 }))).toBe(200);
      const m = await asSupervisor<MonitorView>('POST', `/calls/${id}/monitors`, { device: 'sip:sam-desk@127.0.0.1' });
      expect(m.status, JSON.stringify(m.body)).toBe(201);
      expect(desk.calls).toHaveLength(1);
      expect(desk.calls[0]!.invite.message.headers.get('x-switchboard-call')).toBe(id);
      await eventually(() => desk.rtp.received.length > 25, 10_000, 'the mix at the desk phone');

      call.hangUp();
      await eventually(() => desk.calls[0]!.requests.includes('BYE'), 10_000, 'BYE at the desk phone');
      await cc.settled();
    } finally {
      caller.close();
      desk.close();
    }
  });

  it('three supervisors listen at once (two decoded: both parties mixed); caller and agent see no change; the monitors end with the call', async () => {
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, id } = await connectedCall(caller);
      const agentCall = agent.calls.at(-1)!;
      const callerRequests = [...call.requests];
      const agentRequests = [...agentCall.requests];
      const t0 = performance.now();
      const mark = softphone.events.all.length;

      const [m1, m2, m3] = await Promise.all([
        asSupervisor<MonitorView>('POST', `/calls/${id}/monitors`, { device: sup1.uri('sam') }),
        asAdmin<MonitorView>('POST', `/calls/${id}/monitors`, { device: sup2.uri('alice') }),
        asAdmin<MonitorView>('POST', `/calls/${id}/monitors`, { device: softphone.uri() }),
      ]);
      for (const m of [m1, m2, m3]) expect(m.status, JSON.stringify(m.body)).toBe(201);
      expect(m1.body).toMatchObject({ user: 'sam', device: sup1.uri('sam'), state: 'listening' });
      expect(m2.body).toMatchObject({ user: 'alice', device: sup2.uri('alice'), state: 'listening' });
      await softphone.waitEvent('CALL_ESTABLISHED', 10_000, mark);
      // Each phone was called by the engine, as a call of its own.
      expect(sup1.calls).toHaveLength(1);
      expect(sup1.calls[0]!.invite.message.headers.get('x-switchboard-call')).toBe(id);

      // Who is monitoring shows in the details; all share one subscription at rtpengine.
      const details = await asAdmin<CallDetailsView>('GET', `/calls/${id}`);
      expect(details.body.monitors.map((m) => [m.user, m.state]).sort()).toEqual([
        ['alice', 'listening'],
        ['alice', 'listening'],
        ['sam', 'listening'],
      ]);
      expect(details.body.participants.filter((p) => p.role === 'supervisor')).toHaveLength(3);
      const q = await cc.sb.media!.getCallMedia(id)!.query();
      const subscriptions = Object.values(q.tags as Record<string, { subscriptions?: { type: string }[] }>).filter((t) => (t.subscriptions ?? []).some((x) => x.type === 'pub/sub'));
      expect(subscriptions).toHaveLength(1);

      await packets(caller, 100);
      const stopped = await asSupervisor<MonitorView>('DELETE', `/calls/${id}/monitors/${m1.body.id}`);
      expect(stopped.status).toBe(200);
      // The answer says what the DELETE did: stopped, when, and since when it had listened.
      expect(stopped.body).toMatchObject({ id: m1.body.id, state: 'stopped', listeningSince: expect.any(String), stoppedAt: expect.any(String) });
      await eventually(() => sup1.calls[0]!.requests.includes('BYE'), 10_000, "BYE at sam's phone");
      const sup1Stopped = performance.now();
      await packets(caller, 50);
      const tEnd = performance.now();

      // Nothing reached the caller's or agent's phone but their own call: no re-INVITE, no UPDATE, no INFO.
      expect(call.requests).toEqual(callerRequests);
      expect(agentCall.requests).toEqual(agentRequests);
      // Their media: one stream each, from the same address as before, every packet the other sent relayed once, nothing else.
      for (const [receiver, sender] of [
        [caller, agent],
        [agent, caller],
      ] as const) {
        const before = receiver.rtp.received.filter((p) => p.arrivalMs < t0).at(-1)!;
        const during = receiver.rtp.receivedBetween(t0, tEnd);
        expect([...bySsrc(during).keys()]).toEqual([before.ssrc]);
        expect(new Set(during.map((p) => `${p.from.address}:${p.from.port}/${p.payloadType}`))).toEqual(new Set([`${before.from.address}:${before.from.port}/${before.payloadType}`]));
        const got = during.map((p) => p.sequenceNumber);
        expect(new Set(got).size, 'no duplicate packet').toBe(got.length);
        const sent = sender.tone!.sent.filter((p) => p.sentMs >= t0 + 100 && p.sentMs < tEnd - 200).map((p) => p.sequenceNumber);
        expect(sent.length).toBeGreaterThan(100);
        expect(sent.filter((x) => !got.includes(x)), 'every packet sent was relayed').toEqual([]);
        const sentAround = new Set(sender.tone!.sent.filter((p) => p.sentMs >= t0 - 500 && p.sentMs < tEnd + 500).map((p) => p.sequenceNumber));
        expect(got.filter((x) => !sentAround.has(x)), 'no packet that was not sent').toEqual([]);
      }

      // The caller hangs up: the remaining monitors end with the call.
      call.hangUp();
      await eventually(() => sup2.calls[0]!.requests.includes('BYE'), 10_000, "BYE at alice's phone");
      await softphone.waitEvent('CALL_CLOSED', 10_000, mark);
      await cc.settled();

      // Each test phone received one stream of 20 ms packets: both parties, mixed, at their levels; sam's stopped at his stop.
      for (const sup of [sup1, sup2]) {
        const streams = [...bySsrc(sup.rtp.received).values()];
        expect(streams).toHaveLength(1);
        expect(streams[0]!.every((p) => p.payload.length === 160)).toBe(true);
        const pcm = streamPcm(streams[0]!);
        expect(pcm.length).toBeGreaterThan(8000);
        // From the first audible 50 ms window (the playout buffer fills first) to the end, less the last window.
        const windows = (hz: number): number[] => toneLevels(pcm, hz);
        const first = windows(CALLER_HZ).findIndex((a, i) => a > 2000 || windows(AGENT_HZ)[i]! > 2000);
        expect(first).toBeGreaterThanOrEqual(0);
        const callerLevels = windows(CALLER_HZ).slice(first, -1);
        const agentLevels = windows(AGENT_HZ).slice(first, -1);
        expect(callerLevels.length).toBeGreaterThan(20);
        expect(median(callerLevels)).toBeGreaterThan(6000);
        expect(median(agentLevels)).toBeGreaterThan(6000);
        // Mixed, not alternating: most windows hold both tones (a busy machine's late packets leave a few with one).
        const both = callerLevels.filter((a, i) => a > 4000 && agentLevels[i]! > 4000).length;
        expect(both / callerLevels.length, `windows with both tones\n${callerLevels.map(Math.round).join(' ')}\n${agentLevels.map(Math.round).join(' ')}`).toBeGreaterThan(0.5);
      }
      expect(sup1.rtp.received.filter((p) => p.arrivalMs > sup1Stopped + 200)).toEqual([]);
      expect(sup2.rtp.received.filter((p) => p.arrivalMs > sup1Stopped + 500).length).toBeGreaterThan(20);

      // Audited: the three starts, sam's stop, and the stops by the call's end.
      const audit = (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).body.entries;
      expect(audit.map((e) => [e.action, e.outcome, e.user]).sort()).toEqual(
        [
          ['monitor.start', 'ok', 'alice'],
          ['monitor.start', 'ok', 'alice'],
          ['monitor.start', 'ok', 'sam'],
          ['monitor.stop', 'ok', 'sam'],
          ['monitor.stop', 'ok', 'system'],
          ['monitor.stop', 'ok', 'system'],
        ].sort(),
      );
      expect(audit.find((e) => e.user === 'system' && e.monitor === m2.body.id)).toMatchObject({ device: sup2.uri('alice'), reason: expect.stringMatching(/call ended.*alice/) });
    } finally {
      caller.close();
    }
  });

  it("a monitor phone gone from the network (it answered, then never answers our BYE) does not hold the call's end: the agent's BYE goes out while the monitor's is still being sent again", async () => {
    const gone = await AgentPhone.create(0);
    gone.answersBye = false;
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, id } = await connectedCall(caller);
      const agentCall = agent.calls.at(-1)!.invite.info.callId;
      const m = await asSupervisor<MonitorView>('POST', `/calls/${id}/monitors`, { device: gone.uri('sam') });
      expect(m.status).toBe(201);
      call.hangUp();
      await cc.recordOf(call.callId);
      const byes = (phone: AgentPhone, callId?: string): Received[] =>
        phone.peer.received.filter((r) => r.message.kind === 'request' && r.message.method === 'BYE' && (callId === undefined || r.info.callId === callId));
      await eventually(() => byes(agent, agentCall).length > 0, 10_000, "the agent's BYE");
      // Everything released: the monitor's BYE transaction has run to its end (Timer F), unanswered.
      await cc.settled();
      const toMonitor = byes(gone);
      expect(toMonitor.length).toBeGreaterThan(1);
      expect(byes(agent, agentCall)[0]!.at).toBeLessThan(toMonitor.at(-1)!.at);
    } finally {
      gone.close();
      caller.close();
    }
  });

  it('a phone that hangs up stops its monitor (seen on the event stream); the subscription ends with the last one', async () => {
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, id } = await connectedCall(caller);
      const events = await SseClient.open(cc.sb.api!.port, '/events', { authorization: `Bearer ${admin.key}` });
      await events.next((e) => e.event === 'snapshot', 'snapshot');
      const monitorsOf = (e: { event: string; data: string }): string[] | undefined => {
        if (e.event !== 'call.updated') return undefined;
        const c = (JSON.parse(e.data) as { call: CallSummary }).call;
        return c.id === id ? c.monitors.map((x) => x.state) : undefined;
      };
      const mark = softphone.events.all.length;
      const m = await asSupervisor<MonitorView>('POST', `/calls/${id}/monitors`, { device: softphone.uri() });
      expect(m.status).toBe(201);
      await softphone.waitEvent('CALL_ESTABLISHED', 10_000, mark);
      // Dashboards see the monitor come and go on the event stream.
      await events.next((e) => monitorsOf(e)?.join() === 'listening', 'the monitor listening, on the event stream');
      const seen = events.events.length;
      const hangup = await softphone.command('hangup');
      expect(hangup.ok, hangup.data).toBe(true);
      await events.next((e) => monitorsOf(e)?.length === 0, 'the monitor gone, on the event stream', seen);
      events.close();
      await eventually(async () => (await asAdmin<CallDetailsView>('GET', `/calls/${id}`)).body.monitors.length === 0, 10_000, 'the monitor gone from the call');
      const q = await cc.sb.media!.getCallMedia(id)!.query();
      expect(Object.values(q.tags as Record<string, { subscriptions?: { type: string }[] }>).some((t) => (t.subscriptions ?? []).some((s) => s.type === 'pub/sub'))).toBe(false);
      const [stop] = (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}&action=monitor.stop`)).body.entries;
      expect(stop).toMatchObject({ user: 'system', monitor: m.body.id, reason: expect.stringMatching(/device hung up.*sam/) });
      expect(call.requests).toEqual([]);
      call.hangUp();
      await cc.recordOf(call.callId);
    } finally {
      caller.close();
    }
  });

  it("revoking a key, or taking the monitor permission from its role, stops that user's monitors at once (BYE, audited); others listen on", async () => {
    const keysFile = join(cc.dir, 'api', 'keys.json');
    const mia = generateKey();
    const nick = generateKey();
    const g0 = cc.sb.api!.keys.generation;
    writeKeysFile(keysFile, [
      { id: mia.id, user: 'mia', role: 'supervisor', hash: mia.hash },
      { id: nick.id, user: 'nick', role: 'supervisor', hash: nick.hash },
    ]);
    await eventually(() => cc.sb.api!.keys.generation > g0 && cc.sb.api!.keys.size === 4, 10_000, 'the keys file read');
    const caller = await CallerPhone.create(CALLER_HZ);
    const miaPhone = await AgentPhone.create(0);
    const nickPhone = await AgentPhone.create(0);
    const samPhone = await AgentPhone.create(0);
    try {
      const { call, id } = await connectedCall(caller);
      const [mm, mn, ms] = await Promise.all([
        apiClient(cc.sb.api!.port, mia.key)<MonitorView>('POST', `/calls/${id}/monitors`, { device: miaPhone.uri('mia') }),
        apiClient(cc.sb.api!.port, nick.key)<MonitorView>('POST', `/calls/${id}/monitors`, { device: nickPhone.uri('nick') }),
        asSupervisor<MonitorView>('POST', `/calls/${id}/monitors`, { device: samPhone.uri('sam') }),
      ]);
      for (const m of [mm, mn, ms]) expect(m.status, JSON.stringify(m.body)).toBe(201);
      await eventually(() => miaPhone.rtp.received.length > 10 && nickPhone.rtp.received.length > 10, 10_000, 'the mix at both phones');

      // mia's key is revoked (`switchboard keys revoke` rewrites the file); nick's becomes an agent's key (no monitor permission).
      const g1 = cc.sb.api!.keys.generation;
      writeKeysFile(keysFile, [{ id: nick.id, user: 'nick', role: 'agent', hash: nick.hash }]);
      await eventually(() => cc.sb.api!.keys.generation > g1, 10_000, 'the keys file read again');
      await eventually(() => miaPhone.calls[0]!.requests.includes('BYE') && nickPhone.calls[0]!.requests.includes('BYE'), 10_000, 'BYE at the phones of mia and nick');
      const monitors = (await asAdmin<{ monitors: MonitorView[] }>('GET', `/calls/${id}/monitors`)).body.monitors;
      expect(monitors.map((m) => m.id)).toEqual([ms.body.id]);
      expect(samPhone.calls[0]!.requests).not.toContain('BYE');

      const stops = (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}&action=monitor.stop`)).body.entries;
      expect(stops.find((e) => e.monitor === mm.body.id)).toMatchObject({ user: 'system', outcome: 'ok', reason: expect.stringMatching(/key .* of mia is revoked.*monitor of mia/) });
      expect(stops.find((e) => e.monitor === mn.body.id)).toMatchObject({ user: 'system', outcome: 'ok', reason: expect.stringMatching(/role agent lacks the monitor permission.*monitor of nick/) });
      expect(call.requests).toEqual([]);
      call.hangUp();
      await eventually(() => samPhone.calls[0]!.requests.includes('BYE'), 10_000, "BYE at sam's phone with the call's end");
      await cc.settled();
    } finally {
      writeKeysFile(keysFile, []);
      caller.close();
      miaPhone.close();
      nickPhone.close();
      samPhone.close();
    }
  });

  it('a phone that is busy or does not answer: 502 with the reason; a call not yet connected: 409; a call ending while the phone rings: CANCEL and 409', async () => {
    const queued = await CallerPhone.create(CALLER_HZ);
    agent.behaviour = 'ring';
    let queuedCall: PlacedCall | undefined;
    try {
      queuedCall = queued.dial(cc.udp, '1000');
      let id = '';
      await eventually(async () => {
        const { body } = await asAdmin<{ calls: CallSummary[] }>('GET', '/calls?state=in-queue');
        id = body.calls.find((c) => c.sipCallId === queuedCall!.callId)?.id ?? '';
        return id !== '';
      }, 10_000, 'the call in queue');
      const early = await asAdmin('POST', `/calls/${id}/monitors`, { device: softphone.uri() });
      expect(early.status).toBe(409);
      expect(early.body).toMatchObject({ code: 'SB_CONFLICT', reason: expect.stringMatching(/in-queue; only connected calls/) });
      queuedCall.cancel();
      await queuedCall.waitFinal();
    } finally {
      agent.behaviour = 'answer';
      queued.close();
    }

    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, id } = await connectedCall(caller);
      const busy = await asAdmin('POST', `/calls/${id}/monitors`, { device: busyDevice.uri('sup') });
      expect(busy.status).toBe(502);
      expect(busy.body).toMatchObject({ code: 'SB_MONITOR_DEVICE_FAILED', reason: expect.stringMatching(/486/) });
      const noAnswer = await asAdmin('POST', `/calls/${id}/monitors`, { device: ringingDevice.uri('sup') });
      expect(noAnswer.status).toBe(502);
      expect(noAnswer.body).toMatchObject({ code: 'SB_MONITOR_DEVICE_FAILED', reason: expect.stringMatching(/408 no answer/) });
      // The unanswered phone got its CANCEL.
      await eventually(() => ringingDevice.calls.at(-1)!.requests.includes('CANCEL'), 10_000, 'CANCEL at the phone that rang');
      expect((await asAdmin<CallDetailsView>('GET', `/calls/${id}`)).body.monitors).toEqual([]);
      const failed = (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}&action=monitor.start`)).body.entries;
      expect(failed.map((e) => [e.outcome, e.status])).toEqual([
        ['failed', 502],
        ['failed', 502],
      ]);
      // Each under the monitor id it was listed with while its phone rang.
      expect(failed.every((e) => typeof e.monitor === 'string' && /^m[0-9a-f]{12}$/.test(e.monitor))).toBe(true);
      // A monitor that never listened is not also audited as stopped.
      expect((await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}&action=monitor.stop`)).body.entries).toEqual([]);
      expect(call.requests).toEqual([]);

      // Stopped by its user while the phone rings: our CANCEL, not the phone's answer: 409, not 502 "the device answered 487".
      const stopped = asAdmin('POST', `/calls/${id}/monitors`, { device: ringingDevice.uri('stop') });
      let ringingId = '';
      await eventually(async () => {
        ringingId = (await asAdmin<CallDetailsView>('GET', `/calls/${id}`)).body.monitors.find((x) => x.state === 'ringing')?.id ?? '';
        return ringingId !== '';
      }, 10_000, 'the monitor ringing');
      expect((await asAdmin('DELETE', `/calls/${id}/monitors/${ringingId}`)).status).toBeLessThan(300);
      const cut = await stopped;
      expect(cut.status).toBe(409);
      expect(cut.body).toMatchObject({ code: 'SB_CONFLICT', reason: 'the monitor was stopped while the device was ringing' });
      // Its stop and its failed start are audited under the same monitor id.
      const entries = (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).body.entries.filter((e) => e.monitor === ringingId);
      expect(entries.map((e) => [e.action, e.outcome]).sort()).toEqual([
        ['monitor.start', 'failed'],
        ['monitor.stop', 'ok'],
      ]);

      // The call ends while a phone still rings for a monitor: the phone gets CANCEL, the request a 409.
      const ringing = asAdmin('POST', `/calls/${id}/monitors`, { device: ringingDevice.uri('late') });
      const rung = ringingDevice.calls.length;
      await eventually(() => ringingDevice.calls.length > rung, 10_000, 'the phone ringing');
      call.hangUp();
      const late = await ringing;
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ code: 'SB_CONFLICT', reason: expect.stringMatching(/call ended while the device was ringing/) });
      await eventually(() => ringingDevice.calls.at(-1)!.requests.includes('CANCEL'), 10_000, 'CANCEL at the phone');
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});
