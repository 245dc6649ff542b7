/**
 * Small touches applied to rendered speech before it is cached: leading and
 * trailing silence is cut (every millisecond of whisper is wait time for the
 * caller), and TTS output is brought to a fixed peak so every prompt is
 * equally loud. Uploaded recordings keep their own level.
 */

/** Cuts leading/trailing samples quieter than `threshold`, keeping `marginSamples` of lead-in and tail. */
export function trimSilence(pcm: Int16Array, threshold: number, marginSamples: number): Int16Array {
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first]!) < threshold) first++;
  if (first === pcm.length) return pcm.subarray(0, 0);
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last]!) < threshold) last--;
  return pcm.subarray(Math.max(0, first - marginSamples), Math.min(pcm.length, last + 1 + marginSamples));
}

/** Scales so the largest sample reaches `targetPeak` (a copy; silence is returned unchanged). */
export function normalizePeak(pcm: Int16Array, targetPeak: number): Int16Array {
  let peak = 0;
  for (let i = 0; i < pcm.length; i++) peak = Math.max(peak, Math.abs(pcm[i]!));
  if (peak === 0) return pcm.slice();
  const gain = targetPeak / peak;
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(pcm[i]! * gain)));
  return out;
}

/** Joins clips with `gapSamples` of silence between them. */
export function concatWithGaps(clips: readonly Int16Array[], gapSamples: number): Int16Array {
  const total = clips.reduce((n, c) => n + c.length, 0) + gapSamples * Math.max(0, clips.length - 1);
  const out = new Int16Array(total);
  let offset = 0;
  clips.forEach((c, i) => {
    if (i > 0) offset += gapSamples;
    out.set(c, offset);
    offset += c.length;
  });
  return out;
}
