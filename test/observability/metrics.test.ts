/**
 * Prometheus metrics through prom-client: the SIP server's registry (inline,
 * and from its worker thread as JSON merged into the exposition), typed
 * counters ending in _total, gauges and histograms with HELP text, and the
 * INVITE→first response histogram fed by real traffic.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Registry } from 'prom-client';
import { exposition, metrics, registerEngineMetrics } from '../../src/observability/metrics.js';
import { startEmbeddedSipServer, type EmbeddedSipServer } from '../../src/sip-server/embedded.js';
import { ControlPeer } from '../support/control-peer.js';
import { SECRET, startServer, type Harness } from '../support/harness.js';
import { request, sdp, SipPeer } from '../support/sip-peer.js';

let h: Harness | undefined;
let embedded: EmbeddedSipServer | undefined;
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await h?.stop();
  await embedded?.stop();
  h = undefined;
  embedded = undefined;
});

/** The value of one sample line of an exposition. */
function sample(text: string, line: RegExp): number | undefined {
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? undefined : Number(m.slice(m.lastIndexOf(' ') + 1));
}

describe('SIP server metrics', () => {
  it('counts and the INVITE→first response histogram, with HELP and TYPE for every metric', async () => {
    h = await startServer();
    const sip = await SipPeer.create('udp');
    closers.push(() => sip.close());
    const app = await ControlPeer.connect(h.controlPort);
    closers.push(() => app.close());
    await app.authenticate(SECRET);
    await app.reply(app.send('route|invite'));
    const port = h.udp.port;
    await sip.send(request({ method: 'INVITE', uri: `sip:1@127.0.0.1:${port}`, peer: sip, callId: 'm-1', body: sdp(4000) }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip');
    await app.reply(app.send(`sip|${f.tokens[8]}|`, 'SIP/2.0 486 Busy Here\r\nCall-ID: m-1\r\n\r\n'));
    await sip.waitResponse(486, 'INVITE');
    await sip.send(request({ method: 'SUBSCRIBE', uri: `sip:1@127.0.0.1:${port}`, peer: sip, extra: ['Event: dialog'] }), { port });
    await sip.waitResponse(405, 'SUBSCRIBE');

    const { body, contentType } = await exposition([], [h.server.metrics.registry]);
    expect(contentType).toMatch(/^text\/plain/);
    expect(sample(body, /^switchboard_sip_server_invite_first_response_seconds_count /)).toBe(1);
    expect(sample(body, /^switchboard_sip_server_refusals_total\{status="405"\} /)).toBe(1);
    expect(sample(body, /^switchboard_sip_server_messages_received_total /)).toBeGreaterThanOrEqual(2);
    expect(sample(body, /^switchboard_sip_server_dialogs /)).toBe(0);
    expect(sample(body, /^switchboard_sip_server_early_invites /)).toBe(0);
    expect(body).toMatch(/^# TYPE switchboard_sip_server_messages_received_total counter$/m);
    expect(body).toMatch(/^# TYPE switchboard_sip_server_invite_first_response_seconds histogram$/m);
    expect(body).toMatch(/^# TYPE switchboard_call_setup_seconds histogram$/m);
    expect(body).toMatch(/^# TYPE switchboard_rtpengine_command_seconds histogram$/m);
    // Every metric has HELP text, and every counter's name ends in _total.
    const names = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    for (const { name, type } of names) {
      expect(body, name).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
      if (type === 'counter') expect(name).toMatch(/_total$/);
    }
  });

  it('from the worker thread: its registry reaches the exposition as JSON', async () => {
    const config = loadConfigText('sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: 0 }], control: { port: 0 } }\n');
    embedded = await startEmbeddedSipServer(config.sipServer, 'silent', silentLogger());
    const sip = await SipPeer.create('udp');
    closers.push(() => sip.close());
    const port = embedded.listeners[0]!.port;
    await sip.send(request({ method: 'FROBNICATE', uri: `sip:1@127.0.0.1:${port}`, peer: sip }), { port });
    await sip.waitResponse(501, 'FROBNICATE');
    const { body } = await exposition([await embedded.metrics()]);
    expect(sample(body, /^switchboard_sip_server_refusals_total\{status="501"\} /)).toBe(1);
    expect(sample(body, /^switchboard_sip_server_app_connections /)).toBe(0);
    expect(sample(body, /^switchboard_sip_server_overloaded /)).toBe(0);
    expect(body).toMatch(/^# HELP switchboard_sip_server_event_loop_lag_seconds \S/m);
  });

  it('call set-up and rtpengine latency are histograms the engine and the ng client record into', async () => {
    const before = (await metrics.callSetup.get()).values.find((v) => v.metricName === 'switchboard_call_setup_seconds_count')?.value ?? 0;
    metrics.callSetup.observe(0.3);
    const after = (await metrics.callSetup.get()).values.find((v) => v.metricName === 'switchboard_call_setup_seconds_count')?.value;
    expect(after).toBe(before + 1);
  });

  it('per inbound trunk: live calls, admitted, refused by limit, read from the engine at scrape time', async () => {
    const registry = new Registry();
    const trunks = { a: { live: 2, admitted: 7, refusedRate: 3, refusedConcurrency: 1 }, b: { live: 0, admitted: 4, refusedRate: 0, refusedConcurrency: 0 } };
    registerEngineMetrics(() => ({ connected: true, liveCalls: 2, callsTotal: 15, callsConnected: 9, callsRejected: 4, trunks }), registry);
    const { body } = await exposition([], [registry]);
    expect(sample(body, /^switchboard_trunk_live_calls\{trunk="a"\} /)).toBe(2);
    expect(sample(body, /^switchboard_trunk_calls_admitted_total\{trunk="b"\} /)).toBe(4);
    expect(sample(body, /^switchboard_trunk_calls_refused_total\{trunk="a",limit="rate"\} /)).toBe(3);
    expect(sample(body, /^switchboard_trunk_calls_refused_total\{trunk="a",limit="concurrency"\} /)).toBe(1);
    trunks.a.live = 0;
    expect(sample((await exposition([], [registry])).body, /^switchboard_trunk_live_calls\{trunk="a"\} /)).toBe(0);
  });

  it('agents by state, each waiting queue and the registrar, read from the engine at scrape time', async () => {
    const registry = new Registry();
    const queue = { id: 'sales', waiting: 3, offering: 1, longestWaitMs: 42_500, answered: 10, overflowed: 2, abandoned: 1 };
    const contactCenter = {
      agents: { 'total': 5, 'ready': 2, 'on-call': 3 } as Record<string, number | undefined>,
      queues: [queue],
      registrar: { bindings: 4, agentsRegistered: 3, registers: 20, challenged: 9, refused: 1, malformed: 2, rateLimited: 0 },
    };
    registerEngineMetrics(() => ({ connected: true, liveCalls: 3, callsTotal: 16, callsConnected: 10, callsRejected: 0, contactCenter }), registry);
    const { body } = await exposition([], [registry]);
    expect(sample(body, /^switchboard_agents\{state="on-call"\} /)).toBe(3);
    expect(sample(body, /^switchboard_agents\{state="ready"\} /)).toBe(2);
    expect(body).not.toMatch(/state="total"/);
    expect(sample(body, /^switchboard_queue_waiting_calls\{queue="sales"\} /)).toBe(3);
    expect(sample(body, /^switchboard_queue_offering_calls\{queue="sales"\} /)).toBe(1);
    expect(sample(body, /^switchboard_queue_longest_wait_seconds\{queue="sales"\} /)).toBe(42.5);
    expect(sample(body, /^switchboard_queue_calls_total\{queue="sales",outcome="overflowed"\} /)).toBe(2);
    expect(sample(body, /^switchboard_registrar_bindings /)).toBe(4);
    expect(sample(body, /^switchboard_registrar_malformed_total /)).toBe(2);
    expect(body).toMatch(/^# TYPE switchboard_queue_calls_total counter$/m);
    queue.waiting = 0;
    contactCenter.agents = { total: 5, ready: 5 };
    const later = (await exposition([], [registry])).body;
    expect(sample(later, /^switchboard_queue_waiting_calls\{queue="sales"\} /)).toBe(0);
    expect(sample(later, /^switchboard_agents\{state="on-call"\} /)).toBeUndefined();
  });
});
