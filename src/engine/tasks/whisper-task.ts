/**
 * The whisper: once an agent answers, the agent hears "{Call Type} from
 * {Queue Name}" (or the queue's own text or recording, at its read speed) and
 * the countdown, while the caller keeps hearing ringback and neither hears the
 * other (the call is blocked since the caller's offer; prompts still play).
 * rtpengine 10.5 has no end-of-playback event, so the prompt's reported
 * duration times it. Its length counts in the caller's wait time.
 *
 * Resolves true when the whisper has played and the agent is still there,
 * false when the agent hung up during it (the call goes back to the hunt).
 * A caller who hangs up ends the call, which aborts `signal`: the prompt is
 * stopped and the agent leg is hung up by the call's teardown.
 */
import type { CallContext } from '../flows/call-context.js';
import { RtpengineError } from '../../media/index.js';
import { AGENT } from '../media/call-anchor.js';
import type { SipLeg } from '../signaling/sip-port.js';
import { delay, type Task } from './task.js';

export class WhisperTask implements Task<boolean> {
  readonly name = 'whisper';

  constructor(
    private readonly queueId: string,
    private readonly agentLeg: SipLeg,
    private readonly callType = 'inbound',
  ) {}

  async run(ctx: CallContext, signal: AbortSignal): Promise<boolean> {
    const { anchor, services, session } = ctx;
    const prompt = anchor.anchored ? await services.prompts?.whisperFor(this.queueId, this.callType) : undefined;
    if (prompt === undefined) return this.agentLeg.connected;
    const left = new AbortController();
    this.agentLeg.onHangUp(() => left.abort());
    const started = services.now();
    session.timeline.whisperStarted();
    let playing = false;
    try {
      let played: Awaited<ReturnType<typeof anchor.play>>;
      try {
        played = await anchor.play(AGENT, prompt);
      } catch (e) {
        // The relay would not play it (a phone whose answer it cannot send to): the agent is there and the
        // caller waited long enough, so the call goes on without the whisper rather than being lost over it.
        if (!(e instanceof RtpengineError) || signal.aborted || left.signal.aborted) throw e;
        session.log.warn({ agent: session.agent, err: e.message }, 'whisper not played: the media relay refused it');
        return this.agentLeg.connected;
      }
      playing = true;
      await delay(played?.durationMs ?? prompt.durationMs, AbortSignal.any([signal, left.signal]));
      playing = false;
      return true;
    } catch (e) {
      if (!left.signal.aborted || signal.aborted) throw e;
      session.log.info({ agent: session.agent }, 'agent hung up during the whisper');
      return false;
    } finally {
      session.timeline.addWhisper(services.now() - started);
      if (playing && !signal.aborted) await anchor.stopPlayback(AGENT).catch(() => undefined);
    }
  }
}
