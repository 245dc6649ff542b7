/**
 * When things happened on a call, and the metrics derived from them (the
 * product's call details: wait time including the whisper, talk time, hold,
 * time in queue). Times are epoch milliseconds from the session's clock.
 */

export interface TimelineMarks {
  readonly arrivedAt: number;
  /** The caller got our 200 (by the bridge, or a message/voicemail we answered ourselves). */
  answeredAt?: number;
  /** The first agent answered its leg (the whisper starts). */
  agentAnsweredAt?: number;
  bridgedAt?: number;
  /** The call left the wait for an agent for a deflection elsewhere (a message, voicemail, a phone number). */
  deflectedAt?: number;
  endedAt?: number;
}

export interface CallMetrics {
  /** Arrival to the bridge with an agent, whisper included; or to the deflection that took the caller elsewhere, or the end, whichever came first. */
  readonly waitMs: number;
  /** Of which the whisper (and countdown) played to the agent. */
  readonly whisperMs: number;
  /** Time spent waiting for an agent in a queue (hunting), per the product's "time in queue". */
  readonly queueMs: number;
  /** Bridge to end. */
  readonly talkMs: number;
  /** Of the talk time, on hold (either side sendonly/inactive). */
  readonly holdMs: number;
}

export class CallTimeline {
  readonly marks: TimelineMarks;
  private whisperMs = 0;
  /** A whisper playing now (live views count it as it goes). */
  private whisperSince: number | undefined;
  private holdSince: number | undefined;
  /** The parties holding the call now (their last SDP sendonly or inactive): it is held while any does. */
  private readonly holding = new Set<string>();
  private holdTotal = 0;
  private queueSince: number | undefined;
  private queueTotal = 0;

  constructor(private readonly now: () => number) {
    this.marks = { arrivedAt: now() };
  }

  mark(name: Exclude<keyof TimelineMarks, 'arrivedAt'>): void {
    this.marks[name] ??= this.now();
  }

  /** A whisper starts playing; addWhisper ends it with its length. */
  whisperStarted(): void {
    this.whisperSince = this.now();
  }

  addWhisper(ms: number): void {
    this.whisperSince = undefined;
    this.whisperMs += Math.max(0, ms);
  }

  /** The call entered (true) or left (false) a queue's hunt. */
  inQueue(on: boolean): void {
    const t = this.now();
    if (on && this.queueSince === undefined) this.queueSince = t;
    else if (!on && this.queueSince !== undefined) {
      this.queueTotal += t - this.queueSince;
      this.queueSince = undefined;
    }
  }

  onHold(held: boolean): void {
    const t = this.now();
    if (held && this.holdSince === undefined) this.holdSince = t;
    else if (!held && this.holdSince !== undefined) {
      this.holdTotal += t - this.holdSince;
      this.holdSince = undefined;
    }
  }

  /** `party` holds the call (its last offer or answer stops its sending: sendonly, inactive) or not; the call is held while either does. */
  partyHolds(party: string, holds: boolean): void {
    if (holds) this.holding.add(party);
    else this.holding.delete(party);
    this.onHold(this.holding.size > 0);
  }

  get held(): boolean {
    return this.holdSince !== undefined;
  }

  metrics(at = this.now()): CallMetrics {
    const m = this.marks;
    const end = m.endedAt ?? at;
    const open = (since: number | undefined): number => (since === undefined ? 0 : end - since);
    return {
      waitMs: Math.min(m.bridgedAt ?? end, m.deflectedAt ?? end) - m.arrivedAt,
      whisperMs: Math.round(this.whisperMs + open(this.whisperSince)),
      queueMs: this.queueTotal + open(this.queueSince),
      talkMs: m.bridgedAt === undefined ? 0 : end - m.bridgedAt,
      holdMs: this.holdTotal + open(this.holdSince),
    };
  }
}
