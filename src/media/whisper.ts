/**
 * The whisper: the agent hears the whisper and countdown, the caller hears
 * ringback (or silence) and never the whisper, and neither hears the other
 * until the bridge. On rtpengine 10.5 (../shared/specs/rtpengine-10.5-notes.md):
 * `block media` on the whole call (no party named: measured to hold both
 * directions, also for a party that answers later, while `play media` still
 * reaches its party), `play media` to the agent and the hold audio to the
 * caller, then, when the prompt's reported `duration` has passed (there is no
 * end-of-playback event), `stop media` on the caller and `unblock media` on
 * the call.
 *
 * Cancellable at any point (a party hung up, the call was released): timers
 * stop at once, and whatever was started is undone best-effort unless the
 * call is gone anyway.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import { MediaCancelledError } from './media-errors.js';
import type { RenderedPrompt } from './prompts/prompt-renderer.js';

/** What the whisper needs from a call's media (CallMedia implements it). */
export interface WhisperHost {
  readonly callId: string;
  /** Aborted when the call's media is released. */
  readonly lifetime: AbortSignal;
  readonly released: boolean;
  /** Blocks media between every party (prompts still play). */
  blockAll(): Promise<void>;
  unblockAll(): Promise<void>;
  play(label: string, prompt: RenderedPrompt, options?: { repeat?: number }): Promise<{ durationMs: number }>;
  stopPlayback(label: string): Promise<void>;
}

export interface WhisperOptions {
  /** The whisper (+ countdown) for the agent: PromptLibrary.whisperFor(). */
  readonly prompt: RenderedPrompt;
  /** What the caller hears meanwhile (PromptLibrary.callerHold()); silence when absent. */
  readonly callerHold?: RenderedPrompt;
  readonly caller?: string;
  readonly agent?: string;
  /** Abort to cancel (e.g. either party hung up). */
  readonly signal?: AbortSignal;
}

export interface WhisperResult {
  /** From the start of the whisper to the bridge: counts in the call's wait time. */
  readonly durationMs: number;
  /** Length of the prompt as rtpengine reported it. */
  readonly promptMs: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs the whisper on `host` and resolves at the bridge. */
export async function runWhisper(host: WhisperHost, options: WhisperOptions, logger: Logger): Promise<WhisperResult> {
  const caller = options.caller ?? 'caller';
  const agent = options.agent ?? 'agent';
  const signal = options.signal !== undefined ? AbortSignal.any([options.signal, host.lifetime]) : host.lifetime;
  const started = performance.now();
  let blocked = false;
  const playing: string[] = [];
  const checkpoint = (): void => {
    if (signal.aborted) throw new MediaCancelledError(`whisper on call ${host.callId} cancelled`, performance.now() - started);
  };
  try {
    checkpoint();
    blocked = true;
    await host.blockAll();
    checkpoint();
    playing.push(agent);
    const playStarted = performance.now();
    const { durationMs: promptMs } = await host.play(agent, options.prompt);
    checkpoint();
    if (options.callerHold !== undefined) {
      playing.push(caller);
      // Enough repetitions to outlast the whisper; stopped at the bridge.
      const repeat = Math.ceil(promptMs / Math.max(1, options.callerHold.durationMs)) + 1;
      await host.play(caller, options.callerHold, { repeat });
    }
    const remaining = promptMs - (performance.now() - playStarted);
    try {
      await sleep(Math.max(0, remaining), signal);
    } catch {
      checkpoint();
    }
    // The bridge: the caller's hold audio stops before the parties hear each other.
    if (playing.includes(caller)) await host.stopPlayback(caller);
    playing.length = 0;
    await host.unblockAll();
    blocked = false;
    return { durationMs: performance.now() - started, promptMs };
  } catch (e) {
    await undo(host, blocked, playing, logger);
    if (signal.aborted && !(e instanceof MediaCancelledError)) {
      throw new MediaCancelledError(`whisper on call ${host.callId} cancelled`, performance.now() - started);
    }
    throw e;
  }
}

/** Best-effort: stop what plays and lift the blocks, unless the call is gone (then there is nothing to undo). */
async function undo(host: WhisperHost, blocked: boolean, playing: readonly string[], logger: Logger): Promise<void> {
  if (host.released) return;
  const steps = [...playing.map((l) => host.stopPlayback(l)), ...(blocked ? [host.unblockAll()] : [])];
  const results = await Promise.allSettled(steps);
  for (const r of results) {
    if (r.status === 'rejected') logger.warn({ callId: host.callId, err: (r.reason as Error).message }, 'whisper clean-up step failed');
  }
}
