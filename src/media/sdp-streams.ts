/**
 * One audio stream through rtpengine, every offered stream in the caller's
 * SDP (RFC 3264 §6, §8).
 *
 * A caller may offer more than a contact center serves: audio with video, two
 * audio lines, an image (T.38) line. rtpengine is given only the first usable
 * audio stream (`singleAudio`), so the agent is offered one audio line and the
 * placeholder, prompts, recordings and the monitor deal with one stream. Every
 * SDP bound for the caller is put back into the shape of the caller's offer
 * (`shapeForCaller`): exactly as many m-lines, in the same order, the audio
 * stream where it was offered and every other one rejected with port 0, its
 * media type, protocol and first format (§6: "at least one MUST be present")
 * and its `a=mid` (RFC 5888 §9.1: a rejected m-line keeps its identification).
 * Later offers toward the caller keep those m-lines too (§8: their number
 * never goes down). An answer's direction mirrors the offer's (§6.1: an
 * inactive offer is answered inactive, sendonly with recvonly or inactive,
 * recvonly with sendonly or inactive), whatever the agent's phone answered.
 */
import { answerDirection, firstPlayableCodec, parseSdp, type MediaDirection, type SdpMedia } from './sdp.js';

/** The shape of the caller's last offer: what shapeForCaller puts back. */
export interface StreamLayout {
  /** Each offered m-line as the answer rejects it (m-line, and its a=mid), in the offer's order. */
  readonly rejected: readonly (readonly string[])[];
  /** The index of the audio stream passed to rtpengine. */
  readonly kept: number;
  /** That stream's direction in the offer. */
  readonly offered: MediaDirection;
}

interface Split {
  readonly eol: string;
  readonly session: string[];
  readonly sections: string[][];
}

function split(sdp: string): Split {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const session: string[] = [];
  const sections: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([line]);
    else if (sections.length > 0) sections[sections.length - 1]!.push(line);
    else session.push(line);
  }
  return { eol, session, sections };
}

const join = (eol: string, lines: readonly string[]): string => `${lines.join(eol)}${eol}`;

const DIRECTION = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/;

/** What one m-line of `sdp` offers (its session-level c= and direction apply); undefined when unreadable. */
function streamOf(session: readonly string[], section: readonly string[]): ReturnType<typeof parseSdp>['media'][number] | undefined {
  try {
    return parseSdp([...session, ...section, ''].join('\r\n')).media[0];
  } catch {
    return undefined;
  }
}

/** The m-line `section` as an answer rejects it: port 0, same type, protocol and first format, and its a=mid. */
function rejectedForm(section: readonly string[]): string[] {
  const [type = 'audio', , protocol = 'RTP/AVP', format = '0'] = section[0]!.slice(2).trim().split(/\s+/);
  const mid = section.find((l) => l.startsWith('a=mid:'));
  return [`m=${type} 0 ${protocol} ${format}`, ...(mid !== undefined ? [mid] : [])];
}

/**
 * The offer with only its first usable audio stream (the first active audio
 * m-line with a codec rtpengine can play; else the first active one, which
 * the placeholder then refuses with a reason), and the offer's layout to
 * restore. An offer without an active audio stream comes back unchanged,
 * without a layout (it is refused further on).
 */
export function singleAudio(offer: string): { readonly sdp: string; readonly layout: StreamLayout | undefined } {
  const { eol, session, sections } = split(offer);
  const streams = sections.map((s) => streamOf(session, s));
  const active = (i: number): boolean => streams[i]?.type === 'audio' && streams[i].port !== 0;
  let kept = streams.findIndex((s, i) => active(i) && firstPlayableCodec(s!) !== undefined);
  if (kept < 0) kept = streams.findIndex((_s, i) => active(i));
  if (kept < 0) return { sdp: offer, layout: undefined };
  const layout: StreamLayout = { rejected: sections.map(rejectedForm), kept, offered: streams[kept]!.direction };
  if (sections.length === 1) return { sdp: offer, layout };
  // A grouping (BUNDLE, RFC 8843; LS, RFC 5888) may name only the stream that is left.
  const mid = sections[kept]!.find((l) => l.startsWith('a=mid:'))?.slice(6).trim();
  const head = session.flatMap((l) => {
    const group = /^a=group:(\S+)(.*)$/.exec(l);
    if (group === null) return [l];
    return mid !== undefined && group[2]!.trim().split(/\s+/).includes(mid) ? [`a=group:${group[1]} ${mid}`] : [];
  });
  return { sdp: join(eol, [...head, ...sections[kept]!]), layout };
}

/** `section` with its direction set to `direction` (a media-level attribute, replaced or added). */
function withDirection(section: readonly string[], direction: MediaDirection): string[] {
  const out = section.filter((l) => !DIRECTION.test(l));
  return [...out, `a=${direction}`];
}

/**
 * An SDP from rtpengine (one audio m-line) bound for the caller (or for the
 * agent side, answering its offer), in the shape of that party's offer `layout`: the rejected m-lines back in place (with a
 * c= line each when the session has none, RFC 4566 §5.7) and, for an answer,
 * the direction mirrored from the offer (RFC 3264 §6.1). Without a layout
 * (the caller never offered) the SDP is passed on unchanged.
 */
export function shapeForCaller(sdp: string, layout: StreamLayout | undefined, answering: boolean): string {
  if (layout === undefined) return sdp;
  const { eol, session, sections } = split(sdp);
  let audio = sections.find((s) => s[0]!.startsWith('m=audio '));
  if (audio === undefined) return sdp;
  let redirected = false;
  if (answering) {
    const own = streamOf(session, audio)?.direction ?? 'sendrecv';
    const mirrored = answerDirection(layout.offered, own === 'sendrecv' || own === 'sendonly', own === 'sendrecv' || own === 'recvonly');
    if (mirrored !== own) {
      audio = withDirection(audio, mirrored);
      redirected = true;
    }
  }
  if (layout.rejected.length === 1 && sections.length === 1 && !redirected) return sdp;
  const connection = session.some((l) => l.startsWith('c=')) ? undefined : audio.find((l) => l.startsWith('c='));
  const shaped = layout.rejected.map((r, i) => (i === layout.kept ? audio : connection !== undefined ? [r[0]!, connection, ...r.slice(1)] : [...r]));
  return join(eol, [...session, ...shaped.flat()]);
}

/** The first active audio stream of `sdp`; undefined without one, or when unreadable. */
function activeAudio(sdp: string): SdpMedia | undefined {
  try {
    return parseSdp(sdp).media.find((m) => m.type === 'audio' && m.port !== 0);
  } catch {
    return undefined;
  }
}

/**
 * Whether the author of `sdp` takes audio: sendrecv or recvonly, at an address (true when unreadable or without audio).
 * An audio stream at 0.0.0.0 takes nothing (RFC 2543's hold, still answered by old phones; RFC 3264 §8.4).
 */
export function receivesAudio(sdp: string): boolean {
  const audio = activeAudio(sdp);
  if (audio === undefined) return true;
  return (audio.direction === 'sendrecv' || audio.direction === 'recvonly') && audio.address !== '0.0.0.0';
}

/** Whether the author of `sdp` will send on its (first active) audio stream: sendrecv or sendonly. */
export function sendsAudio(sdp: string): boolean {
  const d = activeAudio(sdp)?.direction;
  return d === undefined || d === 'sendrecv' || d === 'sendonly';
}

/**
 * What makes `answer` one that cannot carry the call's audio, given our `offer` (RFC 3264 §6, §6.1), or
 * undefined: it rejected the audio stream (port 0) or has none, or it names no audio format of the offer
 * (by encoding and clock rate: an answerer may renumber a dynamic type; telephone-event alone is no audio).
 * An answer that cannot be read says nothing here (the media relay judges it).
 */
export function unusableAnswer(offer: string, answer: string): string | undefined {
  let offered: ReadonlySet<string>;
  let audio: SdpMedia | undefined;
  try {
    const ours = parseSdp(offer).media.find((m) => m.type === 'audio' && m.port !== 0);
    if (ours === undefined) return undefined;
    offered = new Set(formatsOf(ours));
    const theirs = parseSdp(answer).media.filter((m) => m.type === 'audio');
    if (theirs.length === 0) return 'it has no audio stream';
    audio = theirs.find((m) => m.port !== 0);
    if (audio === undefined) return 'it rejected the audio stream (port 0)';
  } catch {
    return undefined;
  }
  const common = formatsOf(audio).filter((f) => offered.has(f) && !f.startsWith('telephone-event/'));
  return common.length > 0 ? undefined : `it names no audio format of the offer (${formatsOf(audio).join(', ') || 'none'})`;
}

/** A stream's formats as encoding/clock rate, lower case (static types by their RFC 3551 names). */
function formatsOf(m: SdpMedia): string[] {
  return m.payloadTypes.map((pt) => {
    const map = m.rtpmap.get(pt);
    return map === undefined ? `pt${pt}` : `${map.encoding.toLowerCase()}/${map.clockRate}`;
  });
}
