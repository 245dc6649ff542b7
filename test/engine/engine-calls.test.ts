/**
 * What the agent leg carries from the caller's INVITE: the caller's identity
 * (withheld stays withheld) and Max-Forwards one less, so a routing loop
 * through proxies and this B2BUA still ends (483 at zero).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type RunningSwitchboard } from '../../src/app/switchboard.js';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { respond, request, sdp, SipPeer } from '../support/sip-peer.js';

describe('engine: agent leg', () => {
  let sb: RunningSwitchboard;
  let caller: SipPeer;
  let agent: SipPeer;
  let port: number;

  beforeAll(async () => {
    caller = await SipPeer.create('udp');
    agent = await SipPeer.create('udp');
    const config = loadConfigObject({
      node: { logLevel: 'silent', status: { enabled: false } },
      sipServer: { thread: 'inline', listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0 }, overload: { enabled: false } },
      queues: [{ id: 'q', name: 'Q', numbers: ['1000'], agents: [`sip:agent@127.0.0.1:${agent.port}`] }],
    });
    sb = await startSwitchboard(config, silentLogger(), { media: false, recordingsWorker: false });
    port = sb.sipListeners[0]!.port;
  });
  afterAll(async () => {
    await sb.stop();
    await caller.close();
    await agent.close();
  });

  async function agentInviteFor(extra: string[], from?: string): Promise<ReturnType<SipPeer['waitRequest']>> {
    let text = request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: caller, body: sdp(4000), extra });
    if (from !== undefined) text = text.replace(/^From: .*$/m, `From: ${from}`);
    await caller.send(text.replace('Max-Forwards: 70\r\n', ''), { port });
    return agent.waitRequest('INVITE');
  }

  it('the agent sees the caller’s number and name, and Max-Forwards one less', async () => {
    const inv = await agentInviteFor(['Max-Forwards: 5'], `"Alice Example" <sip:+15551234@127.0.0.1:${caller.port}>;tag=a1`);
    expect(inv.message.headers.get('from')).toMatch(new RegExp(`^"Alice Example" <sip:\\+15551234@127\\.0\\.0\\.1:${port}>;tag=`));
    expect(inv.message.headers.get('max-forwards')).toBe('4');
    await agent.send(respond(inv, 486, 'Busy Here', { toTag: 'b' }), { port });
    await caller.waitResponse(480, 'INVITE');
  });

  it('an anonymous caller stays anonymous to the agent', async () => {
    const inv = await agentInviteFor(['Max-Forwards: 70'], `"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a2`);
    // RFC 3323 §4.1.1.3: the agent's phone shows "Anonymous", as any withheld caller (docs/trunks.md).
    expect(inv.message.headers.get('from')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/);
    await agent.send(respond(inv, 486, 'Busy Here', { toTag: 'b' }), { port });
    await caller.waitResponse(480, 'INVITE');
  });

  it('Max-Forwards 0 gets 483 and no agent is called', async () => {
    await caller.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: caller, body: sdp(4000) }).replace('Max-Forwards: 70', 'Max-Forwards: 0'), { port });
    await caller.waitResponse(483, 'INVITE');
    expect(await agent.quiet((r) => r.message.kind === 'request' && r.message.method === 'INVITE', 200)).toEqual([]);
  });
});

describe('engine: signaling only (media.enabled: false)', () => {
  let sb: RunningSwitchboard;
  let caller: SipPeer;
  let agent: SipPeer;
  let port: number;

  beforeAll(async () => {
    caller = await SipPeer.create('udp');
    agent = await SipPeer.create('udp');
    const config = loadConfigObject({
      node: { logLevel: 'silent', status: { enabled: false } },
      sipServer: { thread: 'inline', listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0 }, overload: { enabled: false } },
      media: { enabled: false },
      queues: [
        { id: 'q', name: 'Q', numbers: ['1000'], agents: [`sip:agent@127.0.0.1:${agent.port}`] },
        { id: 'closed', name: 'Closed', numbers: ['2000'], emergency: { force: 'closed' }, deflection: { ivr: { option: 'message', message: { en: { text: 'We are closed.' } } } } },
      ],
    });
    // No `media` option: the configuration alone turns the media plane off (no rtpengine is started).
    sb = await startSwitchboard(config, silentLogger(), { recordingsWorker: false });
    port = sb.sipListeners[0]!.port;
  });
  afterAll(async () => {
    await sb.stop();
    await caller.close();
    await agent.close();
  });

  it('the caller’s SDP reaches the agent unchanged (nothing anchored)', async () => {
    const offer = sdp(4100);
    await caller.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: caller, body: offer }), { port });
    const inv = await agent.waitRequest('INVITE');
    expect(inv.message.body.toString()).toBe(offer);
    await agent.send(respond(inv, 486, 'Busy Here', { toTag: 'b' }), { port });
    await caller.waitResponse(480, 'INVITE');
  });

  it('a deflection that needs audio (a message) is refused with 480, not a silent answer', async () => {
    await caller.send(request({ method: 'INVITE', uri: `sip:2000@127.0.0.1:${port}`, peer: caller, body: sdp(4200) }), { port });
    const res = await caller.waitResponse(480, 'INVITE');
    expect(res.message.reason).toMatch(/^Temporarily Unavailable/);
    expect(await agent.quiet((r) => r.message.kind === 'request' && r.message.method === 'INVITE', 200)).toEqual([]);
  });
});
