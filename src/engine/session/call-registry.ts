/**
 * The live calls of this engine, by the engine's call id: what the status
 * endpoint and the API list, what draining waits for, and one place to hear
 * every call's state changes (the API's event stream).
 */
import { EventEmitter } from 'node:events';
import type { CallSession, CallState } from './call-session.js';

export interface RegistryEvents {
  added: [CallSession];
  state: [CallSession, CallState];
  /** Details changed without a state change (reserved data). */
  changed: [CallSession];
  ended: [CallSession];
}

export class CallRegistry extends EventEmitter<RegistryEvents> {
  private readonly sessions = new Map<string, CallSession>();

  add(session: CallSession): void {
    this.sessions.set(session.id, session);
    session.on('state', (s, state) => this.emit('state', s, state));
    session.on('changed', (s) => this.emit('changed', s));
    session.once('ended', (s) => {
      this.sessions.delete(s.id);
      this.emit('ended', s);
    });
    this.emit('added', session);
  }

  get(id: string): CallSession | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): CallSession[] {
    return [...this.sessions.values()];
  }

  /** Resolves when no call is left, or after `ms` (false then). */
  async emptied(ms: number): Promise<boolean> {
    if (this.sessions.size === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.off('ended', check);
        resolve(false);
      }, ms);
      const check = (): void => {
        if (this.sessions.size > 0) return;
        clearTimeout(timer);
        this.off('ended', check);
        resolve(true);
      };
      this.on('ended', check);
    });
  }
}
