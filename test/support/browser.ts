/**
 * A real browser for tests: Debian's Chromium (`/usr/bin/chromium`, package
 * `chromium`) driven by playwright-core, which downloads no browser of its
 * own. Headless, with a fresh profile directory, fake media devices and
 * automatic permission for them, and without background traffic. Pages can
 * load the WebRTC and tone-measuring helpers of browser/webrtc-peer.js.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SB_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // Host candidates with real addresses, not mDNS names: only loopback and local addresses are used.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export interface TestBrowser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Starts Chromium with a fresh profile; `close()` stops it and removes the profile. */
export async function startBrowser(options: { autoplay?: boolean } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'sb-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...ARGS, ...(options.autoplay === true ? ['--autoplay-policy=no-user-gesture-required'] : [])],
      viewport: { width: 1280, height: 800 },
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Loads browser/webrtc-peer.js (window.sbPeer) into the page. */
export async function addPeerHelpers(page: Page): Promise<void> {
  await page.addScriptTag({ path: resolve(import.meta.dirname, 'browser/webrtc-peer.js') });
}

export interface ToneLevels {
  /** dB of the strongest bin at each frequency. */
  readonly peaks: Record<string, number>;
  /** dB of the median bin (the floor). */
  readonly floor: number;
}

export interface PeerStats {
  readonly connection: string;
  readonly inbound: { packetsReceived: number; packetsLost: number } | null;
  readonly codec: string | null;
  readonly transport: { dtlsState: string; iceState: string; srtpCipher?: string } | null;
}

/** What browser/webrtc-peer.js puts on the page's window (use in page.evaluate through globalThis). */
export interface PeerWindow {
  readonly sbPeer: {
    offer(o: { toneHz?: number }): Promise<{ id: number; sdp: string }>;
    answer(sdp: string, o: { toneHz?: number }): Promise<{ id: number; sdp: string }>;
    accept(id: number, sdp: string): Promise<void>;
    stats(id: number): Promise<PeerStats>;
    peerLevels(id: number, frequencies: readonly number[], frames: number, intervalMs: number): Promise<ToneLevels>;
    /** Levels of any MediaStream (e.g. the console's monitor audio element's srcObject). */
    levels(stream: unknown, frequencies: readonly number[], frames: number, intervalMs: number): Promise<ToneLevels>;
    close(id: number): void;
  };
}
