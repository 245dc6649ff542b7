/**
 * Just enough SDP (RFC 4566 / RFC 3264) for test endpoints: write an audio
 * offer or answer for a local RTP port, and read where each m-line of a peer's
 * SDP wants media sent. Independent of src/ on purpose (see rtp-packet.ts).
 */

export type TestCodec = 'pcmu' | 'pcma';

const CODEC_LINES: Record<TestCodec, { pt: number; rtpmap: string }> = {
  pcmu: { pt: 0, rtpmap: 'PCMU/8000' },
  pcma: { pt: 8, rtpmap: 'PCMA/8000' },
};

export interface AudioSdpOptions {
  readonly host?: string;
  readonly codecs?: readonly TestCodec[];
  readonly direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Also offer telephone-event (RFC 4733) as payload type 101. */
  readonly telephoneEvent?: boolean;
  readonly sessionId?: number;
}

/** One audio m-line on `port`. */
export function audioSdp(port: number, options: AudioSdpOptions = {}): string {
  const host = options.host ?? '127.0.0.1';
  const codecs = options.codecs ?? ['pcmu', 'pcma'];
  const pts = codecs.map((c) => CODEC_LINES[c].pt);
  if (options.telephoneEvent === true) pts.push(101);
  const id = options.sessionId ?? Math.floor(Math.random() * 1e9);
  const lines = [
    'v=0',
    `o=- ${id} ${id} IN IP4 ${host}`,
    's=test',
    `c=IN IP4 ${host}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${pts.join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${CODEC_LINES[c].pt} ${CODEC_LINES[c].rtpmap}`),
    ...(options.telephoneEvent === true ? ['a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16'] : []),
    `a=${options.direction ?? 'sendrecv'}`,
    'a=ptime:20',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

export interface TestMediaLine {
  readonly host: string;
  readonly port: number;
  readonly payloadTypes: readonly number[];
  readonly direction: string;
}

/** The m-lines of an SDP, each with its effective connection address. */
export function mediaLines(sdp: string): TestMediaLine[] {
  const out: { host: string; port: number; payloadTypes: number[]; direction: string }[] = [];
  let sessionHost = '';
  let current: (typeof out)[number] | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const [, port, , ...pts] = line.slice(2).split(' ');
      current = { host: sessionHost, port: Number(port), payloadTypes: pts.map(Number), direction: 'sendrecv' };
      out.push(current);
    } else if (line.startsWith('c=')) {
      const host = line.split(' ')[2] ?? '';
      if (current === undefined) sessionHost = host;
      else current.host = host;
    } else if (current !== undefined && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
      current.direction = line.slice(2);
    }
  }
  for (const m of out) if (m.host === '') m.host = sessionHost;
  return out;
}
