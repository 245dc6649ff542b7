/**
 * A caller waiting in a queue: answered through rtpengine (a long wait is not
 * early media: carriers and phones give up on an unanswered call after a few
 * minutes), hearing the queue's hold audio (ringback, a prompt, or silence)
 * looped, and, when the queue asks for it, every so often its position and
 * estimated wait. Without a media plane the caller is not answered and hears
 * its own phone's ringback (a 180) for the whole wait.
 *
 * The caller's offers while it waits (hold, codec change) are answered by
 * rtpengine, and the SDP the next agent will be offered follows them; an
 * agent already rung or whispered to when one came gets it at the bridge.
 * `quiet()` stops the announcements (an agent answered: the caller keeps
 * hearing the hold audio through the whisper); `stop()` stops everything (the
 * bridge, or the overflow).
 */
import type { RenderedPrompt } from '../../media/index.js';
import type { CallContext } from '../flows/call-context.js';
import { CALLER } from '../media/call-anchor.js';
import type { Queue } from '../queue-directory.js';
import type { WaitingSettings } from '../queues/waiting-settings.js';
import { answerCallerOffer, AnswerCallerTask } from './answer-caller-task.js';
import { loopToCaller } from './ring-caller-task.js';
import { checkpoint } from './task.js';

export interface WaitInfo {
  position(): number | undefined;
  estimatedWaitMs(position: number): number | undefined;
}

export class HoldCaller {
  private startedValue = false;
  private stopped = false;
  private announcing: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Whether this caller hears its position or estimated wait every so often (the hold audio started, the queue has them). */
  private announces = false;
  private hold: RenderedPrompt | undefined;

  constructor(
    private readonly ctx: CallContext,
    private readonly queue: Queue,
    private readonly settings: WaitingSettings,
    private readonly info: WaitInfo,
  ) {}

  get started(): boolean {
    return this.startedValue;
  }

  /** Answers the caller (once) and starts the hold audio and announcements. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.startedValue) return;
    this.startedValue = true;
    const { ctx } = this;
    if (!ctx.anchor.anchored || ctx.services.prompts === undefined) {
      if (ctx.callerLeg === undefined) ctx.invite.progress(180);
      return;
    }
    const leg = await new AnswerCallerTask().run(ctx, signal);
    checkpoint(signal);
    if (ctx.anchor.callerOffered) this.followCallerOffers(leg);
    this.hold = await this.holdPrompt();
    // Ringback sent as early media while a first agent rang gives way to the hold audio.
    await ctx.anchor.stopPlayback(CALLER);
    await this.loop();
    const a = this.settings.announcements;
    this.announces = a !== undefined && (a.position || a.estimatedWait);
    this.announceEvery();
  }

  /** The periodic announcements, if the queue has them; again after quiet() when the offered agent did not take the call. */
  announceEvery(): void {
    const a = this.settings.announcements;
    if (!this.announces || a === undefined || this.stopped || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.announce(), a.everySeconds * 1000);
    this.timer.unref();
  }

  /**
   * A caller that offered keeps offering (hold, resume): rtpengine answers it
   * on the agent side's behalf, and what it generates for the agent side is
   * what the next agent is offered.
   */
  private followCallerOffers(leg: NonNullable<CallContext['callerLeg']>): void {
    const { ctx } = this;
    leg.onOffer(async (offer) => {
      const heard = ctx.anchor.receives(CALLER);
      const answered = await answerCallerOffer(ctx, offer);
      // Back from hold (RFC 3264 §8.4): the hold audio starts again (none was sent, or rtpengine refused it, meanwhile).
      if (!heard && ctx.anchor.receives(CALLER) && this.started && !this.stopped) {
        this.loop().catch((e: unknown) => {
          if (!ctx.session.ended) ctx.session.log.warn({ err: (e as Error).message }, 'hold audio not restarted after the resume');
        });
      }
      return answered;
    });
  }

  private async holdPrompt(): Promise<RenderedPrompt | undefined> {
    const prompts = this.ctx.services.prompts!;
    const h = this.settings.holdAudio;
    if (h === 'silence') return undefined;
    if (h === 'ringback') return prompts.renderer.render({ kind: 'ringback', plan: this.ctx.services.config.media.whisper.ringbackTone });
    const i = this.ctx.services.config.queues.findIndex((q) => q.id === this.queue.id);
    return prompts.configuredPrompt(`queues[${i}].waiting.holdAudio`);
  }

  private async loop(): Promise<void> {
    if (this.hold !== undefined && !this.stopped) await loopToCaller(this.ctx, this.hold);
  }

  private async announce(): Promise<void> {
    const a = this.settings.announcements;
    const position = this.info.position();
    if (a === undefined || this.stopped || this.announcing !== undefined || position === undefined) return;
    const { ctx } = this;
    const prompts = ctx.services.prompts!;
    const language = a.language ?? ctx.services.config.media.prompts.language;
    const texts: string[] = [];
    if (a.position) texts.push(a.positionText.replaceAll('{Position}', String(position)));
    const wait = a.estimatedWait ? this.info.estimatedWaitMs(position) : undefined;
    if (wait !== undefined) texts.push(waitAnnouncement(a.waitText, wait));
    if (texts.length === 0) return;
    const stop = new AbortController();
    this.announcing = stop;
    try {
      const prompt = await prompts.spoken(texts, language);
      if (stop.signal.aborted || this.stopped) return;
      // Rendered late (many new texts at once wait their turn): a position that changed meanwhile is not announced.
      if (this.info.position() !== position) {
        ctx.session.log.debug({ position }, 'position announcement skipped: the position changed while it was rendered');
        return;
      }
      await ctx.anchor.stopPlayback(CALLER);
      await ctx.anchor.playToEnd(CALLER, prompt, AbortSignal.any([stop.signal, ctx.session.signal]));
      ctx.session.log.info({ position, estimatedWaitMs: wait ?? null }, 'position announced');
    } catch (e) {
      if (!stop.signal.aborted && !ctx.session.ended) ctx.session.log.warn({ err: (e as Error).message }, 'announcement failed');
    } finally {
      this.announcing = undefined;
      if (!this.stopped && !ctx.session.ended) await this.loop().catch(() => undefined);
    }
  }

  /** No more announcements (an agent answered); the hold audio goes on. */
  quiet(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.announcing?.abort();
  }

  /** Stops the hold audio and announcements (idempotent). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.quiet();
    if (this.startedValue && this.ctx.anchor.anchored && !this.ctx.session.ended) await this.ctx.anchor.stopPlayback(CALLER);
  }
}

/** The estimated-wait text for `waitMs`, in whole minutes (at least one): "about 1 minutes" is not said, the English plural of the default text gives way for one. */
export function waitAnnouncement(text: string, waitMs: number): string {
  const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
  return (minutes === 1 ? text.replaceAll('{Minutes} minutes', '1 minute') : text).replaceAll('{Minutes}', String(minutes));
}
