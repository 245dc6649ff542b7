/**
 * Ringing agents. HuntAgentsTask hunts a queue's static targets one after
 * another; RingAgentTask (below) rings one agent of a waiting queue on every
 * contact of its phone.
 *
 * Hunting a queue's targets one after another: each agent leg rings for at
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
import { DialGivenUp, type DialTarget } from '../signaling/sip-port.js';
import type { CalleeAnswer } from './connect-callee.js';
import { checkpoint, type Task } from './task.js';

export interface HuntOptions {
  readonly queue: string;
  readonly agents: readonly string[];
  /**
   * Whether a target is on a call of this engine now (hearing a whisper or talking): idle targets are
   * rung before it, so an agent is not offered a second call while the next one sits idle. A busy
   * target is still rung when only busy ones are left (a phone with call waiting, a PBX group).
   */
  readonly busy?: (target: string) => boolean;
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
  /** The places in the list already rung. */
  private readonly tried = new Set<number>();

  constructor(private readonly options: HuntOptions) {}

  get exhausted(): boolean {
    return this.tried.size >= this.options.agents.length;
  }

  /** The next target in the list's order: the first idle one not rung yet, else the first busy one. */
  private pick(): string {
    const { agents, busy } = this.options;
    const left = agents.map((_, i) => i).filter((i) => !this.tried.has(i));
    const i = left.find((j) => busy?.(agents[j]!) !== true) ?? left[0]!;
    this.tried.add(i);
    return agents[i]!;
  }

  async run(ctx: CallContext, signal: AbortSignal): Promise<CalleeAnswer | undefined> {
    const { session } = ctx;
    while (!this.exhausted) {
      checkpoint(signal);
      const agent = this.pick();
      const attempt = session.attempt(agent);
      const ring = new AbortController();
      const timer = setTimeout(() => ring.abort(DialGivenUp.noAnswer()), this.options.ringTimeoutMs);
      // Signaling only: the agent's 18x (reliable ones stay reliable, RFC 3262 across the B2BUA) reach the caller.
      const relay = !ctx.anchor.anchored && ctx.callerLeg === undefined;
      const result = await ctx.services.sip
        .dial({
          target: agent,
          offer: ctx.anchor.calleeOffer(ctx.callerLeg === undefined || ctx.anchor.callerOffered ? ctx.offerForAgent : undefined),
          // We PRACK a reliable 18x (RFC 3262): said to every agent (RFC 3261 §13.2.1), except when relaying
          // one to a caller that would not take it reliably.
          headers: !relay || ctx.invite.reliableProvisionals ? { ...this.options.headers, Supported: '100rel' } : this.options.headers,
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

export interface RingAgentOptions {
  /** The agent (its id: what the call record names). */
  readonly agent: string;
  /** Its device's addresses: a static URI, or every registered contact to ring at once (through its Path). */
  readonly targets: readonly DialTarget[];
  readonly ringTimeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** When the queues took the agent for this call, and since when it had been idle (for the call record). */
  readonly offer?: { readonly at: number; readonly idleSince: number | null };
}

/**
 * Ringing one agent of a waiting queue: every target of its device at once
 * (a phone registered from several places rings everywhere; the first to
 * answer takes the call and the others are cancelled, RFC 3261 §16.7 in a
 * B2BUA's terms), for at most the ring timeout. An answer that crosses the
 * winner's is hung up. Resolves with the answer, or undefined (with the
 * attempt settled) when the agent did not take the call.
 *
 * A caller answered by us that offered its own SDP keeps being the offerer
 * in rtpengine: the agent is offered rtpengine's SDP as before any answer.
 * Only a delayed-offer caller makes the agent offer (connect-callee.ts).
 */
export class RingAgentTask implements Task<CalleeAnswer | undefined> {
  readonly name = 'ring-agent';
  private cut = false;

  constructor(private readonly options: RingAgentOptions) {}

  /** Whether the last run ended because the ring time ran out (no final answer from any target before it). */
  get ringTimedOut(): boolean {
    return this.cut;
  }

  async run(ctx: CallContext, signal: AbortSignal): Promise<CalleeAnswer | undefined> {
    const { session } = ctx;
    const o = this.options;
    checkpoint(signal);
    const attempt = session.attempt(o.agent);
    if (o.offer !== undefined) attempt.offer = o.offer;
    const ring = new AbortController();
    const timer = setTimeout(() => ring.abort(DialGivenUp.noAnswer()), o.ringTimeoutMs);
    const offer = ctx.anchor.calleeOffer(ctx.callerLeg === undefined || ctx.anchor.callerOffered ? ctx.offerForAgent : undefined);
    const relay = !ctx.anchor.anchored && ctx.callerLeg === undefined;
    let winner: CalleeAnswer | undefined;
    /** A device's 6xx that ended the others: the agent's answer, whatever their 487s say. */
    let globalFailure: number | undefined;
    const forks = o.targets.map((reach) => {
      const mine = new AbortController();
      const done = ctx.services.sip
        .dial({
          ...reach,
          offer,
          headers: o.headers,
          caller: session.caller,
          signal: AbortSignal.any([signal, ring.signal, mine.signal]),
          onProgress: (status, sdp) => {
            if (!relay || winner !== undefined) return;
            if (status === 180) ctx.invite.progress(180);
            else if (status === 183 && sdp !== undefined && o.targets.length === 1) ctx.invite.progress(183, { sdp });
          },
        })
        .then(async (result) => {
          if (result.kind === 'failed') {
            // A 6xx is the agent's final word for every device (RFC 3261 §21.6, §16.7 step 5): the others stop
            // ringing rather than hold the caller to the ring timeout. A 486 is one device's (a desk phone busy
            // while the softphone is free): the others ring on.
            if (result.status >= 600 && winner === undefined) {
              globalFailure ??= result.status;
              for (const f of forks) if (f.mine !== mine) f.mine.abort(DialGivenUp.globalFailure(result.status));
            }
            return result.status;
          }
          if (winner !== undefined || signal.aborted) {
            // Answered after another fork (or after the caller left): not ours to keep.
            if (result.kind === 'answered') await result.leg.hangUp();
            else await result.abandon();
            return 487;
          }
          winner = result.kind === 'answered' ? { kind: 'answered', attempt, leg: result.leg } : { kind: 'offered', attempt, offer: result.offer, complete: result.complete, abandon: result.abandon };
          for (const f of forks) if (f.mine !== mine) f.mine.abort(DialGivenUp.completedElsewhere());
          return 200;
        });
      return { mine, done };
    });
    const statuses = await Promise.all(forks.map((f) => f.done)).finally(() => clearTimeout(timer));
    const won = winner;
    if (won !== undefined && !signal.aborted) {
      session.settle(attempt, 'answered', 200);
      return won;
    }
    if (won !== undefined) {
      // The caller left as the agent answered.
      if (won.kind === 'answered') await won.leg.hangUp();
      else await won.abandon();
    }
    // The worst news wins for the record: busy over declined over no answer over failure.
    const failures = statuses.filter((s) => s !== 200);
    const status = globalFailure ?? failures.find((s) => s === 486 || s === 600) ?? failures.find((s) => s === 603) ?? failures.find((s) => s === 480 || s === 408) ?? failures[0] ?? 487;
    const outcome = signal.aborted ? 'cancelled' : outcomeOf(status, ring.signal.aborted);
    this.cut = !signal.aborted && ring.signal.aborted;
    session.settle(attempt, outcome, status);
    session.log.info({ agent: o.agent, targets: o.targets.length, status, outcome }, 'agent did not take the call');
    return undefined;
  }
}
