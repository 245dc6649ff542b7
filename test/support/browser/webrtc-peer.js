/* global window, setTimeout, RTCPeerConnection, MediaStream, Audio, AudioContext */
// In-page helpers for the browser tests (loaded into Chromium with addScriptTag):
// WebRTC peers driven from the test, and tone measurement of any received
// MediaStream with a WebAudio AnalyserNode. Plain JavaScript on purpose: the
// page runs it as written, with nothing from the test's TypeScript transform.
(() => {
  const peers = new Map();
  let next = 0;

  const gathered = (pc) =>
    new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const done = () => {
        if (pc.iceGatheringState === 'complete') resolve();
      };
      pc.addEventListener('icegatheringstatechange', done);
      // Non-trickle SDP carries the candidates found by then; rtpengine learns the rest from checks.
      setTimeout(resolve, 2000);
    });

  function newPeer(options) {
    const pc = new RTCPeerConnection();
    const id = ++next;
    const entry = { pc, stream: new MediaStream(), oscillator: undefined, audio: undefined, context: undefined };
    pc.addEventListener('track', (e) => {
      entry.stream.addTrack(e.track);
      // Chromium delivers a remote WebRTC track to WebAudio only while a media element plays it.
      const audio = new Audio();
      audio.srcObject = entry.stream;
      audio.muted = false;
      void audio.play();
      entry.audio = audio;
    });
    if (options && options.toneHz) {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.frequency.value = options.toneHz;
      const gain = ctx.createGain();
      gain.gain.value = 0.3;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      entry.context = ctx;
      entry.oscillator = osc;
      for (const t of dest.stream.getAudioTracks()) pc.addTrack(t, dest.stream);
    } else {
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    peers.set(id, entry);
    return id;
  }

  async function offer(options) {
    const id = newPeer(options);
    const { pc } = peers.get(id);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    return { id, sdp: pc.localDescription.sdp };
  }

  async function accept(id, sdp) {
    await peers.get(id).pc.setRemoteDescription({ type: 'answer', sdp });
  }

  async function answer(sdp, options) {
    const id = newPeer(options);
    const { pc } = peers.get(id);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    return { id, sdp: pc.localDescription.sdp };
  }

  async function stats(id) {
    const out = { connection: peers.get(id).pc.connectionState, inbound: null, codec: null, transport: null };
    const report = await peers.get(id).pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.inbound = { packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, codecId: s.codecId };
      if (s.type === 'transport') out.transport = { dtlsState: s.dtlsState, iceState: s.iceState, srtpCipher: s.srtpCipher };
    });
    if (out.inbound && out.inbound.codecId) {
      const codec = report.get(out.inbound.codecId);
      out.codec = codec ? codec.mimeType : null;
    }
    return out;
  }

  function close(id) {
    const entry = peers.get(id);
    if (!entry) return;
    entry.pc.close();
    if (entry.audio) entry.audio.srcObject = null;
    if (entry.context) void entry.context.close();
    peers.delete(id);
  }

  /**
   * Tone levels in a MediaStream: the AnalyserNode's spectrum averaged over
   * `frames` snapshots `intervalMs` apart. For each frequency, the strongest
   * bin within ±1 bin, in dB, and the floor: the median bin of the telephone
   * band (200-3400 Hz), where a few tones occupy only a few bins.
   */
  async function levels(stream, frequencies, frames, intervalMs) {
    const ctx = new AudioContext();
    await ctx.resume();
    const source = ctx.createMediaStreamSource(stream);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 4096;
    analyser.smoothingTimeConstant = 0;
    source.connect(analyser);
    const sum = new Float64Array(analyser.frequencyBinCount);
    const frame = new Float32Array(analyser.frequencyBinCount);
    for (let i = 0; i < frames; i++) {
      await new Promise((r) => setTimeout(r, intervalMs));
      analyser.getFloatFrequencyData(frame);
      for (let b = 0; b < frame.length; b++) sum[b] += Math.max(frame[b], -200) / frames;
    }
    const hzPerBin = ctx.sampleRate / analyser.fftSize;
    const band = Array.from(sum).filter((_, b) => b * hzPerBin >= 200 && b * hzPerBin <= 3400);
    const sorted = band.sort((a, b) => a - b);
    const floor = sorted[Math.floor(sorted.length / 2)];
    const peaks = {};
    for (const f of frequencies) {
      const b = Math.round(f / hzPerBin);
      peaks[f] = Math.max(sum[b - 1], sum[b], sum[b + 1]);
    }
    source.disconnect();
    await ctx.close();
    return { peaks, floor };
  }

  async function peerLevels(id, frequencies, frames, intervalMs) {
    return levels(peers.get(id).stream, frequencies, frames, intervalMs);
  }

  window.sbPeer = { offer, accept, answer, stats, close, levels, peerLevels };
})();
