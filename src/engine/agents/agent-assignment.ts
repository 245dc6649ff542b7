/**
 * One agent taken for one call (AgentRegistry.reserve). The call flow reports
 * the call's phases through it; the registry (its host) turns them into the
 * agent's states.
 */

/** What an assignment tells the agent registry. */
export interface AssignmentHost {
  phase(id: string, call: string, phase: 'whisper' | 'on-call'): void;
  released(id: string, call: string, missed: boolean, idleSince: number | null): void;
  finished(id: string, call: string, wrapUpSeconds: number): void;
}

/**
 * One agent taken for one call. The call flow reports its phases; `release`
 * (owned by the call, so it runs on every exit path) ends it: an offer that
 * never reached a conversation gives the agent back (not ready "missed" when
 * the agent did not answer), a conversation goes to wrap-up.
 */
export class AgentAssignment {
  private state: 'ringing' | 'whisper' | 'on-call' | 'over' = 'ringing';

  constructor(
    private readonly registry: AssignmentHost,
    readonly agent: string,
    readonly call: string,
    /** Since when the agent had been ready when it was taken. */
    readonly idleSince: number | null,
    /** When it was taken for the call. */
    readonly reservedAt: number,
  ) {}

  get phase(): 'ringing' | 'whisper' | 'on-call' | 'over' {
    return this.state;
  }

  answered(): void {
    if (this.state !== 'ringing') return;
    this.state = 'whisper';
    this.registry.phase(this.agent, this.call, 'whisper');
  }

  connected(): void {
    if (this.state === 'over' || this.state === 'on-call') return;
    this.state = 'on-call';
    this.registry.phase(this.agent, this.call, 'on-call');
  }

  /** The agent did not take the call (no answer, busy, declined, unreachable, hung up during the whisper). */
  missed(): void {
    if (this.state === 'over' || this.state === 'on-call') return;
    this.state = 'over';
    this.registry.released(this.agent, this.call, true, this.idleSince);
  }

  /** The call is over for this agent (caller gone, or the conversation ended). */
  release(wrapUpSeconds: number): void {
    if (this.state === 'over') return;
    const was = this.state;
    this.state = 'over';
    if (was === 'on-call') this.registry.finished(this.agent, this.call, wrapUpSeconds);
    else this.registry.released(this.agent, this.call, false, this.idleSince);
  }
}
