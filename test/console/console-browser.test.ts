/**
 * The supervisors' web console in a real browser (Debian's Chromium, headless,
 * driven by playwright-core) against the whole engine: SIP over UDP for the
 * caller and agent, SIP over WebSocket for the page, real rtpengine.
 *
 * A supervisor signs in with an API key, sees a call appear live (event
 * stream, no reload), opens it, clicks Monitor: the page becomes the monitoring
 * device through SIP.js and WebRTC, and what it receives (measured in the page
 * by a WebAudio analyser) holds the caller's 700 Hz and the agent's 1300 Hz.
 * Stop Monitoring ends the leg. The caller's and agent's SIP and RTP are the
 * same throughout. A monitor whose media path dies at rtpengine is stopped by
 * the page, which says why. A user without the monitor permission sees no Monitor
 * button and the API refuses them; an admin ends a call after confirming.
 * Screenshots go to test-artifacts/console/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/api/audit/audit-log.js';
import { generateKey } from '../../src/api/auth/api-key.js';
import type { CallSummary } from '../../src/api/schemas.js';
import type { MonitorView } from '../../src/engine/call-control.js';
import { apiClient } from '../api/support/api-http.js';
import { startBrowser, type PeerWindow, type TestBrowser, type ToneLevels } from '../support/browser.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone, type PlacedCall } from '../support/phones.js';
import { bySsrc } from '../support/rtp/audio-check.js';

const CALLER_HZ = 700;
const AGENT_HZ = 1300;
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/console');

let cc: ContactCenter;
let agent: AgentPhone;
let browser: TestBrowser;
let base: string;
const admin = generateKey();
const supervisor = generateKey();
const viewer = generateKey();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  agent = await AgentPhone.create(AGENT_HZ);
  cc = await startContactCenter({
    sipServer: {
      // What these tests check is not overload control: on a machine busy with other work its 503s would only make them flaky.
      overload: { enabled: false },
      listen: [
        { transport: 'udp', host: '127.0.0.1', port: 0 },
        { transport: 'tcp', host: '127.0.0.1', port: 0 },
        { transport: 'ws', host: '127.0.0.1', port: 0 },
      ],
    },
    media: { whisper: { enabled: false } },
    api: {
      enabled: true,
      port: 0,
      roles: [{ id: 'viewer', permissions: ['calls-view'], scope: 'all' }],
      keys: [
        { id: admin.id, user: 'alice', role: 'admin', hash: admin.hash },
        { id: supervisor.id, user: 'sam', role: 'supervisor', hash: supervisor.hash },
        { id: viewer.id, user: 'vic', role: 'viewer', hash: viewer.hash },
      ],
    },
    queues: [{ id: 'support', name: 'Support', team: 'care', numbers: ['1000'], agents: [agent.uri()] }],
  });
  base = `http://127.0.0.1:${cc.sb.api!.port}`;
  browser = await startBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await cc?.stop();
  agent?.close();
});

async function signIn(key: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Calls › Connected' }).waitFor();
  return page;
}

/** A call to the queue, answered by the agent, audio flowing both ways. */
async function connectedCall(caller: CallerPhone, displayName: string, number: string): Promise<{ call: PlacedCall; id: string }> {
  const call = caller.dial(cc.udp, '1000', { fromUser: number, displayName });
  await call.waitStatus(200, 30_000);
  const mark = caller.rtp.received.length;
  await eventually(() => caller.rtp.received.length - mark > 25 && agent.rtp.received.length > 25, 10_000, 'audio both ways');
  const list = await apiClient(cc.sb.api!.port, admin.key)<{ calls: CallSummary[] }>('GET', '/calls?state=connected');
  return { call, id: list.body.calls.find((c) => c.sipCallId === call.callId)!.id };
}

/** Tone levels of what the page's monitor <audio> element receives, measured in the page (WebAudio analyser). */
async function heardInPage(page: Page): Promise<ToneLevels> {
  await page.evaluate(readFileSync(resolve(import.meta.dirname, '../support/browser/webrtc-peer.js'), 'utf8'));
  return page.evaluate(
    ([freqs]) => (globalThis as unknown as PeerWindow).sbPeer.levels((globalThis as unknown as { document: { getElementById(id: string): { srcObject: unknown } } }).document.getElementById('monitor-audio').srcObject, freqs, 20, 50),
    [[CALLER_HZ, AGENT_HZ, 1000]] as const,
  );
}

describe('the supervisors web console in Chromium', () => {
  it('a supervisor signs in, sees the call arrive live, monitors it in the browser (both parties heard) and stops; caller and agent see no change', async () => {
    const page = await signIn(supervisor.key);
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      await page.getByText('No connected calls right now.').waitFor();
      const { call, id } = await connectedCall(caller, 'Ada Lovelace', '+15551230000');
      // The row arrives by the event stream: no reload.
      const row = page.getByRole('link', { name: 'Ada Lovelace (+15551230000)' });
      await row.waitFor({ timeout: 15_000 });
      await expect(page.locator('#sections [data-count="connected"]').textContent()).resolves.toBe('1');
      await page.screenshot({ path: `${ARTIFACTS}/calls-connected.png` });

      // Search filters as one types.
      await page.getByLabel('Search').fill('nobody-like-this');
      await page.getByText('Nothing matches “nobody-like-this”.').waitFor();
      await page.getByLabel('Search').fill('ada');
      await row.waitFor();

      await row.click();
      await page.getByRole('heading', { name: 'Call from Ada Lovelace (+15551230000)' }).waitFor();
      await expect(page.getByRole('button', { name: 'End Call' }).count()).resolves.toBe(0); // a supervisor may not end calls

      const agentCall = agent.calls.at(-1)!;
      const callerRequests = [...call.requests];
      const agentRequests = [...agentCall.requests];
      const t0 = performance.now();

      await page.getByRole('button', { name: 'Monitor', exact: true }).click();
      await page.getByText('Listening to the call from Ada Lovelace (+15551230000)', { exact: true }).waitFor({ timeout: 20_000 });
      const asSam = apiClient(cc.sb.api!.port, supervisor.key);
      const monitors = (await asSam<{ monitors: MonitorView[] }>('GET', `/calls/${id}/monitors`)).body.monitors;
      expect(monitors).toHaveLength(1);
      expect(monitors[0]).toMatchObject({ user: 'sam', state: 'listening' });
      expect(monitors[0]!.device).toMatch(/^sip:[^@]+@[^;]+\.invalid;transport=ws(;ob)?$/);

      // What the page hears: both parties, measured in the page from the received WebRTC stream.
      let levels: ToneLevels | undefined;
      await eventually(
        async () => {
          levels = await heardInPage(page);
          return levels.peaks[CALLER_HZ]! - levels.floor > 40 && levels.peaks[AGENT_HZ]! - levels.floor > 40;
        },
        20_000,
        () => `both tones in the page: ${JSON.stringify(levels)}`,
        500,
      );
      // And not just noise everywhere: a frequency nobody sends is far below both.
      expect(levels!.peaks[CALLER_HZ]! - levels!.peaks[1000]!).toBeGreaterThan(40);
      expect(levels!.peaks[AGENT_HZ]! - levels!.peaks[1000]!).toBeGreaterThan(40);
      await page.screenshot({ path: `${ARTIFACTS}/monitoring.png` });

      // Through rtpengine: the browser's relay leg is a call of its own there, next to the call.
      const relays = (await cc.sb.media!.instances[0]!.client.request('list', {})).calls.filter((c) => c.startsWith(`${id}~`));
      expect(relays).toHaveLength(1);

      await page.getByRole('button', { name: 'Stop Monitoring' }).first().click();
      await page.locator('#monitor-bar').waitFor({ state: 'hidden', timeout: 10_000 });
      await eventually(async () => (await asSam<{ monitors: MonitorView[] }>('GET', `/calls/${id}/monitors`)).body.monitors.length === 0, 10_000, 'monitor gone');
      await eventually(async () => !(await cc.sb.media!.instances[0]!.client.request('list', {})).calls.some((c) => c.startsWith(`${id}~`)), 10_000, 'relay leg deleted');
      await page.getByRole('button', { name: 'Monitor', exact: true }).waitFor();
      const mark = caller.rtp.received.length;
      await eventually(() => caller.rtp.received.length - mark > 25, 10_000, 'the call goes on');
      const tEnd = performance.now();

      // Nothing reached the caller's or the agent's phone: no request, the same single RTP stream each.
      expect(call.requests).toEqual(callerRequests);
      expect(agentCall.requests).toEqual(agentRequests);
      for (const [receiver, sender] of [
        [caller, agent],
        [agent, caller],
      ] as const) {
        const before = receiver.rtp.received.filter((p) => p.arrivalMs < t0).at(-1)!;
        const during = receiver.rtp.receivedBetween(t0, tEnd);
        expect([...bySsrc(during).keys()]).toEqual([before.ssrc]);
        expect(new Set(during.map((p) => `${p.from.address}:${p.from.port}/${p.payloadType}`))).toEqual(new Set([`${before.from.address}:${before.from.port}/${before.payloadType}`]));
        const got = during.map((p) => p.sequenceNumber);
        expect(new Set(got).size, 'no duplicate packet').toBe(got.length);
        const sent = sender.tone!.sent.filter((p) => p.sentMs >= t0 + 100 && p.sentMs < tEnd - 200).map((p) => p.sequenceNumber);
        expect(sent.length).toBeGreaterThan(50);
        expect(sent.filter((x) => !got.includes(x)), 'every packet sent was relayed').toEqual([]);
      }

      // Audited as sam: the ticket, the start from the browser (over SIP), the stop.
      const audit = (await apiClient(cc.sb.api!.port, admin.key)<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).body.entries;
      expect(audit.map((e) => [e.action, e.outcome, e.user])).toEqual([
        ['monitor.ticket', 'ok', 'sam'],
        ['monitor.start', 'ok', 'sam'],
        ['monitor.stop', 'ok', 'sam'],
      ]);
      expect(audit[1]).toMatchObject({ from: { address: '127.0.0.1', userAgent: 'Switchboard console (SIP.js)' }, request: { method: 'INVITE' }, device: monitors[0]!.device });

      call.hangUp();
      await row.waitFor({ state: 'detached', timeout: 10_000 });
      await cc.settled();
    } finally {
      caller.close();
      await page.close();
    }
  }, 60_000);

  it('a monitor whose media path dies (rtpengine no longer answers the browser, RFC 7675 consent) is stopped by the page, which tells the supervisor why; the call goes on', async () => {
    const page = await signIn(supervisor.key);
    const caller = await CallerPhone.create(CALLER_HZ);
    let connected: PlacedCall | undefined;
    try {
      const { call, id } = await connectedCall(caller, 'Hedy Lamarr', '+15551230003');
      connected = call;
      await page.getByRole('link', { name: 'Hedy Lamarr (+15551230003)' }).click();
      await page.getByRole('button', { name: 'Monitor', exact: true }).click();
      await page.getByText('Listening to the call from Hedy Lamarr (+15551230003)', { exact: true }).waitFor({ timeout: 20_000 });
      const rtpengine = cc.sb.media!.instances[0]!.client;
      const relay = (await rtpengine.request('list', {})).calls.find((c) => c.startsWith(`${id}~`));
      expect(relay).toBeDefined();
      const alerted = page.waitForEvent('dialog', { timeout: 90_000 });
      // The browser's leg vanishes at rtpengine: its ICE consent checks go unanswered until Chromium calls the connection failed.
      await rtpengine.request('delete', { 'call-id': relay!, 'delete-delay': 0 });
      const dialog = await alerted;
      expect(dialog.message()).toBe('Monitoring stopped: no audio reaches the browser: its media connection to the engine failed (ICE).');
      await dialog.dismiss();
      await page.locator('#monitor-bar').waitFor({ state: 'hidden', timeout: 10_000 });
      // The live region is written a moment after it is cleared (dom.ts announce), and the alert held the page meanwhile.
      await page.locator('#announcer', { hasText: 'Monitoring ended (no audio reaches the browser' }).waitFor({ state: 'attached', timeout: 10_000 });
      const asSam = apiClient(cc.sb.api!.port, supervisor.key);
      await eventually(async () => (await asSam<{ monitors: MonitorView[] }>('GET', `/calls/${id}/monitors`)).body.monitors.length === 0, 10_000, 'monitor gone');
      const audit = (await apiClient(cc.sb.api!.port, admin.key)<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).body.entries;
      expect(audit.map((e) => [e.action, e.outcome, e.user])).toEqual([
        ['monitor.ticket', 'ok', 'sam'],
        ['monitor.start', 'ok', 'sam'],
        ['monitor.stop', 'ok', 'sam'],
      ]);
      await page.getByRole('button', { name: 'Monitor', exact: true }).waitFor();
      const mark = caller.rtp.received.length;
      await eventually(() => caller.rtp.received.length - mark > 25, 10_000, 'the call goes on');
      expect(call.requests).not.toContain('BYE');
      call.hangUp();
      connected = undefined;
      await cc.settled();
    } finally {
      // A failure above must not leave the call up for the next test.
      connected?.hangUp();
      caller.close();
      await page.close();
    }
  }, 150_000);

  it('a user without the monitor permission sees the calls but no Monitor or End Call button, and the API refuses them', async () => {
    const page = await signIn(viewer.key);
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, id } = await connectedCall(caller, 'Grace Hopper', '+15551230001');
      const flagged = await apiClient(cc.sb.api!.port, admin.key)('PUT', `/calls/${id}/reserved-data`, { reserved_verified_customer: true, reserved_bad_actor: true, reserved_repeat_customer: null });
      expect(flagged.status).toBe(200);
      // By keyboard alone: focus the call's link, press Enter; the details heading takes the focus.
      await page.getByRole('link', { name: 'Grace Hopper (+15551230001)' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Call from Grace Hopper (+15551230001)' }).waitFor();
      await eventually(async () => (await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)) === 'details-title', 10_000, 'focus on the details');
      await page.locator('#details-body').getByText('Talk time').waitFor();
      // The call details of the product brief: hold, the caller's flags, who is on the call, the trunk.
      const details = page.locator('#details-body');
      await details.getByText('On hold').waitFor();
      expect(await details.locator('.badge.flag').allTextContents()).toEqual(['Verified customer', 'Bad actor']);
      expect(await details.getByText('Participants').count()).toBe(1);
      expect(await details.getByText(/^caller: \+15551230001/).count()).toBe(1);
      expect(await page.getByRole('button', { name: /Monitor|End Call/ }).count()).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}/viewer-details.png` });

      const asVic = apiClient(cc.sb.api!.port, viewer.key);
      const ticket = await asVic<{ code: string }>('POST', `/calls/${id}/monitor-tickets`, {});
      expect(ticket.status).toBe(403);
      expect(ticket.body.code).toBe('SB_API_FORBIDDEN');
      expect((await asVic('POST', `/calls/${id}/monitors`, { device: 'sip:vic@127.0.0.1:5999' })).status).toBe(403);
      expect((await asVic('POST', `/calls/${id}/end`, { confirm: true, reason: 'no' })).status).toBe(403);

      // The agents page: the agent is on this call.
      await page.getByRole('link', { name: /^Agents/ }).click();
      await page.getByRole('heading', { name: 'Agents' }).waitFor();
      await page.getByRole('cell', { name: 'on call' }).waitFor({ timeout: 10_000 });
      await page.screenshot({ path: `${ARTIFACTS}/agents.png` });
      call.hangUp();
      await cc.settled();
    } finally {
      caller.close();
      await page.close();
    }
  }, 60_000);

  it('an admin ends a call after confirming in a dialog (Cancel leaves it alone); the list follows live', async () => {
    const page = await signIn(admin.key);
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call } = await connectedCall(caller, 'Alan Turing', '+15551230002');
      const row = page.getByRole('link', { name: 'Alan Turing (+15551230002)' });
      await row.click();
      await page.getByRole('button', { name: 'End Call' }).click();
      const dialog = page.getByRole('dialog', { name: 'End this call?' });
      await dialog.waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/end-call-dialog.png` });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(call.requests).not.toContain('BYE');

      await page.getByRole('button', { name: 'End Call' }).click();
      await dialog.getByLabel('Reason (kept in the audit log)').fill('test call, not a customer');
      await dialog.getByRole('button', { name: 'End call' }).click();
      await call.waitRequest('BYE', 10_000);
      await row.waitFor({ state: 'detached', timeout: 10_000 });
      await page.getByRole('heading', { name: 'Call ended' }).waitFor();
      const audit = (await apiClient(cc.sb.api!.port, admin.key)<{ entries: AuditEntry[] }>('GET', '/audit?action=call.end')).body.entries;
      expect(audit.at(-1)).toMatchObject({ user: 'alice', outcome: 'ok', reason: expect.stringContaining('test call, not a customer') });
      await cc.settled();
    } finally {
      caller.close();
      await page.close();
    }
  }, 60_000);
});
