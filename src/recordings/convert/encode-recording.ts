/**
 * Capture segments → encrypted WAV or MP3 on disk, in one streaming pass:
 *
 *   pcap files → PCM (our converter) → ffmpeg (stdin → stdout) → frame index → seal → file
 *
 * A WAV is our PCM behind a 44-byte header, so it is written here, without
 * ffmpeg (CHOICE: starting ffmpeg costs about 100 ms of CPU per recording,
 * more than converting a short call; the header is the one ffmpeg writes to a
 * pipe, byte for byte, which a test checks against ffmpeg itself). MP3 needs
 * ffmpeg's libmp3lame.
 *
 * The encoded audio never touches the disk in the clear: ffmpeg writes to a
 * pipe and the seal stream encrypts before anything is written. The file
 * appears under its final name only once complete and flushed to disk.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { runFfmpeg } from '../../audio/ffmpeg.js';
import { SealStream } from '../crypto/sealed-file.js';
import type { KeyRing } from '../crypto/key-ring.js';
import { RecordingFormatError } from '../errors.js';
import { Mp3Indexer } from '../parts/mp3-frames.js';
import type { AudioLayout } from '../parts/part-plan.js';
import { WavProber, wavHeader } from '../parts/wav.js';
import { convertPcapsToPcm, type PartySelector, type PcmConversionReport } from './pcap-to-pcm.js';
import { SAMPLE_RATE } from './party-track.js';
import type { ChannelLayout } from './timeline.js';

export type AudioFormat = 'wav' | 'mp3';

export interface EncodeRecordingOptions {
  readonly segments: readonly string[];
  readonly parties?: { readonly caller?: PartySelector; readonly agent?: PartySelector };
  /** Silence after the last packet: a recording paused when the call ended (the pause's length). */
  readonly trailingSilenceMs?: number;
  readonly format: AudioFormat;
  readonly channels: ChannelLayout;
  readonly mp3BitrateKbps?: number;
  readonly keyRing: KeyRing;
  readonly chunkBytes?: number;
  /** Final path of the encrypted file. */
  readonly outFile: string;
  readonly ffmpegBinary?: string;
  readonly signal?: AbortSignal;
}

export interface EncodedRecording {
  readonly layout: AudioLayout;
  readonly durationMs: number;
  readonly keyId: string;
  /** Bytes of the (decrypted) audio file. */
  readonly audioBytes: number;
  readonly conversion: PcmConversionReport;
}

/** The PCM behind a streaming WAV header (sizes unknown, as ffmpeg writes to a pipe). */
async function wrapWav(o: EncodeRecordingOptions, pcm: PassThrough, out: PassThrough, signal: AbortSignal): Promise<void> {
  const header = wavHeader({ sampleRate: SAMPLE_RATE, channels: o.channels === 'stereo' ? 2 : 1, bitsPerSample: 16 }, undefined);
  async function* withHeader(): AsyncGenerator<Buffer> {
    yield header;
    for await (const chunk of pcm) yield chunk as Buffer;
  }
  await pipeline(withHeader, out, { signal });
}

function mp3Args(o: EncodeRecordingOptions): string[] {
  const channels = o.channels === 'stereo' ? '2' : '1';
  const input = ['-f', 's16le', '-ar', String(SAMPLE_RATE), '-ac', channels, '-i', 'pipe:0', '-map_metadata', '-1'];
  // No bit reservoir: every frame decodes on its own, so a part cut between frames plays cleanly.
  // No Xing/ID3 headers: they would describe the whole file, not a part.
  return [
    ...input,
    '-c:a',
    'libmp3lame',
    '-b:a',
    `${o.mp3BitrateKbps ?? 32}k`,
    '-reservoir',
    '0',
    '-write_xing',
    '0',
    '-id3v2_version',
    '0',
    '-f',
    'mp3',
    'pipe:1',
  ];
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function encodeRecording(o: EncodeRecordingOptions): Promise<EncodedRecording> {
  const tmp = `${o.outFile}.tmp-${randomBytes(4).toString('hex')}`;
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const pcm = new PassThrough({ highWaterMark: 1024 * 1024 });
  const encoded = new PassThrough({ highWaterMark: 1024 * 1024 });
  const probe: WavProber | Mp3Indexer = o.format === 'wav' ? new WavProber() : new Mp3Indexer();
  const seal = new SealStream(o.keyRing, o.chunkBytes);
  try {
    const encoder = o.format === 'wav' ? wrapWav(o, pcm, encoded, abort.signal) : runFfmpeg({ args: mp3Args(o), stdin: pcm, stdout: encoded, signal: abort.signal, ...(o.ffmpegBinary !== undefined ? { binary: o.ffmpegBinary } : {}) });
    // If the encoder dies, stop feeding it (the converter would otherwise wait for 'drain' forever).
    encoder.catch(() => abort.abort());
    const written = pipeline(encoded, probe as Transform, seal, createWriteStream(tmp, { mode: 0o600 }), { signal: abort.signal });
    written.catch(() => abort.abort());
    const conversion = await convertPcapsToPcm({ segments: o.segments, parties: o.parties, layout: o.channels, ...(o.trailingSilenceMs !== undefined ? { trailingSilenceMs: o.trailingSilenceMs } : {}), signal: abort.signal }, pcm);
    pcm.end();
    await Promise.all([encoder, written]);
    const layout = layoutOf(probe);
    await fsyncPath(tmp, 'r');
    await rename(tmp, o.outFile);
    await fsyncPath(dirname(o.outFile), 'r');
    const durationMs = (conversion.durationSamples / SAMPLE_RATE) * 1000;
    return { layout, durationMs, keyId: o.keyRing.currentId, audioBytes: seal.bytesIn, conversion };
  } catch (e) {
    abort.abort();
    pcm.destroy();
    await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function layoutOf(probe: WavProber | Mp3Indexer): AudioLayout {
  if (probe instanceof WavProber) {
    const { probe: wav, totalBytes } = probe.result();
    if (wav.format.bitsPerSample !== 16) throw new RecordingFormatError(`encoder wrote ${wav.format.bitsPerSample}-bit WAV, expected 16-bit`);
    return { format: 'wav', pcm: wav.format, dataOffset: wav.dataOffset, dataBytes: totalBytes - wav.dataOffset };
  }
  const idx = probe.index();
  return { format: 'mp3', sampleRate: idx.sampleRate, channels: idx.channels, dataOffset: idx.dataOffset, dataBytes: idx.dataBytes, syncPoints: idx.syncPoints };
}
