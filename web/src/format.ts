/** How the console writes times, people and states. */
import type { CallSummary } from './types.js';

/** 5s, 3m 07s, 2h 03m. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function since(iso: string | null, now = Date.now()): string {
  return iso === null ? '–' : duration(now - Date.parse(iso));
}

export function callerOf(c: Pick<CallSummary, 'caller'>): string {
  if (c.caller.withheld) return 'Withheld number';
  const number = c.caller.number ?? 'Unknown number';
  return c.caller.name !== null && c.caller.name !== '' ? `${c.caller.name} (${number})` : number;
}

export function queueOf(c: Pick<CallSummary, 'queue' | 'queueName'>): string {
  return c.queueName ?? c.queue ?? '–';
}

/** sip:1001@10.0.0.5:5060 → 1001@10.0.0.5 (the full URI stays in a title). */
export function shortUri(uri: string | null): string {
  if (uri === null) return '–';
  const m = /^sips?:([^;>?]+)/i.exec(uri);
  return (m?.[1] ?? uri).replace(/:\d+$/, '');
}

export const STATE_LABELS: Readonly<Record<string, string>> = {
  routing: 'Routing',
  'in-queue': 'In queue',
  whisper: 'Whisper to agent',
  connected: 'Connected',
  message: 'Hearing a message',
  voicemail: 'Voicemail',
  forwarding: 'Forwarding',
};
