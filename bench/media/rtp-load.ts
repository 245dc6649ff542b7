/**
 * RTP load generator for the media benchmark, run as a child process so its
 * CPU is measured apart from what it drives. Protocol on stdio (one JSON
 * line each way):
 *
 *   argv: <legs>            → stdout {"ports":[...]}     one UDP socket per leg, on 127.0.0.1
 *   stdin {"targets":[{host,port}|null,...],"seconds":n}  where each leg sends (null: receive only)
 *                           → stdout {"sent","received","lost","foreign","delayMs":{p50,p99},"cpuMs"}
 *
 * Each sending leg sends 20 ms PCMU packets (a precomputed 1 kHz tone) with
 * its own SSRC, sequence numbers and timestamps; one timer drives all legs and
 * catches up if late. Delay is measured per packet from the send time recorded
 * under (SSRC, sequence number) to the arrival on whichever leg receives it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { sineTone } from '../../src/audio/analysis.js';
import { encodeG711 } from '../../src/audio/g711.js';

const legs = Number(process.argv[2] ?? '2');
const sockets: Socket[] = [];
const sentAt = new Map<number, Float64Array>(); // ssrc → send time by sequence number
const delays: number[] = [];
let received = 0;
/** Packets of streams this generator did not send (e.g. the monitor mix). */
let foreign = 0;
let sent = 0;

const payload = Buffer.from(encodeG711('pcmu', sineTone(1000, 160, 8000, 8000)));

for (let i = 0; i < legs; i++) {
  const s = createSocket('udp4');
  s.on('message', (msg) => {
    const now = performance.now();
    if (msg.length < 12) return;
    const times = sentAt.get(msg.readUInt32BE(8));
    if (times === undefined) {
      foreign++;
      return;
    }
    received++;
    const t = times[msg.readUInt16BE(2)];
    if (t !== undefined && t > 0) delays.push(now - t);
  });
  sockets.push(s);
}
await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()))));
// Plenty of receive buffer: the generator must not be what drops packets.
for (const s of sockets) s.setRecvBufferSize(1 << 20);
process.stdout.write(`${JSON.stringify({ ports: sockets.map((s) => s.address().port) })}\n`);

const rl = createInterface({ input: process.stdin });
const plan = await new Promise<{ targets: ({ host: string; port: number } | null)[]; seconds: number }>((resolve) => rl.once('line', (l) => resolve(JSON.parse(l))));
rl.close();

interface Leg {
  readonly socket: Socket;
  readonly target: { host: string; port: number };
  readonly ssrc: number;
  seq: number;
  ts: number;
  readonly header: Buffer;
  readonly times: Float64Array;
}
const sending: Leg[] = [];
plan.targets.forEach((target, i) => {
  if (target === null) return;
  const ssrc = (0x10000000 + i * 7919) >>> 0;
  const times = new Float64Array(65536);
  sentAt.set(ssrc, times);
  sending.push({ socket: sockets[i]!, target, ssrc, seq: (i * 1000) & 0xffff, ts: (i * 100000) >>> 0, header: Buffer.alloc(12), times });
});

const cpuStart = process.cpuUsage();
const start = performance.now();
const frames = Math.floor((plan.seconds * 1000) / 20);
let frame = 0;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const now = performance.now();
    while (frame < frames && start + frame * 20 <= now) {
      for (const leg of sending) {
        const h = leg.header;
        h[0] = 0x80;
        h[1] = frame === 0 ? 0x80 : 0;
        h.writeUInt16BE(leg.seq, 2);
        h.writeUInt32BE(leg.ts >>> 0, 4);
        h.writeUInt32BE(leg.ssrc, 8);
        leg.times[leg.seq] = performance.now();
        leg.socket.send([h, payload], leg.target.port, leg.target.host);
        leg.seq = (leg.seq + 1) & 0xffff;
        leg.ts = (leg.ts + 160) >>> 0;
        sent++;
      }
      frame++;
    }
    if (frame >= frames) {
      setTimeout(resolve, 300); // the last packets in flight
      return;
    }
    setTimeout(tick, Math.max(0, start + frame * 20 - performance.now()));
  };
  tick();
});
const cpu = process.cpuUsage(cpuStart);
delays.sort((a, b) => a - b);
const pct = (p: number): number => (delays.length === 0 ? 0 : Math.round(delays[Math.min(delays.length - 1, Math.floor(p * delays.length))]! * 100) / 100);
process.stdout.write(
  `${JSON.stringify({ sent, received, lost: sent - received, foreign, delayMs: { p50: pct(0.5), p99: pct(0.99) }, cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`,
);
for (const s of sockets) s.close();
