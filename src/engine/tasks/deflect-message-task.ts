/**
 * After-hours "message only": the caller is answered, hears the configured
 * message (TTS or an uploaded recording, per queue or global, in the call's
 * language, rendered ahead of time), then we hang up.
 *
 * `announce` plays a decision's announcement (an emergency closure's message)
 * before another action: as early media when the caller is not answered yet.
 */
import type { RenderedPrompt } from '../../media/index.js';
import type { MessageRef } from '../../policy/index.js';
import type { CallContext } from '../flows/call-context.js';
import { CALLER } from '../media/call-anchor.js';
import { failure } from '../sip-errors.js';
import { AnswerCallerTask } from './answer-caller-task.js';
import { ensureEarlyMedia } from './ring-caller-task.js';
import type { Task } from './task.js';

/** The rendered audio of a configured message (a cache hit: every configured prompt is rendered at start-up). */
export async function renderMessage(ctx: CallContext, ref: MessageRef): Promise<RenderedPrompt | undefined> {
  const prompts = ctx.services.prompts;
  if (prompts === undefined) return undefined;
  return ref.kind === 'prompt' ? prompts.configuredPrompt(ref.path) : prompts.fromSpec({ text: ref.text }, { language: ref.language });
}

/** Plays `ref` to the caller (early media before an answer); skipped without media or a 183. */
export async function announce(ctx: CallContext, ref: MessageRef, signal: AbortSignal): Promise<void> {
  const prompt = await renderMessage(ctx, ref);
  if (prompt === undefined) return;
  if (ctx.callerLeg === undefined && !ensureEarlyMedia(ctx)) return;
  await ctx.anchor.playToEnd(CALLER, prompt, signal);
}

export class DeflectMessageTask implements Task<void> {
  readonly name = 'deflect-message';

  constructor(
    private readonly message: MessageRef | null,
    /** The call's end reason once the message has played (the overflow of an open queue is not after hours). */
    private readonly endReason = 'after-hours message played',
  ) {}

  async run(ctx: CallContext, signal: AbortSignal): Promise<void> {
    const { session } = ctx;
    session.transition('message');
    session.deflection = { action: 'message', target: this.message?.path ?? null };
    session.timeline.mark('deflectedAt');
    if (this.message === null) throw failure('NO_AGENT', 'closed, and no after-hours message is configured');
    const prompt = await renderMessage(ctx, this.message);
    if (prompt === undefined) throw failure('NO_MEDIA_PLANE', 'the after-hours message needs the media plane');
    await new AnswerCallerTask().run(ctx, signal);
    await ctx.anchor.playToEnd(CALLER, prompt, signal);
    await session.end(this.endReason, 'engine');
  }
}
