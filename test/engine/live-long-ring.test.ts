/**
 * A caller left ringing longer than the SIP server gives an app to answer
 * (`sipServer.timers.appResponseTimeoutMs`, 64 s by default; 2 s here): a
 * plain hunt of several agents, each ringing its full ring time, easily takes
 * longer. The engine sends its last provisional again every half of that time
 * (RFC 3261 §13.3.1.1 wants one a minute, for proxies' Timer C), each of which
 * restarts the server's timer, so the caller keeps hearing ringback until an
 * agent answers, instead of getting the server's 500 in the middle of the hunt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { median, streamPcm, toneLevels } from '../support/rtp/audio-check.js';
import { request, uniq, type Received } from '../support/sip-peer.js';

let cc: ContactCenter;
let ann: AgentPhone;
let bob: AgentPhone;

beforeAll(async () => {
  ann = await AgentPhone.create(1300);
  bob = await AgentPhone.create(1500);
  cc = await startContactCenter({
    sipServer: { timers: { t1Ms: 25, t2Ms: 400, t4Ms: 500, appResponseTimeoutMs: 2000 } },
    media: { whisper: { enabled: false } },
    queues: [{ id: 'support', name: 'Support', numbers: ['1000'], ringTimeoutSeconds: 3, agents: [ann.uri('ann'), bob.uri('bob')] }],
  });
});
afterAll(async () => {
  await cc?.stop();
  ann?.close();
  bob?.close();
});

describe('a hunt longer than the app timeout', () => {
  it('the caller gets its 183 again while the first agent rings out, then the second agent answers: 200, not 500', async () => {
    ann.behaviour = 'ring';
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(183, 10_000);
      expect(await call.waitFinal(30_000)).toBe(200);
      // The first 183, and at least one more before the server's 2 s were up (ann rang 3 s).
      expect(call.responses.filter((s) => s === 183).length).toBeGreaterThanOrEqual(2);
      expect(ann.calls[0]!.cancel?.message.headers.values('reason')).toEqual(['Q.850;cause=19;text="No answer"']);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => [a.agent, a.outcome])).toEqual([
        [ann.uri('ann'), 'no-answer'],
        [bob.uri('bob'), 'answered'],
      ]);
      expect(record.endedBy).toBe('caller');
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a caller that requires 100rel: each 183 again is reliable with the next RSeq (RFC 3262), is PRACKed, and the 200 follows, repeating the answer of the 183s though the agent took another codec (RFC 6337 §3.1.1)', async () => {
    ann.behaviour = 'ring';
    bob.codecs = ['pcma'];
    const caller = await CallerPhone.create(700);
    let early: string | undefined;
    try {
      const callId = uniq('rel');
      const fromTag = uniq('f');
      const uri = `sip:1000@127.0.0.1:${cc.udp.port}`;
      await caller.peer.send(request({ method: 'INVITE', uri, peer: caller.peer, callId, fromTag, body: caller.rtp.sdp({ telephoneEvent: true }), extra: ['Require: 100rel'] }), cc.udp);
      const rseqs: number[] = [];
      let cseq = 1;
      let final: Received | undefined;
      // PRACK every new reliable 183 until the final response (a retransmitted one carries an RSeq already seen).
      while (final === undefined) {
        const r = await caller.peer.wait((m) => m.info.callId === callId && m.message.kind === 'response' && m.info.cseqMethod === 'INVITE' && m.message.status > 100, 30_000, 'a response to the INVITE');
        if (r.message.kind !== 'response' || r.message.status >= 200) {
          final = r;
          break;
        }
        const rseq = Number(r.message.headers.get('rseq'));
        if (rseqs.includes(rseq)) continue;
        expect(r.message.headers.entries('require')).toContain('100rel');
        early = r.message.body.toString('utf8');
        rseqs.push(rseq);
        const target = /<([^>]+)>/.exec(r.message.headers.get('contact') ?? '')?.[1] ?? uri;
        await caller.peer.send(request({ method: 'PRACK', uri: target, peer: caller.peer, callId, fromTag, toTag: r.info.toTag!, cseq: ++cseq, to: `<${uri}>`, extra: [`RAck: ${rseq} 1 INVITE`] }), cc.udp);
      }
      expect(final.message.kind === 'response' && final.message.status).toBe(200);
      expect(early).toMatch(/^m=audio \d+ RTP\/AVP 0 /m);
      expect(final.message.body.toString('utf8')).toBe(early);
      expect(rseqs.length).toBeGreaterThanOrEqual(2);
      expect(rseqs).toEqual(rseqs.map((_, i) => rseqs[0]! + i));
      const target = /<([^>]+)>/.exec(final.message.headers.get('contact') ?? '')?.[1] ?? uri;
      const base = { peer: caller.peer, callId, fromTag, toTag: final.info.toTag!, to: `<${uri}>` };
      await caller.peer.send(request({ method: 'ACK', uri: target, ...base }), cc.udp);
      // The relay transcodes: the caller hears bob (1500 Hz, sent in PCMA) in the PCMU it was answered with.
      const since = caller.rtp.received.length;
      await eventually(() => {
        const heard = caller.rtp.received.slice(since).filter((p) => p.payloadType === 0);
        return heard.length > 25 && median(toneLevels(streamPcm(heard), 1500)) > 1000;
      }, 15_000, "bob's tone in PCMU at the caller");
      await caller.peer.send(request({ method: 'BYE', uri: target, ...base, cseq: cseq + 1 }), cc.udp);
      await caller.peer.waitResponse(200, 'BYE');
      expect((await cc.recordOf(callId)).agentsTried.map((a) => a.outcome)).toEqual(['no-answer', 'answered']);
      await cc.settled();
    } finally {
      bob.codecs = ['pcmu', 'pcma'];
      caller.close();
    }
  });
});
