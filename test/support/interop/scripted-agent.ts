/**
 * An agent phone on a raw SIP socket, for tests that need to see exactly what
 * the engine sends to the agent: answers (180, then 200 with SDP, RFC 3261
 * §13.3) or refuses (486) every INVITE, answers BYE with 200, and can hang up
 * the call it answered. Every message it receives is kept on the peer.
 */
import { respond, request, sdp, SipPeer, uniq, type Received, type Transport } from '../sip-peer.js';

export type AgentBehaviour = 'answer' | 'busy';

export interface AnsweredCall {
  readonly invite: Received;
  readonly toTag: string;
}

export class ScriptedAgent {
  readonly calls: AnsweredCall[] = [];
  behaviour: AgentBehaviour = 'answer';
  /** The SDP the agent answers (or offers, when the INVITE had none) with. */
  answerSdp = sdp(7000);

  private constructor(readonly peer: SipPeer) {
    peer.onMessage = (r) => this.onMessage(r);
  }

  static async create(transport: Transport = 'udp', host = '127.0.0.1'): Promise<ScriptedAgent> {
    return new ScriptedAgent(await SipPeer.create(transport, host));
  }

  uri(user = 'agent'): string {
    return `sip:${user}@${this.peer.uriHost}:${this.peer.port}${this.peer.transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  private onMessage(r: Received): void {
    if (r.message.kind !== 'request') return;
    const back = { host: r.from.address, port: r.from.port };
    const method = r.message.method;
    if (method === 'INVITE' && r.info.toTag === undefined) {
      if (this.behaviour === 'busy') {
        void this.peer.send(respond(r, 486, 'Busy Here', { toTag: uniq('busy') }), back);
        return;
      }
      const toTag = uniq('agent');
      const contact = `<${this.uri()}>`;
      // RFC 3261 §12.1.1: the dialog's route set, for proxies on the way (an edge with Path).
      const extra = r.message.headers.values('record-route').map((v) => `Record-Route: ${v}`);
      this.calls.push({ invite: r, toTag });
      void this.peer.send(respond(r, 180, 'Ringing', { toTag, contact, extra }), back);
      void this.peer.send(respond(r, 200, 'OK', { toTag, contact, body: this.answerSdp, extra }), back);
    } else if (method === 'INVITE') {
      void this.peer.send(respond(r, 200, 'OK', { contact: `<${this.uri()}>`, body: this.answerSdp }), back);
    } else if (method === 'BYE' || method === 'CANCEL' || method === 'OPTIONS' || method === 'INFO' || method === 'UPDATE') {
      void this.peer.send(respond(r, 200, 'OK'), back);
    }
  }

  /** The next `method` request inside answered call `i` (bounded); INVITE means a re-INVITE. */
  waitRequest(method: string, i: number, timeoutMs = 10_000): Promise<Received> {
    const call = this.calls[i];
    if (call === undefined) return Promise.reject(new Error(`agent has no call ${i}`));
    const callId = call.invite.info.callId;
    return this.peer.wait(
      (r) => r !== call.invite && r.message.kind === 'request' && r.message.method === method && r.info.callId === callId,
      timeoutMs,
      `${method} in agent call ${i}`,
    );
  }

  /** Hangs up the answered call `i` (BYE to the engine's Contact, from the agent's side of the dialog). */
  async hangUp(i = 0): Promise<void> {
    const call = this.calls[i];
    if (call === undefined) throw new Error(`agent has no call ${i}`);
    const inv = call.invite;
    if (inv.message.kind !== 'request') return;
    const contact = inv.message.headers.get('contact') ?? '';
    const target = /<([^>]+)>/.exec(contact)?.[1] ?? contact;
    const from = inv.message.headers.get('from') ?? '';
    const text = request({
      method: 'BYE',
      uri: target,
      peer: this.peer,
      callId: inv.info.callId,
      fromTag: call.toTag,
      to: from,
      cseq: 1,
    }).replace(/^From: .*$/m, `From: <${this.uri()}>;tag=${call.toTag}`);
    await this.peer.send(text, { host: inv.from.address, port: inv.from.port });
  }

  close(): Promise<void> {
    return this.peer.close();
  }
}
