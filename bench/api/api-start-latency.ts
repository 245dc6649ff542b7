/**
 * How soon a supervisor hears a call through the whole API path: the engine
 * (embedded SIP server, rtpengine), a call between two test phones, and
 * POST /calls/{id}/monitors naming a third phone, which answers at once. For
 * each round: request to the phone's INVITE, and the phone's answer (its 200,
 * sent as the INVITE arrives) to the first mix packet it receives; then the
 * monitor is stopped (DELETE) and the next round starts.
 */
import { performance } from 'node:perf_hooks';
import { generateKey } from '../../src/api/auth/api-key.js';
import { startContactCenter } from '../../test/support/contact-center.js';
import { eventually } from '../../test/support/harness.js';
import { AgentPhone, CallerPhone } from '../../test/support/phones.js';

export interface ApiStartLatency {
  readonly rounds: number;
  /** POST sent → the device's INVITE arrived. */
  readonly requestToInviteMs: { p50: number; p99: number; max: number };
  /** The device answered → its first mix packet arrived. */
  readonly answerToFirstPacketMs: { p50: number; p99: number; max: number };
  /** POST sent → 201 received (the API answers once the device listens). */
  readonly requestToResponseMs: { p50: number; p99: number; max: number };
}

const stats = (xs: number[]): { p50: number; p99: number; max: number } => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
};

export async function apiStartLatency(rounds: number): Promise<ApiStartLatency> {
  const agent = await AgentPhone.create(1300);
  const device = await AgentPhone.create(0);
  const caller = await CallerPhone.create(700);
  const key = generateKey();
  const cc = await startContactCenter({
    media: { whisper: { enabled: false } },
    api: { enabled: true, port: 0, keys: [{ id: key.id, user: 'bench', role: 'admin', hash: key.hash }] },
    queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
  });
  try {
    const base = `http://127.0.0.1:${cc.sb.api!.port}`;
    const headers = { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' };
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 30_000);
    const id = cc.sb.engine.control.list()[0]!.id;
    const toInvite: number[] = [];
    const toPacket: number[] = [];
    const toResponse: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const received = device.rtp.received.length;
      const sentAt = performance.timeOrigin + performance.now();
      const res = await fetch(`${base}/calls/${id}/monitors`, { method: 'POST', headers, body: JSON.stringify({ device: device.uri('bench') }) });
      const answeredAt = performance.timeOrigin + performance.now();
      const monitor = (await res.json()) as { id: string };
      if (res.status !== 201) throw new Error(`monitor refused: ${res.status} ${JSON.stringify(monitor)}`);
      await eventually(() => device.rtp.received.length > received, 5000, 'the first mix packet');
      const invite = device.calls.at(-1)!.invite.at;
      const first = performance.timeOrigin + device.rtp.received[received]!.arrivalMs;
      toInvite.push(invite - sentAt);
      toPacket.push(first - invite);
      toResponse.push(answeredAt - sentAt);
      await fetch(`${base}/calls/${id}/monitors/${monitor.id}`, { method: 'DELETE', headers: { authorization: headers.authorization } });
    }
    call.hangUp();
    return { rounds, requestToInviteMs: stats(toInvite), answerToFirstPacketMs: stats(toPacket), requestToResponseMs: stats(toResponse) };
  } finally {
    await cc.stop();
    agent.close();
    device.close();
    caller.close();
  }
}
