/**
 * Which queues an agent may transfer to, exactly as the seed lists them.
 *
 * Calls, with "Allow transfer to queues outside operating hours" checked, and
 * chats, with chat deflection disabled and "Allow transfer to queues outside
 * operation when deflection is disabled" checked — the same four rules:
 *   visible: every queue inside its hours;
 *   visible: outside hours, with after-hours deflection enabled;
 *   visible: outside hours, without deflection, with agents logged in;
 *   visible: outside hours, with a virtual agent in 24-hour availability mode;
 *   hidden:  outside hours, with a virtual agent limited to the queue hours.
 * The hidden rule wins over the visible ones (a queue whose virtual agent is
 * limited to queue hours is hidden when closed even if it deflects or has
 * agents logged in). Without the setting, only queues inside hours are visible.
 */
import type { TransferRule } from './decision.js';

export interface TransferFacts {
  readonly open: boolean;
  readonly virtualAgent: '24h' | 'queueHours' | undefined;
  readonly deflectionEnabled: boolean;
  readonly agentsLoggedIn: boolean;
  readonly allowOutsideHours: boolean;
}

export function classifyTransferTarget(f: TransferFacts): { readonly visible: boolean; readonly rule: TransferRule } {
  if (f.open) return { visible: true, rule: 'inside-hours' };
  if (!f.allowOutsideHours) return { visible: false, rule: 'outside-hours-not-allowed' };
  if (f.virtualAgent === 'queueHours') return { visible: false, rule: 'outside-hours-virtual-agent-queue-hours' };
  if (f.virtualAgent === '24h') return { visible: true, rule: 'outside-hours-virtual-agent-24h' };
  if (f.deflectionEnabled) return { visible: true, rule: 'outside-hours-deflection-enabled' };
  if (f.agentsLoggedIn) return { visible: true, rule: 'outside-hours-agents-logged-in' };
  return { visible: false, rule: 'outside-hours-no-deflection-no-agents' };
}
