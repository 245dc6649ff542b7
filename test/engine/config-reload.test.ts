/**
 * Reloading the configuration while calls go on (SIGHUP, Engine.reloadConfig):
 * the hours policy and its deflection are taken for the calls that arrive
 * afterwards; a file that changes anything a running engine cannot take is
 * refused as a whole, naming each setting, and nothing changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSwitchboard, type RunningSwitchboard } from '../../src/app/switchboard.js';
import { loadConfigObject, type SwitchboardConfig } from '../../src/config/load.js';
import { configChanges, renderedPromptsFor } from '../../src/engine/config-reload.js';
import { PromptLibrary } from '../../src/media/index.js';
import { PromptRenderer } from '../../src/media/prompts/prompt-renderer.js';
import { VoicemailNotices, type VoicemailNotice } from '../../src/engine/voicemail/voicemail-notices.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { respond, request, sdp, SipPeer } from '../support/sip-peer.js';

const agentUri = 'sip:agent@127.0.0.1:5999';

function configWith(over: { queue?: Record<string, unknown>; queues?: Record<string, unknown>[]; top?: Record<string, unknown> }): SwitchboardConfig {
  return loadConfigObject({
    node: { logLevel: 'silent', status: { enabled: false } },
    media: { enabled: false },
    queues: over.queues ?? [{ id: 'q', name: 'Q', numbers: ['1000'], agents: [agentUri], ...over.queue }],
    ...over.top,
  });
}

describe('what a reload may apply (configChanges)', () => {
  it('an unchanged file changes nothing', () => {
    expect(configChanges(configWith({}), configWith({}))).toEqual({ reloadable: [], needRestart: [] });
  });

  it('hours, holidays, emergency closures and deflection, global or per queue, are applied', () => {
    const next = configWith({
      queue: { emergency: { force: 'closed', reason: 'storm' }, deflection: { ivr: { option: 'message', message: { en: { text: 'We are closed.' } } } } },
      top: {
        schedules: [{ id: 'office', timeZone: 'Europe/Berlin', weekly: { monday: ['09:00-17:00'] } }],
        exceptions: [{ id: 'holidays', entries: [{ name: 'Christmas Day', date: '12-25', closed: true }] }],
        hours: { schedule: 'office', exceptions: ['holidays'] },
      },
    });
    const changes = configChanges(configWith({}), next);
    expect(changes.needRestart).toEqual([]);
    expect([...changes.reloadable].sort()).toEqual(['exceptions', 'hours', 'queues[0].deflection', 'queues[0].emergency', 'schedules']);
  });

  it('anything else is named down to the setting that changed, and makes the reload a restart', () => {
    const next = configWith({ queue: { agents: [agentUri, 'sip:other@127.0.0.1:5998'], emergency: { force: 'closed' } }, top: { media: { enabled: false, whisper: { text: 'Hello' } }, engine: { ringTimeoutSeconds: 7 } } });
    const changes = configChanges(configWith({}), next);
    expect(changes.reloadable).toEqual(['queues[0].emergency']);
    expect([...changes.needRestart].sort()).toEqual(['engine.ringTimeoutSeconds', 'media.whisper.text', 'queues[0].agents']);
  });

  it('a queue added, removed or moved needs a restart', () => {
    const two = [
      { id: 'q', name: 'Q', numbers: ['1000'], agents: [agentUri] },
      { id: 'r', name: 'R', numbers: ['2000'], agents: [agentUri] },
    ];
    expect(configChanges(configWith({}), configWith({ queues: two })).needRestart).toEqual(['queues (a queue added, removed or moved)']);
    expect(configChanges(configWith({ queues: two }), configWith({ queues: [two[1]!, two[0]!] })).needRestart).toEqual(['queues (a queue added, removed or moved)']);
  });
});

describe('a running engine reloads its hours', () => {
  let sb: RunningSwitchboard;
  let caller: SipPeer;
  let agent: SipPeer;
  let port: number;
  let closed: SwitchboardConfig;

  function configFor(queue: Record<string, unknown>, more: readonly string[] = []): SwitchboardConfig {
    return loadConfigObject({
      node: { logLevel: 'silent', status: { enabled: false } },
      sipServer: { thread: 'inline', listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0 }, overload: { enabled: false } },
      media: { enabled: false },
      queues: [{ id: 'q', name: 'Q', numbers: ['1000'], agents: [`sip:agent@127.0.0.1:${agent.port}`, ...more], ...queue }],
    });
  }

  beforeAll(async () => {
    caller = await SipPeer.create('udp');
    agent = await SipPeer.create('udp');
    // Closed by an emergency, deflected to a message: without a media plane that is 480 (engine-calls.test.ts).
    closed = configFor({ emergency: { force: 'closed', reason: 'storm' }, deflection: { ivr: { option: 'message', message: { en: { text: 'We are closed.' } } } } });
    sb = await startSwitchboard(closed, silentLogger(), { recordingsWorker: false });
    port = sb.sipListeners[0]!.port;
  });
  afterAll(async () => {
    await sb.stop();
    await caller.close();
    await agent.close();
  });

  async function callIsDeflected(): Promise<void> {
    await caller.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: caller, body: sdp(4300) }), { port });
    await caller.waitResponse(480, 'INVITE');
    expect(await agent.quiet((r) => r.message.kind === 'request' && r.message.method === 'INVITE', 200)).toEqual([]);
  }

  it('a closure lifted in the file reaches the next call; a file that changes more is refused and changes nothing', async () => {
    await callIsDeflected();

    // The closure lifted, and an agent added: that needs a restart, so nothing is taken.
    const tooMuch = configFor({}, ['sip:second@127.0.0.1:5997']);
    expect(await sb.reloadConfig(tooMuch)).toEqual({ applied: false, reasons: ['queues[0].agents changed, which needs a restart'] });
    await callIsDeflected();

    // The closure lifted alone: taken, and the next call rings the agent.
    expect(await sb.reloadConfig(configFor({}))).toEqual({ applied: true, changed: ['queues[0].emergency', 'queues[0].deflection'] });
    await caller.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: caller, body: sdp(4400) }), { port });
    const inv = await agent.waitRequest('INVITE');
    await agent.send(respond(inv, 486, 'Busy Here', { toTag: 'b' }), { port });
    await caller.waitResponse(480, 'INVITE');

    // Closed again: the next call is deflected again.
    expect(await sb.reloadConfig(closed)).toEqual({ applied: true, changed: ['queues[0].emergency', 'queues[0].deflection'] });
    await callIsDeflected();
  });
});

describe('the messages of a reloaded file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('are rendered before the reload is taken; one that cannot be is named and the reload refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-reload-prompts-'));
    dirs.push(dir);
    const renderer = new PromptRenderer({ cacheDir: join(dir, 'cache'), espeakBinary: 'espeak-ng', ffmpegBinary: 'ffmpeg', renderTimeoutMs: 20_000, logger: silentLogger() });
    const media = { whisper: { enabled: false, countdown: false } };
    const running = new PromptLibrary({ config: loadConfigObject({ media, queues: [{ id: 'q', name: 'Q', numbers: ['1000'], agents: [agentUri] }] }), renderer, baseDir: dir, logger: silentLogger() });
    const closure = (message: Record<string, unknown>): SwitchboardConfig =>
      loadConfigObject({ media, queues: [{ id: 'q', name: 'Q', numbers: ['1000'], agents: [agentUri], emergency: { force: 'closed', message: { en: message } } }] });
    const before = renderer.stats.renders;
    const library = await renderedPromptsFor(running, closure({ text: 'Closed by the storm.' }));
    expect(renderer.stats.renders).toBeGreaterThan(before);
    // Rendered already: the first caller after the reload waits for no render.
    const rendered = renderer.stats.renders;
    const storm = await library!.configuredPrompt('queues[0].emergency.message.en');
    expect(storm.key).toBe(await renderer.keyOf({ kind: 'tts', text: 'Closed by the storm.', language: 'en', speed: 1 }));
    expect(renderer.stats.renders).toBe(rendered);
    await expect(renderedPromptsFor(running, closure({ file: join(dir, 'missing.wav') }))).rejects.toThrow(/queues\[0\]\.emergency\.message\.en: .*missing\.wav/);
    // Without a media plane there is nothing to render.
    expect(await renderedPromptsFor(undefined, closure({ text: 'x' }))).toBeUndefined();
  });
});

describe('held voicemail notices on a reload', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('one held for an opening more than setTimeout\'s longest wait away, sent at once by a reload, is not sent again when its old timer wakes (probe AO-1)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const dir = mkdtempSync(join(tmpdir(), 'sb-reload-notices-'));
    dirs.push(dir);
    const DAY = 86_400_000;
    let isOpen = false;
    // An emergency closure until a date 40 days away: the notice's timer is re-armed in steps of 2³¹−1 ms.
    const farAway = Date.now() + 40 * DAY;
    const n = new VoicemailNotices({ dir, webhook: undefined, logger: silentLogger(), now: () => Date.now(), opening: () => ({ open: isOpen, nextOpenMs: isOpen ? null : farAway }) });
    const fired: VoicemailNotice[] = [];
    const held: (number | null)[] = [];
    n.on('notify', (x) => fired.push(x));
    n.on('held', (_x, next) => held.push(next));
    await n.start();
    await n.add({ recordingId: 'rec-1', call: 'call-1', queue: 'q', notifyAt: null, callbackNumber: null, caller: null, language: 'en', recordedAt: new Date().toISOString() });
    await vi.advanceTimersByTimeAsync(10);
    expect(held).toEqual([farAway]);
    isOpen = true;
    n.hoursChanged();
    // The file I/O of the sending is real: awaited by the clock the fake timers leave alone.
    const until = performance.now() + 10_000;
    while (fired.length === 0 && performance.now() < until) await new Promise((r) => setImmediate(r));
    expect(fired.map((x) => x.recordingId)).toEqual(['rec-1']);
    expect(n.size).toBe(0);
    // 25 days on, the old timer's step would have armed the notice again.
    await vi.advanceTimersByTimeAsync(25 * DAY);
    expect(n.size).toBe(0);
    await n.close();
  });

  it('a notice held for an opening far away is sent at once when the new hours open its queue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-reload-notices-'));
    dirs.push(dir);
    let isOpen = false;
    const farAway = Date.now() + 86_400_000;
    const n = new VoicemailNotices({ dir, webhook: undefined, logger: silentLogger(), opening: () => ({ open: isOpen, nextOpenMs: isOpen ? null : farAway }) });
    const fired: VoicemailNotice[] = [];
    const held: (number | null)[] = [];
    n.on('notify', (x) => fired.push(x));
    n.on('held', (_x, next) => held.push(next));
    await n.start();
    const notice: VoicemailNotice = { recordingId: 'rec-1', call: 'call-1', queue: 'q', notifyAt: null, callbackNumber: null, caller: null, language: 'en', recordedAt: new Date().toISOString() };
    await n.add(notice);
    await eventually(() => held.length === 1, 5_000, 'the notice held');
    expect(held).toEqual([farAway]);
    isOpen = true;
    n.hoursChanged();
    await eventually(() => fired.length === 1, 5_000, 'the notice sent');
    expect(fired[0]!.recordingId).toBe('rec-1');
    await n.close();
  });
});
