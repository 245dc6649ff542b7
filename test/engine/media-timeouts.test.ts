/**
 * The engine's media timeout (src/engine/media-timeouts.ts) on a fake clock
 * and a fake media plane: only connected calls are checked, silence counts
 * from the bridge or the last packet whichever is later, the on-hold limit
 * applies while held, and rtpengine's whole-second times never end a call
 * that had a packet within the limit.
 */
import { describe, expect, it } from 'vitest';
import { MediaTimeouts } from '../../src/engine/media-timeouts.js';
import { RtpengineError, RtpengineTimeoutError } from '../../src/media/media-errors.js';
import { CallRegistry } from '../../src/engine/session/call-registry.js';
import { CallSession } from '../../src/engine/session/call-session.js';
import { silentLogger } from '../../src/observability/logger.js';

const T0 = 1_800_000_000_000; // ms, a whole second

function setup(): {
  clock: { now: number };
  calls: CallRegistry;
  lastPacket: Map<string, number>;
  lastFromAgent: Map<string, number>;
  /** Calls whose query fails with this (rtpengine's answer, or its silence). */
  failing: Map<string, Error>;
  queried: string[];
  watch: MediaTimeouts;
  session: () => CallSession;
} {
  const clock = { now: T0 };
  const calls = new CallRegistry();
  // Each call's last packet (seconds): from every party, or from the agent where set there.
  const lastPacket = new Map<string, number>();
  const lastFromAgent = new Map<string, number>();
  const queried: string[] = [];
  const failing = new Map<string, Error>();
  const media = {
    getCallMedia: (id: string) => ({
      released: false,
      lastPacketSecondsByParty: async (labels: readonly string[]) => {
        queried.push(id);
        const failure = failing.get(id);
        if (failure !== undefined) throw failure;
        const all = lastPacket.get(id) ?? T0 / 1000;
        return new Map(labels.map((l) => [l, l === 'agent' ? (lastFromAgent.get(id) ?? all) : all]));
      },
    }),
  };
  const watch = new MediaTimeouts({ calls, media, seconds: 60, onHoldSeconds: 600, oneSideSeconds: 300, now: () => clock.now, logger: silentLogger() });
  const session = (): CallSession => {
    const s = new CallSession({
      callId: `cid-${calls.size}`,
      caller: { number: '+15551234', name: undefined, withheld: false },
      dialed: '1000',
      source: { address: '127.0.0.1', port: 5060, transport: 'udp' },
      language: 'en',
      logger: silentLogger(),
      now: () => clock.now,
    });
    calls.add(s);
    return s;
  };
  return { clock, calls, lastPacket, lastFromAgent, failing, queried, watch, session };
}

describe('media timeouts', () => {
  it('a caller waiting in a queue for longer than the limit is never checked nor ended', async () => {
    const { clock, queried, watch, session } = setup();
    const s = session();
    s.transition('in-queue');
    clock.now += 10 * 60_000;
    await watch.sweep();
    expect(queried).toEqual([]);
    expect(s.ended).toBe(false);
  });

  it('a connected call silent for the limit since its bridge is ended "media timeout" by the engine', async () => {
    const { clock, watch, session } = setup();
    const s = session();
    clock.now += 90_000; // waited 90 s, silent (rtpengine's last packet: the call's creation)
    s.transition('connected');
    clock.now += 59_000;
    await watch.sweep();
    expect(s.ended).toBe(false); // silence counts from the bridge, not from the creation
    clock.now += 1_000;
    await watch.sweep();
    expect(s.ended).toBe(true);
    expect(s.endReason).toBe('media timeout');
    expect(s.endedBy).toBe('engine');
  });

  it('a packet within the limit keeps the call; the last packet second counts as a whole second', async () => {
    const { clock, lastPacket, watch, session } = setup();
    const s = session();
    s.transition('connected');
    clock.now += 100_000;
    lastPacket.set(s.id, (clock.now - 60_500) / 1000); // a packet during the second that began 60.5 s ago
    await watch.sweep();
    expect(s.ended).toBe(false);
    lastPacket.set(s.id, (clock.now - 62_000) / 1000);
    await watch.sweep();
    expect(s.ended).toBe(true);
  });

  it('a relay that no longer knows a connected call (restarted under it) ends it "media relay lost"; one that does not answer ends nothing', async () => {
    const { clock, failing, watch, session } = setup();
    const gone = session();
    const unanswered = session();
    gone.transition('connected');
    unanswered.transition('connected');
    clock.now += 61_000;
    failing.set(gone.id, new RtpengineError('query', 'Unknown call-id', '127.0.0.1:2223'));
    failing.set(unanswered.id, new RtpengineTimeoutError('query', 1000, 3, '127.0.0.1:2223'));
    await watch.sweep();
    expect(gone.ended).toBe(true);
    expect(gone.endReason).toBe('media relay lost');
    expect(gone.endedBy).toBe('engine');
    expect(unanswered.ended).toBe(false);
  });

  it('on hold the on-hold limit applies', async () => {
    const { clock, watch, session } = setup();
    const s = session();
    s.transition('connected');
    s.timeline.onHold(true);
    clock.now += 300_000;
    await watch.sweep();
    expect(s.ended).toBe(false);
    clock.now += 301_000; // the call's creation second counts whole, as any packet's
    await watch.sweep();
    expect(s.endReason).toBe('media timeout');
  });

  it('one party silent for oneSideSeconds while the other still sends (a caller gone from a TCP call) ends the call, named; not while on hold', async () => {
    const { clock, lastPacket, lastFromAgent, watch, session } = setup();
    const s = session();
    s.transition('connected');
    const bridged = clock.now / 1000;
    clock.now += 299_000;
    lastPacket.set(s.id, bridged); // the caller: nothing since the bridge
    lastFromAgent.set(s.id, clock.now / 1000); // the agent: still sending
    await watch.sweep();
    expect(s.ended).toBe(false);
    clock.now += 2_000;
    lastFromAgent.set(s.id, clock.now / 1000);
    s.timeline.onHold(true);
    await watch.sweep();
    expect(s.ended).toBe(false); // on hold a party may well send nothing
    s.timeline.onHold(false);
    await watch.sweep();
    expect([s.endReason, s.endedBy]).toEqual(['media timeout (no audio from the caller)', 'engine']);
  });
});
