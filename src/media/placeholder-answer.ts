/**
 * The answer given to a caller's offer on behalf of an agent who has not
 * answered yet (CallMedia.answerPlaceholder): what the caller's 183 carries,
 * and what its 2xx must carry again (RFC 3261 §13.2.1: the same answer; RFC
 * 3262 §5 once a reliable 183 carried it).
 *
 * It answers with one codec, as a media endpoint answers (RFC 3264 §6.1): the
 * offer's first G.711 one (PCMU or PCMA) if it has any, else its first one
 * rtpengine can play prompts in (sdp.ts PLAYABLE_CODECS); and telephone-event
 * at that codec's clock rate when offered. G.711 first, wherever the offer
 * lists it: the recordings converter and the monitor mixer decode G.711 only,
 * and agents' phones all speak it (a carrier offering G.729 first would
 * otherwise leave the caller's side of the recording undecodable and the call
 * transcoded throughout). The agent, offered
 * the caller's codecs in the caller's order, nearly always takes the same one,
 * and the 2xx repeats this answer; were several codecs listed here, the agent's
 * choice would narrow the caller's answer in the 2xx. An agent that takes
 * another codec is transcoded by rtpengine and the caller keeps its codec
 * (without telephone-event: agentAnswerAfterPlaceholder). The media
 * address is the discard port (nothing is sent there while the call is
 * blocked). Its direction mirrors the offer's (RFC 3264 §6.1: inactive for
 * inactive, recvonly for sendonly, sendonly for recvonly), so rtpengine's
 * answer to the caller says what the caller asked for. An offer without an active audio stream, or without a playable
 * codec, is refused: nothing could be played to the caller or bridged.
 */
import { MediaOfferRefusedError } from './media-errors.js';
import { answerDirection, firstPlayableCodec, parseSdp, type SdpMedia } from './sdp.js';

/** The offer's active audio line and the codec the placeholder answers with; refuses what cannot be served. */
function choose(offer: string): { readonly audio: SdpMedia; readonly codec: number } {
  const audio = parseSdp(offer).media.find((m) => m.type === 'audio' && m.port !== 0);
  if (audio === undefined) throw new MediaOfferRefusedError(304, 'the offer has no active audio stream');
  const codec = audio.payloadTypes.find((pt) => /^PCM[UA]$/i.test(audio.rtpmap.get(pt)?.encoding ?? '')) ?? firstPlayableCodec(audio);
  if (codec === undefined) {
    const offered = audio.payloadTypes.map((pt) => audio.rtpmap.get(pt)?.encoding ?? String(pt)).join(' ');
    throw new MediaOfferRefusedError(305, `no offered audio codec can be played or transcoded (offered: ${offered})`);
  }
  return { audio, codec };
}

/**
 * The caller's offer as rtpengine should get it: the codec the placeholder
 * will answer with moved to the front of the audio line, so the agent, offered
 * the caller's codecs in that order, takes it first and no transcoding is
 * needed. Refuses (MediaOfferRefusedError) an offer the placeholder could not
 * answer, before rtpengine is asked anything.
 */
export function offerWithAnswerCodecFirst(offer: string): string {
  const { codec } = choose(offer);
  const eol = offer.includes('\r\n') ? '\r\n' : '\n';
  let done = false;
  return offer
    .split(/\r?\n/)
    .map((line) => {
      const m = /^m=audio (\S+) (\S+) (.*)$/.exec(line);
      if (done || m === null || m[1] === '0') return line;
      done = true;
      const formats = m[3]!.trim().split(/\s+/).filter((f) => f !== String(codec));
      return `m=audio ${m[1]} ${m[2]} ${[String(codec), ...formats].join(' ')}`;
    })
    .join(eol);
}

export function placeholderAnswer(offer: string, host: '127.0.0.1' | '::1'): string {
  const { audio, codec } = choose(offer);
  const clockRate = audio.rtpmap.get(codec)!.clockRate;
  const events = audio.payloadTypes.find((pt) => {
    const map = audio.rtpmap.get(pt);
    return map !== undefined && map.encoding.toLowerCase() === 'telephone-event' && map.clockRate === clockRate;
  });
  const payloadTypes = events !== undefined ? [codec, events] : [codec];
  const attributes = payloadTypes.flatMap((pt) => {
    const map = audio.rtpmap.get(pt)!;
    const fmtp = audio.fmtp.get(pt);
    return [`a=rtpmap:${pt} ${map.encoding}/${map.clockRate}${map.channels !== undefined ? `/${map.channels}` : ''}`, ...(fmtp !== undefined ? [`a=fmtp:${pt} ${fmtp}`] : [])];
  });
  const family = host === '::1' ? 'IP6' : 'IP4';
  return ['v=0', `o=switchboard 1 1 IN ${family} ${host}`, 's=switchboard', `c=IN ${family} ${host}`, 't=0 0', `m=audio 9 RTP/AVP ${payloadTypes.join(' ')}`, ...attributes, `a=${answerDirection(audio.direction, true, true)}`, ''].join('\r\n');
}

/**
 * The agent's answer as rtpengine should get it after `placeholder` answered
 * the caller. Unchanged when the agent took the placeholder's codec (nearly
 * always: it was offered first). Otherwise without telephone-event: Debian's
 * rtpengine 10.5, finding telephone-event the only format the two answers
 * share, answers the caller with telephone-event alone (no audio codec at
 * all) instead of transcoding; with no format shared it transcodes the audio,
 * and the caller's answer keeps its codec (only the events go, in a new
 * version of the caller's SDP).
 */
export function agentAnswerAfterPlaceholder(placeholder: string, answer: string): string {
  const wanted = parseSdp(placeholder).media.find((m) => m.type === 'audio');
  const codec = wanted !== undefined ? wanted.rtpmap.get(wanted.payloadTypes[0]!)?.encoding.toUpperCase() : undefined;
  const audio = parseSdp(answer).media.find((m) => m.type === 'audio' && m.port !== 0);
  if (codec === undefined || audio === undefined) return answer;
  if (audio.payloadTypes.some((pt) => audio.rtpmap.get(pt)?.encoding.toUpperCase() === codec)) return answer;
  const events = new Set(audio.payloadTypes.filter((pt) => audio.rtpmap.get(pt)?.encoding.toLowerCase() === 'telephone-event').map(String));
  if (events.size === 0) return answer;
  const eol = answer.includes('\r\n') ? '\r\n' : '\n';
  return answer
    .split(/\r?\n/)
    .filter((l) => {
      const attr = /^a=(?:rtpmap|fmtp):(\d+)[\s]/.exec(l);
      return attr === null || !events.has(attr[1]!);
    })
    .map((l) => (l.startsWith('m=audio ') ? l.split(' ').filter((t, i) => i < 3 || !events.has(t)).join(' ') : l))
    .join(eol);
}
