/**
 * The answer to a request refused before it had a transaction (400 with the
 * reason, 505, 513): built from what could be read of it, and sent where RFC
 * 3261 §18.2.2 says. Over UDP that is the top Via's sent-by port unless the
 * Via asks for rport (RFC 3581), as for any response (`responseDestination` in dialog-routing.ts);
 * a Via that cannot be read leaves the request's source port. Its To tag is
 * made from the request, so a retransmission of the same bad request gets the
 * same tag and its ACK matches whichever response it answers.
 */
import { createHash } from 'node:crypto';
import { withTag } from '../message/name-addr.js';
import type { AnswerableRequest } from '../message/parser.js';
import { serialize } from '../message/sip-message.js';
import { findTopViaEnd, parseVia } from '../message/via.js';
import type { Destination, Flow } from '../transport/types.js';
import { buildErrorResponse } from './message-builder.js';

export function malformedRequestAnswer(request: AnswerableRequest, status: number, reason: string, userAgent: string, flow: Flow): { bytes: Buffer; dest: Destination } | undefined {
  const headers = request.headers;
  const viaField = headers.get('via');
  if (viaField === undefined) return undefined; // nowhere to send a response
  const phrase = status === 400 ? `Bad Request (${reason})` : status === 505 ? 'Version Not Supported' : status === 513 ? 'Message Too Large' : reason;
  // A binary (latin1) copy of undecodable headers is written back byte for byte; our own text is UTF-8.
  const server = request.binary === true ? Buffer.from(userAgent, 'utf8').toString('latin1') : userAgent;
  const response = buildErrorResponse(headers, status, phrase, server);
  const to = response.headers.get('to');
  if (to !== undefined && !/;\s*tag=/i.test(to)) response.headers.set('to', withTag(to, tagFor(request)));
  const end = findTopViaEnd(viaField);
  const via = parseVia(end < 0 ? viaField : viaField.slice(0, end));
  const port = flow.transport === 'udp' && via !== undefined && !via.params.has('rport') ? (via.port ?? 5060) : flow.port;
  return {
    bytes: serialize(response, request.binary === true ? 'latin1' : 'utf8'),
    dest: {
      transport: flow.transport,
      address: flow.address,
      port,
      listenerId: flow.listener.id,
      ...(flow.connectionId !== undefined ? { connectionId: flow.connectionId } : {}),
    },
  };
}

/** The same for every copy of one request: its Call-ID, From, CSeq and top Via as read. */
function tagFor(request: AnswerableRequest): string {
  const h = request.headers;
  const seed = [h.get('call-id'), h.get('from'), h.get('cseq'), h.get('via')].map((v) => v ?? '').join('\n');
  return createHash('sha256').update(seed).digest('hex').slice(0, 16);
}
