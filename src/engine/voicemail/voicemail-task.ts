/**
 * After-hours voicemail: the caller is answered and hears the greeting (then a
 * beep, unless engine.voicemail.beep is off); a
 * caller whose number is withheld or not a phone number is first asked to key
 * in a callback number (the seed's three prompts: blocked number, ask number,
 * number entered), with a re-prompt when the number is too short, too long or
 * not digits only (a `*`), and the voicemail going on without one after the
 * last try. Then the message is recorded until `#`, the maximum length, a
 * stretch of silence, or the caller hanging up, and handed to the recording
 * pipeline as a voicemail (queue, callback number and language in its CRM
 * metadata). The queue's agents get a notice when the queue next opens; a
 * queue without agents sends the voicemail to the CRM only.
 */
import type { SwitchboardConfig } from '../../config/load.js';
import type { RenderedPrompt } from '../../media/index.js';
import type { MessageRef } from '../../policy/index.js';
import type { CallContext } from '../flows/call-context.js';
import { CALLER } from '../media/call-anchor.js';
import { failure } from '../sip-errors.js';
import { AnswerCallerTask } from '../tasks/answer-caller-task.js';
import { renderMessage } from '../tasks/deflect-message-task.js';
import { RecordTask } from '../tasks/record-task.js';
import { delay, type Task } from '../tasks/task.js';
import { DigitCollector, type Collected } from './digit-collector.js';
import { SoundMeter } from './sound-meter.js';

export interface VoicemailTarget {
  readonly queue: string;
  readonly deliverTo: 'queue-agents' | 'crm';
  readonly notifyAt: string | null;
  readonly greeting: MessageRef | null;
  readonly callbackPrompts: { readonly blockedNumber: MessageRef | null; readonly askNumber: MessageRef | null; readonly numberEntered: MessageRef | null };
}

/** What is said when the configuration has no text of its own (English). */
export const DEFAULT_VOICEMAIL_TEXTS = {
  greeting: 'Please leave a message, then press the hash key.',
  blockedNumber: 'Your phone number is not available to us.',
  askNumber: 'Please key in your phone number, then press the hash key.',
  numberEntered: 'Thank you. Your number has been saved.',
} as const;

/** A default text as the prompt it is rendered from (English). */
export function fallbackSpec(key: keyof typeof DEFAULT_VOICEMAIL_TEXTS): { readonly text: string } {
  return { text: DEFAULT_VOICEMAIL_TEXTS[key] };
}

/**
 * The default texts a voicemail of this configuration can fall back on: those of the callback prompts
 * it leaves unset (`deflection.messages.voicemail*`), when some queue can send a call to voicemail
 * (after hours or at its maximum wait). The greeting always has a configured one (a config check).
 * Rendered at start-up like every configured prompt, so no call waits for a render.
 */
export function voicemailFallbackTexts(config: SwitchboardConfig): string[] {
  const d = config.deflection;
  const possible =
    (d.calls.enabled && d.calls.ivr.option === 'voicemail') ||
    config.queues.some((q) => q.deflection?.ivr?.option === 'voicemail' || q.waiting?.overflow?.option === 'voicemail');
  if (!possible) return [];
  const unset = { blockedNumber: d.messages.voicemailBlockedNumber, askNumber: d.messages.voicemailAskNumber, numberEntered: d.messages.voicemailNumberEntered };
  return Object.entries(unset)
    .filter(([, configured]) => configured === undefined)
    .map(([key]) => fallbackSpec(key as keyof typeof unset).text);
}

/** A caller number we can call back: digits (E.164 or national), optionally with +. */
export function isCallableNumber(n: string | undefined): boolean {
  return n !== undefined && /^\+?[0-9]{4,15}$/.test(n.replace(/[\s().-]/g, ''));
}

/**
 * A callback number keyed in (the `#` that ends it not included): digits only, as many as allowed.
 * `*` (or A-D) is no part of a phone number: the input is invalid and asked for again, like one
 * too short or too long.
 */
export function isKeyedNumber(keys: string, length: { readonly min: number; readonly max: number }): boolean {
  return /^[0-9]*$/.test(keys) && keys.length >= length.min && keys.length <= length.max;
}

const METER_STEP_MS = 200;
/** The tone after the greeting ("leave a message after the tone"): 1 kHz, 0.4 s. */
const VOICEMAIL_BEEP = { kind: 'tone', frequency: 1000, ms: 400 } as const;
/** Keys kept of one entry: more than any phone number; what comes after, up to the `#` or a pause, is dropped. */
const MAX_ENTRY_KEYS = 32;

/**
 * One callback number as the caller keys it: everything up to `#` or a pause between keys. A number
 * too long is judged only once the caller has finished it, so the rest of its keys neither cut the
 * re-prompt short nor count as the next try (a caller who never stops keying is cut off after 288 keys).
 */
async function keyedEntry(keys: DigitCollector, pauseMs: number, signal: AbortSignal): Promise<Collected> {
  let got = await keys.collect({ maxDigits: MAX_ENTRY_KEYS, firstKeyMs: pauseMs, nextKeyMs: pauseMs, signal });
  for (let more = 0; more < 8 && !got.terminated && !got.timedOut && !signal.aborted; more++) {
    const rest = await keys.collect({ maxDigits: MAX_ENTRY_KEYS, firstKeyMs: pauseMs, nextKeyMs: pauseMs, signal });
    got = { digits: got.digits, terminated: rest.terminated, timedOut: rest.timedOut };
  }
  return got;
}

export class VoicemailTask implements Task<void> {
  readonly name = 'voicemail';

  constructor(private readonly target: VoicemailTarget) {}

  private async prompt(ctx: CallContext, ref: MessageRef | null, fallback: keyof typeof DEFAULT_VOICEMAIL_TEXTS): Promise<RenderedPrompt> {
    const rendered = ref !== null ? await renderMessage(ctx, ref) : undefined;
    if (rendered !== undefined) return rendered;
    return ctx.services.prompts!.fromSpec(fallbackSpec(fallback), { language: 'en' });
  }

  /**
   * Plays `prompt` to the caller; a key pressed meanwhile cuts it short (type-ahead is kept). A prompt
   * rtpengine fails to play (under load: "Failed to start media playback") is skipped, not the end of
   * the call: the caller is answered already, and its message is what the voicemail is for.
   */
  private async say(ctx: CallContext, prompt: RenderedPrompt, keys: DigitCollector | undefined, signal: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const poll = setInterval(() => {
      if (keys?.pending === true) stop.abort();
    }, 50);
    try {
      await ctx.anchor.playToEnd(CALLER, prompt, AbortSignal.any([signal, stop.signal]));
    } catch (e) {
      if (signal.aborted || ctx.anchor.media?.released !== false) throw e;
      if (!stop.signal.aborted) ctx.session.log.warn({ err: (e as Error).message }, 'voicemail prompt not played: going on without it');
    } finally {
      clearInterval(poll);
    }
  }

  /** Asks for a callback number; undefined when none valid was keyed in. */
  private async askCallback(ctx: CallContext, keys: DigitCollector, signal: AbortSignal): Promise<string | undefined> {
    const v = ctx.services.config.engine.voicemail;
    const p = this.target.callbackPrompts;
    if (ctx.session.caller.withheld) await this.say(ctx, await this.prompt(ctx, p.blockedNumber, 'blockedNumber'), undefined, signal);
    const ask = await this.prompt(ctx, p.askNumber, 'askNumber');
    for (let attempt = 1; attempt <= v.attempts; attempt++) {
      keys.clear();
      await this.say(ctx, ask, keys, signal);
      const got = await keyedEntry(keys, v.digitTimeoutSeconds * 1000, signal);
      const ok = isKeyedNumber(got.digits, v.callbackDigits);
      ctx.session.log.info({ attempt, digits: got.digits.length, ok, terminated: got.terminated }, 'callback number keyed in');
      if (ok) {
        await this.say(ctx, await this.prompt(ctx, p.numberEntered, 'numberEntered'), undefined, signal);
        return got.digits;
      }
    }
    return undefined;
  }

  async run(ctx: CallContext, signal: AbortSignal): Promise<void> {
    const { session, services, anchor } = ctx;
    session.transition('voicemail');
    session.deflection = { action: 'voicemail', target: this.target.queue };
    session.timeline.mark('deflectedAt');
    if (!anchor.anchored || services.prompts === undefined || anchor.media === undefined) throw failure('NO_MEDIA_PLANE', 'voicemail needs the media plane');
    const leg = await new AnswerCallerTask().run(ctx, signal);
    // Nobody else is on the call; a blocked call would also silence the meter's subscription (measured).
    await anchor.unblock();
    const keys = new DigitCollector(anchor.media, CALLER, leg);
    session.own('voicemail keys', () => keys.close());
    const greeting = await this.prompt(ctx, this.target.greeting, 'greeting');
    const callback = isCallableNumber(session.caller.number) ? session.caller.number : await this.askCallback(ctx, keys, signal);
    if (callback !== undefined) session.facts.callbackNumber = callback;
    await this.say(ctx, greeting, undefined, signal);
    if (services.config.engine.voicemail.beep) await this.say(ctx, await services.prompts.renderer.render(VOICEMAIL_BEEP), undefined, signal);
    keys.clear();
    const details = { queue: this.target.queue, callbackNumber: callback ?? null, language: session.language, deliverTo: this.target.deliverTo, notifyAt: this.target.notifyAt, caller: session.caller.number ?? null };
    if (this.target.deliverTo === 'queue-agents') {
      // Registered before the recording: released after it, so the notice names a recording handed over.
      session.own('voicemail notice', async () => {
        const id = session.recordingIds[0];
        if (id === undefined) return;
        await services.notices.add({ recordingId: id, call: session.id, queue: this.target.queue, notifyAt: this.target.notifyAt, callbackNumber: callback ?? null, caller: session.caller.number ?? null, language: session.language, recordedAt: new Date(services.now()).toISOString() });
      });
    }
    const queueName = services.directory.byQueueId(this.target.queue)?.name ?? this.target.queue;
    await new RecordTask({ queue: { id: this.target.queue, name: queueName }, callerSdp: ctx.callerSentSdp, agentSdp: undefined, kind: 'voicemail', details }).run(ctx);
    // Without its meter (rtpengine refused the subscription), the message is still taken, ended by # or its maximum length.
    const meter = await SoundMeter.start(anchor.media, services.now).catch((e: unknown) => {
      if (signal.aborted || anchor.media?.released !== false) throw e;
      session.log.warn({ err: (e as Error).message }, 'voicemail silence detection not available: recording to # or the maximum length');
      return undefined;
    });
    if (meter !== undefined) session.own('voicemail meter', () => meter.close());
    const v = services.config.engine.voicemail;
    const started = services.now();
    const hash = keys.collect({ maxDigits: 64, firstKeyMs: v.maxSeconds * 1000, nextKeyMs: v.maxSeconds * 1000, signal });
    let done = false;
    void hash.then((k) => {
      if (k.terminated) done = true;
    });
    let why = 'maximum length reached';
    while (!done) {
      await delay(METER_STEP_MS, signal);
      if (done) why = 'caller pressed #';
      else if (meter !== undefined && meter.silentFor() >= v.silenceSeconds * 1000) {
        why = 'silence';
        done = true;
      } else if (services.now() - started >= v.maxSeconds * 1000) done = true;
    }
    session.log.info({ why, ms: services.now() - started }, 'voicemail recorded');
    await session.end(`voicemail recorded (${why})`, 'engine');
  }
}
