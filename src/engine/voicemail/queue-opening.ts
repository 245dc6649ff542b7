/**
 * The hours policy's answer to the voicemail notices' question: is the queue
 * open now, and if not, when does it next open (null: not known, as under an
 * emergency closure with no end)? Undefined for a queue the configuration no
 * longer has (or that no longer takes calls), which no answer will ever open.
 */
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import type { Policy } from '../../policy/index.js';
import type { QueueOpening } from './voicemail-notices.js';

export function queueOpening(policy: Policy): QueueOpening {
  return (queue, language, atMs) => {
    try {
      const d = policy.decide({ queue, channel: 'ivr', language, at: atMs });
      return { open: d.open, nextOpenMs: d.nextOpen === null ? null : Date.parse(d.nextOpen) };
    } catch (e) {
      if (e instanceof SwitchboardError && (e.code === ErrorCodes.POLICY_UNKNOWN_QUEUE || e.code === ErrorCodes.POLICY_CHANNEL_NOT_SERVED)) return undefined;
      throw e;
    }
  };
}
