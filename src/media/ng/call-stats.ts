/**
 * Reading rtpengine's `query` reply.
 */
import type { TextBencode } from './bencode.js';
import type { NgCallStatsReply } from './ng-types.js';

/**
 * When rtpengine last received RTP or RTCP from any of the parties labelled
 * `labels` (default: every party), in unix seconds; a stream that never
 * received counts from the call's creation.
 */
export function lastPacketOf(reply: NgCallStatsReply, labels?: readonly string[]): number {
  let last = reply.created ?? 0;
  const visit = (v: TextBencode | undefined): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      const t = v['last packet'];
      if (typeof t === 'number') last = Math.max(last, t);
      for (const [k, child] of Object.entries(v)) if (k !== 'last packet') visit(child);
    }
  };
  const tags = reply.tags;
  if (typeof tags === 'object' && tags !== null && !Array.isArray(tags)) {
    for (const party of Object.values(tags)) {
      const label = typeof party === 'object' && party !== null && !Array.isArray(party) ? party.label : undefined;
      if (labels === undefined || (typeof label === 'string' && labels.includes(label))) visit(party);
    }
  }
  return last;
}
