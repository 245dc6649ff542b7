/**
 * The caller hears ringback (or the configured hold audio) from us while
 * agents are hunted and while the agent hears the whisper: a 183 Session
 * Progress with rtpengine's SDP (RFC 3960 early media), then the prompt looped
 * to the caller. A caller without an offer (delayed offer) or a call without
 * a media plane gets a plain 180 and hears its own phone's ringback. A caller
 * we have already answered hears the same audio over its established leg.
 */
import type { RenderedPrompt } from '../../media/index.js';
import type { CallContext } from '../flows/call-context.js';
import { CALLER } from '../media/call-anchor.js';
import type { Task } from './task.js';

/** Sends the 183 once (idempotent); false when early media is not possible. */
export function ensureEarlyMedia(ctx: CallContext): boolean {
  if (ctx.earlyMedia) return true;
  const sdp = ctx.anchor.callerSdp;
  if (sdp === undefined || ctx.invite.finalResponseSent) return false;
  ctx.invite.progress(183, { sdp });
  ctx.earlyMedia = true;
  return true;
}

/** Loops `prompt` to the caller for at most the call's maximum duration. */
export async function loopToCaller(ctx: CallContext, prompt: RenderedPrompt): Promise<void> {
  const maxMs = ctx.services.config.engine.maxCallSeconds * 1000;
  const repeat = Math.max(1, Math.min(10_000, Math.ceil(maxMs / Math.max(1000, prompt.durationMs))));
  await ctx.anchor.play(CALLER, prompt, repeat);
}

export class RingCallerTask implements Task<void> {
  readonly name = 'ring-caller';

  async run(ctx: CallContext): Promise<void> {
    const { anchor, services } = ctx;
    // Without hold audio (callerHears: silence) the caller's own phone plays ringback on a 180.
    const hold = anchor.anchored ? await services.prompts?.callerHold() : undefined;
    if (hold !== undefined && (ctx.callerLeg !== undefined || ensureEarlyMedia(ctx))) await loopToCaller(ctx, hold);
    else if (ctx.callerLeg === undefined) ctx.invite.progress(180);
  }
}
