/**
 * Ends connected calls whose media has stopped (`media.timeout`): every few
 * seconds each connected call's rtpengine session is asked when it last
 * received a packet from the caller or the callee; a call silent for longer
 * than the limit (the on-hold limit while held) is ended with BYE to every leg,
 * "media timeout".
 *
 * One party alone can vanish too (a caller whose TCP connection dropped, a
 * phone gone from the network) while the other goes on sending: a call not on
 * hold in which one party has sent nothing for `oneSideSeconds` is ended the
 * same way, "media timeout (no audio from the caller)" (a phone with voice
 * activity detection may pause, so this limit is minutes, as FreeSWITCH's
 * per-leg `rtp-timeout-sec` of 300 s).
 *
 * Why not rtpengine's own `timeout`: it counts only packets rtpengine
 * receives, so it closes a caller waiting in a queue (most phones and carriers
 * send no RTP before the answer, and the ringback rtpengine plays does not
 * count) after the same 60 s. Only the engine knows whether a call is waiting
 * or connected; rtpengine's timeout is left as a safety net for sessions the
 * engine lost. A relay that answers but no longer knows a connected call
 * (restarted under it) ends that call as "media relay lost".
 */
import { isUnknownCallError, type CallMedia } from '../media/index.js';
import type { Logger } from '../observability/logger.js';
import { AGENT, CALLER } from './media/call-anchor.js';
import type { CallRegistry } from './session/call-registry.js';

const PARTIES = [CALLER, AGENT] as const;

/** What the check needs of the media plane (MediaService has it). */
export interface CallMediaSource {
  getCallMedia(callId: string): Pick<CallMedia, 'released' | 'lastPacketSecondsByParty'> | undefined;
}

export interface MediaTimeoutOptions {
  readonly calls: CallRegistry;
  readonly media: CallMediaSource;
  readonly seconds: number;
  readonly onHoldSeconds: number;
  /** One party silent this long in a call not on hold ends it. */
  readonly oneSideSeconds: number;
  readonly now: () => number;
  readonly logger: Logger;
}

export class MediaTimeouts {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly o: MediaTimeoutOptions) {}

  /** Checks every third of the limit (between 0.5 and 10 s). */
  start(): void {
    const every = Math.min(10_000, Math.max(500, (this.o.seconds * 1000) / 3));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over the connected calls (queries run one after another: a few per second at most). */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const session of this.o.calls.all()) {
        if (session.state !== 'connected') continue;
        const media = this.o.media.getCallMedia(session.id);
        if (media === undefined || media.released) continue;
        const held = session.timeline.held;
        const limitMs = (held ? this.o.onHoldSeconds : this.o.seconds) * 1000;
        const oneSideMs = held ? Number.POSITIVE_INFINITY : this.o.oneSideSeconds * 1000;
        const since = session.timeline.marks.bridgedAt ?? this.o.now();
        if (this.o.now() - since < Math.min(limitMs, oneSideMs)) continue; // connected too recently to have timed out: no query
        let last: ReadonlyMap<string, number>;
        try {
          last = await media.lastPacketSecondsByParty(PARTIES);
        } catch (e) {
          // The relay answers but no longer knows the call: it restarted (an external rtpengine brought back by its
          // supervisor, which says nothing of the calls it dropped). Nobody hears anybody: the call ends as a lost relay's.
          if (isUnknownCallError(e) && !media.released && session.state === 'connected') {
            session.log.warn({ err: e.message }, 'the media relay no longer knows the call: ending it');
            void session.end('media relay lost', 'engine');
          }
          continue; // otherwise released meanwhile, or rtpengine unreachable (its loss ends the calls on its own)
        }
        // rtpengine keeps whole seconds: the packet came at some point within that second.
        const silentMs = (party: string): number => this.o.now() - Math.max(((last.get(party) ?? 0) + 1) * 1000, since);
        const quietest = Math.min(...PARTIES.map(silentMs));
        if (session.state !== 'connected') continue;
        if (quietest >= limitMs) {
          session.log.info({ silentMs: quietest, held }, 'no media from any party: ending the call');
          void session.end('media timeout', 'engine');
          continue;
        }
        const gone = PARTIES.find((p) => silentMs(p) >= oneSideMs);
        if (gone !== undefined) {
          session.log.info({ party: gone, silentMs: silentMs(gone) }, 'no media from one party: ending the call');
          void session.end(`media timeout (no audio from the ${gone})`, 'engine');
        }
      }
    } catch (e) {
      this.o.logger.warn({ err: (e as Error).message }, 'media timeout check failed');
    } finally {
      this.sweeping = false;
    }
  }
}
