/**
 * Listening from a browser, without the browser: SIP.js (the library the web
 * console uses) in Node and a raw WebSocket client call in with monitor
 * tickets over SIP WebSocket (RFC 7118) against the whole engine. A ticket
 * works once; a wrong, used or revoked one is refused with the answer that
 * says least; the call-in is audited as the user; the engine's BYE reaches
 * the client over its connection; an offer the monitor cannot serve gets 488;
 * a delayed offer gets ours; and a browser that vanishes while listening
 * leaves nothing behind when the call ends.
 */
import { join } from 'node:path';
import { Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/api/audit/audit-log.js';
import { generateKey } from '../../src/api/auth/api-key.js';
import { writeKeysFile } from '../../src/api/auth/keys-file.js';
import type { CallSummary } from '../../src/api/schemas.js';
import type { MonitorView } from '../../src/engine/call-control.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone, type PlacedCall } from '../support/phones.js';
import { SipJsPhone, waitState } from '../support/sipjs-phone.js';
import { WsSipClient } from '../support/ws-client.js';
import { apiClient } from './support/api-http.js';

interface Ticket {
  readonly call: string;
  readonly uri: string;
  readonly webSocket: string;
  readonly expiresAt: string;
}

let cc: ContactCenter;
let agent: AgentPhone;
let ringing: AgentPhone;
const admin = generateKey();
const supervisor = generateKey();
const fileKey = generateKey();
const phones: SipJsPhone[] = [];

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  ringing = await AgentPhone.create(0);
  ringing.behaviour = 'ring';
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
      // Devices are asked every second whether they are still there (a browser that vanished: its monitor ends).
      monitor: { probeSeconds: 1 },
      keys: [
        { id: admin.id, user: 'alice', role: 'admin', hash: admin.hash },
        { id: supervisor.id, user: 'sam', role: 'supervisor', hash: supervisor.hash },
      ],
    },
    queues: [
      { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
      { id: 'slow', name: 'Slow', numbers: ['2000'], agents: [ringing.uri()], ringTimeoutSeconds: 60 },
    ],
  });
}, 60_000);

afterAll(async () => {
  for (const p of phones) await p.stop().catch(() => undefined);
  await cc?.stop();
  agent?.close();
  ringing?.close();
});

const wsUrl = (): string => `ws://127.0.0.1:${cc.sb.sipListeners.find((l) => l.transport === 'ws')!.port}`;

async function phone(): Promise<SipJsPhone> {
  const p = await SipJsPhone.start({ server: wsUrl(), aor: 'sip:sam@console.invalid' });
  phones.push(p);
  return p;
}

async function connectedCall(caller: CallerPhone): Promise<{ call: PlacedCall; id: string }> {
  const call = caller.dial(cc.udp, '1000');
  await call.waitStatus(200, 30_000);
  // The caller's 200 can come before the engine has bridged the agent (its whisper): wait for the bridge.
  let id: string | undefined;
  await eventually(async () => {
    const list = await apiClient(cc.sb.api!.port, admin.key)<{ calls: CallSummary[] }>('GET', '/calls?state=connected');
    id = list.body.calls.find((c) => c.sipCallId === call.callId)?.id;
    return id !== undefined;
  }, 20_000, 'the call connected');
  return { call, id: id! };
}

/** Calls `uri` from the SIP.js phone; resolves with the final status and, on 200, the session and its monitor id. */
async function callIn(p: SipJsPhone, uri: string): Promise<{ status: number; session: Session; monitorId: string | undefined }> {
  const inviter = new Inviter(p.ua, UserAgent.makeURI(uri)!);
  let status: number = 0;
  let monitorId: string | undefined;
  await inviter.invite({
    requestDelegate: {
      onAccept: (r) => {
        status = r.message.statusCode ?? 0;
        monitorId = r.message.getHeader('X-Switchboard-Monitor');
      },
      onReject: (r) => {
        status = r.message.statusCode ?? 0;
      },
    },
  });
  await eventually(() => status !== 0, 10_000, 'a final response');
  return { status, session: inviter, monitorId };
}

describe('monitor tickets: browsers call in over SIP WebSocket', () => {
  it('a supervisor gets a ticket, SIP.js calls it, listens; the API stops it with a BYE over the connection; all audited as the user', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const { call, id } = await connectedCall(caller);
      const asSam = apiClient(cc.sb.api!.port, supervisor.key);
      const before = Date.now();
      const t = await asSam<Ticket>('POST', `/calls/${id}/monitor-tickets`);
      const after = Date.now();
      expect(t.status).toBe(201);
      expect(t.body.webSocket).toBe(wsUrl());
      expect(t.body.uri).toMatch(new RegExp(`^sip:monitor-[A-Za-z0-9_-]{43}@127\\.0\\.0\\.1:${new URL(wsUrl()).port};transport=ws$`));
      // Valid for about 30 s from when it was issued, between the two clock readings (however long the request took).
      const expiresAt = Date.parse(t.body.expiresAt);
      expect(expiresAt - before).toBeGreaterThan(25_000);
      expect(expiresAt - after).toBeLessThanOrEqual(31_000);

      const p = await phone();
      const { status, session, monitorId } = await callIn(p, t.body.uri);
      expect(status).toBe(200);
      expect(monitorId).toMatch(/^m[0-9a-f]{12}$/);
      const monitors = (await asSam<{ monitors: MonitorView[] }>('GET', `/calls/${id}/monitors`)).body.monitors;
      expect(monitors).toEqual([expect.objectContaining({ id: monitorId, user: 'sam', state: 'listening' })]);
      // The device is the Contact SIP.js sent (with RFC 5626's ob when it asks for outbound).
      expect(monitors[0]!.device.startsWith(p.contact)).toBe(true);

      const stopped = await asSam<MonitorView>('DELETE', `/calls/${id}/monitors/${monitorId}`);
      expect(stopped.status).toBe(200);
      await waitState(session, SessionState.Terminated);
      expect(call.requests).not.toContain('BYE');

      const audit = (await asSam<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).status;
      expect(audit).toBe(403); // a supervisor cannot read the audit log...
      const entries = (await apiClient(cc.sb.api!.port, admin.key)<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).body.entries; // ...an admin can
      expect(entries.map((e) => [e.action, e.outcome, e.user, e.request?.method])).toEqual([
        ['monitor.ticket', 'ok', 'sam', 'POST'],
        ['monitor.start', 'ok', 'sam', 'INVITE'],
        ['monitor.stop', 'ok', 'sam', 'DELETE'],
      ]);
      expect(entries[1]).toMatchObject({ keyId: supervisor.id, monitor: monitorId, device: monitors[0]!.device, from: { address: '127.0.0.1' }, request: { path: 'sip (ws)' } });
      call.hangUp();
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 60_000);

  it('a ticket works once; a guessed or altered one is 404 like any unknown user; none of it reaches the call', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const { call, id } = await connectedCall(caller);
      const t = (await apiClient(cc.sb.api!.port, supervisor.key)<Ticket>('POST', `/calls/${id}/monitor-tickets`, {})).body;
      const p = await phone();
      const first = await callIn(p, t.uri);
      expect(first.status).toBe(200);
      expect((await callIn(p, t.uri)).status).toBe(404);
      const token = /monitor-([^@]+)@/.exec(t.uri)![1]!;
      const altered = t.uri.replace(token, `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
      expect((await callIn(p, altered)).status).toBe(404);
      expect((await callIn(p, t.uri.replace(token, 'x'))).status).toBe(404);
      // Every refused call-in is audited as denied: the replay under the ticket's owner, the guesses under nobody.
      const denied = cc.sb.api!.audit.recent(1000, (e) => e.action === 'monitor.start' && e.outcome === 'denied' && e.status === 404);
      expect(denied.filter((e) => e.user === 'sam' && e.call === id && e.reason === 'monitor ticket already used (its URI sent again)')).toHaveLength(1);
      expect(denied.filter((e) => e.user === null && e.reason === 'no such monitor ticket').length).toBeGreaterThanOrEqual(2);
      const monitors = (await apiClient(cc.sb.api!.port, admin.key)<{ monitors: MonitorView[] }>('GET', `/calls/${id}/monitors`)).body.monitors;
      expect(monitors).toHaveLength(1);
      // A WebSocket device with no open connection: the SIP server never opens one, so nothing can ring (400, not 502).
      const unreachable = await apiClient(cc.sb.api!.port, admin.key)<{ code: string; reason: string }>('POST', `/calls/${id}/monitors`, { device: 'sip:sup@127.0.0.1:9;transport=ws' });
      expect(unreachable.status).toBe(400);
      expect(unreachable.body).toMatchObject({ code: 'SB_API_BAD_REQUEST', reason: expect.stringMatching(/^the device cannot be called from here: no WS connection to 127\.0\.0\.1:9\b/) });
      // The call's end hangs up the listener too.
      call.hangUp();
      await waitState(first.session, SessionState.Terminated);
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 60_000);

  it('a key revoked between the ticket and the call-in is refused (403, audited as denied); a call not connected gets no ticket (409)', async () => {
    const keysFile = join(cc.dir, 'api', 'keys.json');
    const asFile = apiClient(cc.sb.api!.port, fileKey.key);
    const generation = cc.sb.api!.keys.generation;
    writeKeysFile(keysFile, [{ id: fileKey.id, user: 'mia', role: 'supervisor', hash: fileKey.hash }]);
    await eventually(() => cc.sb.api!.keys.generation > generation && cc.sb.api!.keys.size === 3, 10_000, 'the key file read');
    const caller = await CallerPhone.create(700);
    const waiting = await CallerPhone.create(700);
    try {
      const { call, id } = await connectedCall(caller);
      const t = await asFile<Ticket>('POST', `/calls/${id}/monitor-tickets`);
      expect(t.status).toBe(201);
      const g = cc.sb.api!.keys.generation;
      writeKeysFile(keysFile, []);
      await eventually(() => cc.sb.api!.keys.generation > g && cc.sb.api!.keys.size === 2, 10_000, 'the key revoked');
      expect((await callIn(await phone(), t.body.uri)).status).toBe(403);
      const denied = (await apiClient(cc.sb.api!.port, admin.key)<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}&user=mia`)).body.entries;
      expect(denied.at(-1)).toMatchObject({ action: 'monitor.start', outcome: 'denied', status: 403, reason: expect.stringContaining('revoked') });

      const queued = waiting.dial(cc.udp, '2000');
      await eventually(() => ringing.calls.length > 0, 10_000, 'the agent rings');
      const list = await apiClient(cc.sb.api!.port, admin.key)<{ calls: CallSummary[] }>('GET', '/calls?state=in-queue');
      const queuedId = list.body.calls.find((c) => c.sipCallId === queued.callId)!.id;
      const refused = await apiClient(cc.sb.api!.port, supervisor.key)<{ code: string; reason: string }>('POST', `/calls/${queuedId}/monitor-tickets`);
      expect(refused.status).toBe(409);
      expect(refused.body.reason).toMatch(/only connected calls/);
      queued.cancel();
      call.hangUp();
      await cc.settled();
    } finally {
      caller.close();
      waiting.close();
    }
  }, 60_000);

  it('raw WebSocket clients: a sendonly offer is 488; an INVITE without SDP gets our WebRTC offer in the 200', async () => {
    const caller = await CallerPhone.create(700);
    const ws = await WsSipClient.open(wsUrl());
    try {
      const { call, id } = await connectedCall(caller);
      const asSam = apiClient(cc.sb.api!.port, supervisor.key);
      const invite = (uri: string, callId: string, body: string): string =>
        [
          `INVITE ${uri} SIP/2.0`,
          `Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK${callId}`,
          'Max-Forwards: 70',
          `From: <sip:sam@console.invalid>;tag=f${callId}`,
          `To: <${uri}>`,
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          'Contact: <sip:raw@abc.invalid;transport=ws>',
          ...(body !== '' ? ['Content-Type: application/sdp'] : []),
          `Content-Length: ${Buffer.byteLength(body)}`,
          '',
          body,
        ].join('\r\n');
      const sendonly = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendonly', ''].join('\r\n');
      const t1 = (await asSam<Ticket>('POST', `/calls/${id}/monitor-tickets`)).body;
      ws.send(invite(t1.uri, 'raw1', sendonly));
      const refused = await ws.waitFor((m) => /^SIP\/2\.0 488 /.test(m) && m.includes('Call-ID: raw1'));
      expect(refused).toBeDefined();
      expect(refused).toMatch(/^Warning: 399 switchboard ".*sendonly.*"/m);

      const t2 = (await asSam<Ticket>('POST', `/calls/${id}/monitor-tickets`)).body;
      ws.send(invite(t2.uri, 'raw2', ''));
      const ok = await ws.waitFor((m) => /^SIP\/2\.0 200 /.test(m) && m.includes('Call-ID: raw2'));
      expect(ok).toBeDefined();
      expect(ok).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
      expect(ok).toMatch(/^a=fingerprint:sha-256 /m);
      expect(ok).toMatch(/^a=sendonly/m);
      expect(ok).toMatch(/^X-Switchboard-Monitor: m[0-9a-f]{12}/m);
      call.hangUp();
      await eventually(() => ws.received.some((m) => m.startsWith('BYE ') && m.includes('Call-ID: raw2')), 10_000, 'the BYE for the monitor');
    } finally {
      caller.close();
      ws.close();
    }
    await cc.settled();
  }, 60_000);

  it('a browser that vanishes while listening (its WebSocket closes, no BYE): its monitor ends (unlisted, subscription dropped, audited) while the call goes on', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const { call, id } = await connectedCall(caller);
      const asAdmin = apiClient(cc.sb.api!.port, admin.key);
      const t = (await apiClient(cc.sb.api!.port, supervisor.key)<Ticket>('POST', `/calls/${id}/monitor-tickets`)).body;
      const p = await SipJsPhone.start({ server: wsUrl(), aor: 'sip:sam@console.invalid' });
      const { status, monitorId } = await callIn(p, t.uri);
      expect(status).toBe(200);
      const socket = (p.ua.transport as unknown as { _ws: { terminate(): void; on(e: 'message', l: (data: Buffer) => void): void } })._ws;
      let probes = 0;
      socket.on('message', (data) => {
        if (data.toString('utf8').startsWith('OPTIONS ')) probes++;
      });
      const listening = (): Promise<MonitorView[]> => asAdmin<{ monitors: MonitorView[] }>('GET', `/calls/${id}/monitors`).then((r) => r.body.monitors);
      // A browser that is there answers the engine's probes (OPTIONS in the dialog) and keeps listening.
      await eventually(() => probes >= 2, 15_000, 'two probes at the browser');
      expect((await listening()).map((m) => [m.id, m.state])).toEqual([[monitorId, 'listening']]);
      // The tab closes: the connection drops without a BYE.
      socket.terminate();
      await eventually(async () => (await listening()).length === 0, 15_000, 'the monitor gone from the call');
      // The audit entry is written last, once the device's leg and its subscription are released.
      const stops = async (): Promise<AuditEntry[]> => (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}&action=monitor.stop`)).body.entries;
      await eventually(async () => (await stops()).length > 0, 15_000, 'the stop audited');
      const q = await cc.sb.media!.getCallMedia(id)!.query();
      expect(Object.values(q.tags as Record<string, { subscriptions?: { type: string }[] }>).some((x) => (x.subscriptions ?? []).some((s) => s.type === 'pub/sub'))).toBe(false);
      const [stop] = await stops();
      expect(stop).toMatchObject({ user: 'system', monitor: monitorId, reason: expect.stringMatching(/device gone.*monitor of sam/) });
      expect((await asAdmin<{ state: string }>('GET', `/calls/${id}`)).body.state).toBe('connected');
      call.hangUp();
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 60_000);
});
