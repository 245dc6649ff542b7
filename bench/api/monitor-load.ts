/**
 * RTP load for the monitor benchmark, run as a child process so its CPU is
 * measured apart from the engine's. Protocol on stdio (one JSON line each way):
 *
 *   argv: <callLegs> <supervisorLegs>   → stdout {"ports":[...]}   call legs first (2 per call), then supervisors
 *   stdin {"targets":[{host,port}|null,...],"supervisorCall":[callIndex,...],"seconds":n}
 *     → stdout {"relay":{"sent","received","delayMs"},"mix":{"packets","bursts","expectedBursts","delayMs","addedMs"},"firstPacketAt":[epoch ms | null,...],"cpuMs"}
 *
 * Each call leg sends 20 ms PCMU packets of silence with a loud 1 kHz burst
 * (one packet) every 500 ms, the caller and the agent of a call a quarter
 * second apart and each call offset from the others. The relay delay is each
 * packet's send-to-arrival time at the other leg (what the call itself gets).
 * The mix delay is from a burst's send to the moment its onset is heard in a
 * supervisor's stream (arrival of the mix packet plus the onset's offset in
 * it): what a supervisor gets. The mix's added delay is, burst by burst, how
 * much later the supervisor hears it than the other party of the call does
 * (the same packet's relayed arrival). Times are epoch milliseconds, shared
 * with the parent to time the start of each supervisor's stream.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { sineTone } from '../../src/audio/analysis.js';
import { decodeG711, encodeG711 } from '../../src/audio/g711.js';

const callLegs = Number(process.argv[2] ?? '2');
const supervisorLegs = Number(process.argv[3] ?? '0');
const now = (): number => performance.timeOrigin + performance.now();

const silence = Buffer.alloc(160, 0xff);
const burst = Buffer.from(encodeG711('pcmu', sineTone(1000, 160, 8000, 12000)));
const BURST_EVERY = 25; // frames: 500 ms

const sockets: Socket[] = [];
for (let i = 0; i < callLegs + supervisorLegs; i++) sockets.push(createSocket('udp4'));
await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()))));
for (const s of sockets) s.setRecvBufferSize(1 << 20);
process.stdout.write(`${JSON.stringify({ ports: sockets.map((s) => s.address().port) })}\n`);

const rl = createInterface({ input: process.stdin });
const plan = await new Promise<{ targets: ({ host: string; port: number } | null)[]; supervisorCall: number[]; seconds: number }>((resolve) => rl.once('line', (l) => resolve(JSON.parse(l))));
rl.close();

const sentAt = new Map<number, Float64Array>(); // ssrc → send time by sequence number
interface Burst {
  readonly sentAt: number;
  /** When the other party of the call received it (relayed). */
  relayedAt: number | undefined;
}
/** Bursts per call (both parties), oldest first; and by (ssrc, sequence number) to find their relayed arrival. */
const bursts: Burst[][] = Array.from({ length: callLegs / 2 }, () => []);
const burstByPacket = new Map<number, Burst>();
const packetKey = (ssrc: number, seq: number): number => ssrc * 65536 + seq;
const relayDelays: number[] = [];
const mixDelays: number[] = [];
const addedDelays: number[] = [];
let relayReceived = 0;
let mixPackets = 0;
let mixBursts = 0;
const firstPacketAt: (number | null)[] = Array<number | null>(supervisorLegs).fill(null);

sockets.forEach((s, i) => {
  if (i < callLegs) {
    s.on('message', (msg) => {
      const t = now();
      if (msg.length < 12) return;
      const times = sentAt.get(msg.readUInt32BE(8));
      if (times === undefined) return;
      relayReceived++;
      const seq = msg.readUInt16BE(2);
      const sent = times[seq]!;
      if (sent > 0) relayDelays.push(t - sent);
      const b = burstByPacket.get(packetKey(msg.readUInt32BE(8), seq));
      if (b !== undefined) b.relayedAt ??= t;
    });
    return;
  }
  const sup = i - callLegs;
  const call = plan.supervisorCall[sup] ?? 0;
  let inBurst = false;
  s.on('message', (msg) => {
    const t = now();
    if (msg.length < 12 + 160) return;
    mixPackets++;
    firstPacketAt[sup] ??= t;
    const pcm = decodeG711('pcmu', msg.subarray(12, 12 + 160));
    let onset = -1;
    for (let k = 0; k < pcm.length; k++) {
      if (Math.abs(pcm[k]!) > 3000) {
        onset = k;
        break;
      }
    }
    if (onset < 0) {
      inBurst = false;
      return;
    }
    if (inBurst) return;
    inBurst = true;
    const heardAt = t + onset / 8;
    // The burst this onset belongs to: the latest sent before it was heard.
    const list = bursts[call]!;
    let found: Burst | undefined;
    for (let b = list.length - 1; b >= 0; b--) {
      if (list[b]!.sentAt <= heardAt) {
        found = list[b];
        break;
      }
    }
    if (found !== undefined && heardAt - found.sentAt < 400) {
      mixBursts++;
      mixDelays.push(heardAt - found.sentAt);
      if (found.relayedAt !== undefined) addedDelays.push(heardAt - found.relayedAt);
    }
  });
});

interface Leg {
  readonly socket: Socket;
  readonly target: { host: string; port: number };
  readonly ssrc: number;
  readonly call: number;
  readonly phase: number;
  seq: number;
  ts: number;
  readonly times: Float64Array;
}
const legs: Leg[] = [];
plan.targets.forEach((target, i) => {
  if (target === null || i >= callLegs) return;
  const ssrc = (0x20000000 + i * 7919) >>> 0;
  const times = new Float64Array(65536);
  sentAt.set(ssrc, times);
  const call = Math.floor(i / 2);
  legs.push({ socket: sockets[i]!, target, ssrc, call, phase: (call * 3 + (i % 2) * 12) % BURST_EVERY, seq: (i * 1000) & 0xffff, ts: (i * 100000) >>> 0, times });
});

const cpuStart = process.cpuUsage();
const start = performance.now();
const frames = Math.floor((plan.seconds * 1000) / 20);
let frame = 0;
let sent = 0;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    while (frame < frames && start + frame * 20 <= performance.now()) {
      for (const leg of legs) {
        // A new header per packet: a datagram the kernel could not take at once is sent later from the
        // buffer given (a reused header would by then carry the next packet's sequence number).
        const h = Buffer.allocUnsafe(12);
        h[0] = 0x80;
        h[1] = frame === 0 ? 0x80 : 0;
        h.writeUInt16BE(leg.seq, 2);
        h.writeUInt32BE(leg.ts >>> 0, 4);
        h.writeUInt32BE(leg.ssrc, 8);
        const isBurst = frame % BURST_EVERY === leg.phase && frame > BURST_EVERY;
        const t = now();
        leg.times[leg.seq] = t;
        if (isBurst) {
          const b: Burst = { sentAt: t, relayedAt: undefined };
          bursts[leg.call]!.push(b);
          burstByPacket.set(packetKey(leg.ssrc, leg.seq), b);
        }
        leg.socket.send([h, isBurst ? burst : silence], leg.target.port, leg.target.host);
        leg.seq = (leg.seq + 1) & 0xffff;
        leg.ts = (leg.ts + 160) >>> 0;
        sent++;
      }
      frame++;
    }
    if (frame >= frames) {
      setTimeout(resolve, 400);
      return;
    }
    setTimeout(tick, Math.max(0, start + frame * 20 - performance.now()));
  };
  tick();
});
const cpu = process.cpuUsage(cpuStart);
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
};
process.stdout.write(
  `${JSON.stringify({
    relay: { sent, received: relayReceived, delayMs: { p50: pct(relayDelays, 0.5), p99: pct(relayDelays, 0.99) } },
    mix: { packets: mixPackets, bursts: mixBursts, expectedBursts: plan.supervisorCall.reduce((n, c) => n + bursts[c]!.length, 0), delayMs: { p50: pct(mixDelays, 0.5), p99: pct(mixDelays, 0.99), max: pct(mixDelays, 1) }, addedMs: { p50: pct(addedDelays, 0.5), p99: pct(addedDelays, 0.99), max: pct(addedDelays, 1) } },
    firstPacketAt,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  })}\n`,
);
for (const s of sockets) s.close();
