/**
 * The agent's in-call codes for the recording (the seed's "Redact" action
 * from a plain phone): keys pressed on the agent's leg, as RFC 4733 events
 * (rtpengine's DTMF log) or SIP INFO, matched against the configured pause
 * and resume codes. Keys older than a few seconds are forgotten, so a code
 * must be keyed in one go. The caller hears none of the agent's keys: before
 * the bridge rtpengine stops relaying the agent's RFC 4733 events (it still
 * reports them; until then the call-wide block keeps them), and the bridge
 * does not pass its INFO on.
 */
import type { CallContext } from '../flows/call-context.js';
import { AGENT } from '../media/call-anchor.js';
import type { SipLeg } from '../signaling/sip-port.js';

const KEY_WINDOW_MS = 4000;

/** Whether the agent has codes for the recording (its keys are then the engine's, not the caller's). */
export function hasRecordingCodes(ctx: CallContext): boolean {
  const { pause, resume } = ctx.services.config.engine.recordingCodes;
  return pause !== undefined || resume !== undefined;
}

/**
 * Before the bridge, when the call will be recorded and the agent has codes:
 * rtpengine stops relaying the agent's RFC 4733 events to the caller (it still
 * reports them). True when the agent's keys are the engine's (then not relayed
 * as INFO either). A relay that refuses the block costs the caller's privacy
 * of the keys, not the call: logged, and the call goes on.
 */
export async function keepAgentKeys(ctx: CallContext): Promise<boolean> {
  if (!hasRecordingCodes(ctx) || ctx.anchor.media === undefined || ctx.anchor.media.released) return false;
  await ctx.anchor.media.blockDigits(AGENT).catch((e: unknown) => ctx.session.log.warn({ err: e instanceof Error ? e.message : String(e) }, "the agent's keys may reach the caller: blocking them at the media relay failed"));
  return true;
}

/** Matches the agent's keys (RFC 4733 events and INFO) against the pause and resume codes. */
export function watchRecordingCodes(ctx: CallContext, agentLeg: SipLeg): void {
  const { pause, resume } = ctx.services.config.engine.recordingCodes;
  const { session, services } = ctx;
  if (pause === undefined && resume === undefined) return;
  let keys = '';
  let lastAt = 0;
  const press = (digit: string): void => {
    const now = services.now();
    if (now - lastAt > KEY_WINDOW_MS) keys = '';
    lastAt = now;
    keys = (keys + digit).slice(-8);
    const rec = session.recording;
    if (rec === undefined || rec.pending !== undefined) return;
    const act = pause !== undefined && keys.endsWith(pause) && rec.state === 'recording' ? 'pause' : resume !== undefined && keys.endsWith(resume) && rec.state === 'paused' ? 'resume' : undefined;
    if (act === undefined) return;
    keys = '';
    (act === 'pause' ? rec.pause() : rec.resume()).then(
      () => session.log.info({ by: 'agent-code' }, act === 'pause' ? 'recording paused' : 'recording resumed'),
      (e: unknown) => session.log.warn({ err: (e as Error).message }, `recording ${act} by code failed`),
    );
  };
  const off = ctx.anchor.media?.onDigit((label, digit) => {
    if (label === AGENT) press(digit);
  });
  if (off !== undefined) session.own('recording codes', () => void off());
  agentLeg.onDigit((d) => press(d.digit));
}
