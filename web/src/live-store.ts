/** The live calls and agents as the event stream describes them; views subscribe to changes. */
import type { Agent, CallSummary, LiveEvent, Snapshot } from './types.js';

export type Change = { readonly kind: 'reset' } | { readonly kind: 'call'; readonly id: string; readonly ended: boolean } | { readonly kind: 'agent'; readonly id: string };

export class LiveStore {
  readonly calls = new Map<string, CallSummary>();
  readonly agents = new Map<string, Agent>();
  /** Why calls ended (for a details panel left open on one). */
  readonly ended = new Map<string, string>();
  private readonly listeners = new Set<(c: Change) => void>();

  subscribe(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(c: Change): void {
    for (const l of [...this.listeners]) l(c);
  }

  apply(type: string, data: unknown): void {
    if (type === 'snapshot') {
      const s = data as Snapshot;
      this.calls.clear();
      this.agents.clear();
      for (const c of s.calls) this.calls.set(c.id, c);
      for (const a of s.agents) this.agents.set(a.id, a);
      this.emit({ kind: 'reset' });
      return;
    }
    const e = data as LiveEvent;
    if (e.type === 'call.added' || e.type === 'call.updated') {
      this.calls.set(e.call.id, e.call);
      this.emit({ kind: 'call', id: e.call.id, ended: false });
    } else if (e.type === 'call.removed') {
      // Gone from this user's teams (an overflow to another team's queue): not ended, but no longer ours to show.
      this.calls.delete(e.call.id);
      this.ended.set(e.call.id, 'This call moved to a queue of another team.');
      this.emit({ kind: 'call', id: e.call.id, ended: true });
    } else if (e.type === 'call.ended') {
      this.calls.delete(e.call.id);
      this.ended.set(e.call.id, e.call.endReason ?? 'ended');
      this.emit({ kind: 'call', id: e.call.id, ended: true });
    } else if (e.type === 'agent.updated') {
      this.agents.set(e.agent.id, e.agent);
      this.emit({ kind: 'agent', id: e.agent.id });
    }
  }

  connected(): CallSummary[] {
    return this.sorted((c) => c.state === 'connected');
  }

  /** Calls not yet with an agent: in queue, ringing agents, hearing the whisper, or routing. */
  inQueue(): CallSummary[] {
    return this.sorted((c) => c.state === 'in-queue' || c.state === 'whisper' || c.state === 'routing');
  }

  private sorted(keep: (c: CallSummary) => boolean): CallSummary[] {
    return [...this.calls.values()].filter(keep).sort((a, b) => a.arrivedAt.localeCompare(b.arrivedAt));
  }
}
