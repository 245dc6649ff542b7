/**
 * Hunting a queue's agents one after another: each agent leg rings for at
 * most the ring timeout; busy, decline, no answer or failure moves on to the
 * next; the first answer ends the run. The task keeps its place, so running
 * it again (an agent hung up during the whisper) continues with the next agent.
 *
 * Agents are offered rtpengine's SDP; their 180/183 are not relayed when the
 * call is anchored (the caller hears our ringback and nothing crosses before
 * the bridge). Without a media plane, 180/183 (with the agent's early SDP)
 * are relayed as a plain B2BUA would.
 */
import type { CallContext } from '../flows/call-context.js';
import type { AttemptOutcome } from '../session/call-session.js';
import type { CalleeAnswer } from './connect-callee.js';
import { checkpoint, type Task } from './task.js';


export interface HuntOptions {
  readonly queue: string;
  readonly agents: readonly string[];
  readonly ringTimeoutMs: number;
  /** Headers for every agent leg (call and queue ids, Max-Forwards). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a final response from an agent's phone means for the hunt. */
export function outcomeOf(status: number, timedOut: boolean): AttemptOutcome {
  if (timedOut || status === 408 || status === 480) return 'no-answer';
  if (status === 486 || status === 600) return 'busy';
  if (status === 603) return 'declined';
  if (status === 487) return 'cancelled';
  return 'failed';
}

export class HuntAgentsTask implements Task<CalleeAnswer | undefined> {
  readonly name = 'hunt-agents';
  private next = 0;

  constructor(private readonly options: HuntOptions) {}

  get exhausted(): boolean {
    return this.next >= this.options.agents.length;
  }

  async run(ctx: CallContext, signal: AbortSignal): Promise<CalleeAnswer | undefined> {
    const { session } = ctx;
    while (!this.exhausted) {
      checkpoint(signal);
      const agent = this.options.agents[this.next++]!;
      const attempt = session.attempt(agent);
      const ring = new AbortController();
      const timer = setTimeout(() => ring.abort(), this.options.ringTimeoutMs);
      // Signaling only: the agent's 18x (reliable ones stay reliable, RFC 3262 across the B2BUA) reach the caller.
      const relay = !ctx.anchor.anchored && ctx.callerLeg === undefined;
      const result = await ctx.services.sip
        .dial({
          target: agent,
          offer: ctx.callerLeg === undefined ? ctx.offerForAgent : undefined,
          headers: relay && ctx.invite.reliableProvisionals ? { ...this.options.headers, Supported: '100rel' } : this.options.headers,
          caller: session.caller,
          signal: AbortSignal.any([signal, ring.signal]),
          onProgress: (status, sdp, reliable) => {
            if (relay && (status === 180 || status === 183)) ctx.invite.progress(status, { ...(sdp !== undefined && status === 183 ? { sdp } : {}), reliable });
          },
        })
        .finally(() => clearTimeout(timer));
      if (result.kind === 'failed') {
        const outcome = signal.aborted ? 'cancelled' : outcomeOf(result.status, ring.signal.aborted);
        session.settle(attempt, outcome, result.status);
        session.log.info({ agent, status: result.status, outcome }, 'agent did not take the call');
        continue;
      }
      session.settle(attempt, 'answered', 200);
      return result.kind === 'answered'
        ? { kind: 'answered', attempt, leg: result.leg }
        : { kind: 'offered', attempt, offer: result.offer, complete: result.complete, abandon: result.abandon };
    }
    return undefined;
  }
}
