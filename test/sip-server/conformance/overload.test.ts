/**
 * Overload control and the front door (RFC 3261 §21.5.4), on the running
 * server with a scripted app: the load is driven through an injected source,
 * so the test decides what the "machine" reads and waits for the samples to
 * be taken, never for wall-clock time. While overloaded, new INVITEs get 503
 * with Retry-After and an established call's re-INVITE and BYE still work;
 * the state leaves only below the leave level (hysteresis); one log line per
 * transition. Scanner user agents and per-source rate limits are counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/observability/logger.js';
import type { LoadSample, LoadSource } from '../../../src/sip-server/overload/load-source.js';
import { DEFAULT_OVERLOAD } from '../../../src/sip-server/overload/overload-control.js';
import { DEFAULT_SOURCE_FILTER } from '../../../src/sip-server/overload/source-filter.js';
import { ControlPeer } from '../../support/control-peer.js';
import { eventually, SECRET, startServer, type Harness } from '../../support/harness.js';
import { request, sdp, SipPeer, uniq } from '../../support/sip-peer.js';

let h: Harness | undefined;
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await h?.stop();
});

/** A load source the test sets; `samples` counts the readings taken. */
class FakeLoad implements LoadSource {
  load: LoadSample = { serverLagMs: 0, appLagMs: 0, cpuPercent: 0 };
  samples = 0;
  appReports: number[] = [];
  sample(): LoadSample {
    this.samples++;
    return this.load;
  }
  reportAppLag(lagMs: number): void {
    this.appReports.push(lagMs);
  }
  stop(): void {}
  /** Resolves once `n` more readings have been taken with the current load. */
  async after(n: number): Promise<void> {
    const target = this.samples + n;
    await eventually(() => this.samples >= target, 10_000, `${n} more load samples`);
  }
}

/** A logger that keeps what was logged at warn and info. */
function recordingLogger(lines: { level: string; msg: string }[]): Logger {
  const make = (): Logger =>
    ({
      warn: (_o: unknown, msg?: string) => lines.push({ level: 'warn', msg: msg ?? String(_o) }),
      info: (_o: unknown, msg?: string) => lines.push({ level: 'info', msg: msg ?? String(_o) }),
      error: (_o: unknown, msg?: string) => lines.push({ level: 'error', msg: msg ?? String(_o) }),
      debug: () => undefined,
      trace: () => undefined,
      fatal: () => undefined,
      child: () => make(),
    }) as unknown as Logger;
  return make();
}

const overload = { ...DEFAULT_OVERLOAD, sampleIntervalMs: 10, lagEnterMs: 100, lagLeaveMs: 20, cpuEnterPercent: 90, cpuLeavePercent: 50, cpuMinWaitingInvites: 0, retryAfterSeconds: 7, leaveAfterMs: 100 };

async function setup(load: FakeLoad, lines: { level: string; msg: string }[] = []): Promise<{ h: Harness; sip: SipPeer; app: ControlPeer; port: number }> {
  h = await startServer({ overload, loadSource: load, logger: recordingLogger(lines) });
  const sip = await SipPeer.create('udp');
  closers.push(() => sip.close());
  const app = await ControlPeer.connect(h.controlPort);
  closers.push(() => app.close());
  await app.authenticate(SECRET);
  for (const v of ['invite', 'options']) await app.reply(app.send(`route|${v}`));
  return { h, sip, app, port: h.udp.port };
}

describe('overload control follows the machine', () => {
  it('lag over the enter level: new INVITEs get 503 + Retry-After, the established call re-INVITEs and hangs up; it ends only below the leave level', async () => {
    const load = new FakeLoad();
    const lines: { level: string; msg: string }[] = [];
    const { h, sip, app, port } = await setup(load, lines);
    const uri = `sip:1000@127.0.0.1:${port}`;

    // An established call, answered by the app.
    const callId = uniq('est');
    const fromTag = uniq('f');
    await sip.send(request({ method: 'INVITE', uri, peer: sip, callId, fromTag, body: sdp(4000) }), { port });
    const inv = await app.wait((f) => f.tokens[1] === 'sip' && f.sip!.includes(callId));
    await app.reply(app.send(`sip|${inv.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\nContact: <sip:app@127.0.0.1>\r\n\r\n${sdp(5000)}`));
    const ok = await sip.waitResponse(200, 'INVITE');
    const toTag = ok.info.toTag!;
    await sip.send(request({ method: 'ACK', uri, peer: sip, callId, fromTag, toTag }), { port });

    // The app thread lags: overloaded.
    load.load = { serverLagMs: 5, appLagMs: 250, cpuPercent: 10 };
    await eventually(() => h.server.status().overload.overloaded, 10_000, 'overloaded');
    expect(h.server.status().overload.cause).toBe('event_loop_lag');
    await sip.send(request({ method: 'INVITE', uri, peer: sip, callId: uniq('new'), body: sdp(4000) }), { port });
    const busy = await sip.waitResponse(503, 'INVITE');
    expect(busy.message.headers.get('retry-after')).toBe('7');

    // In-dialog requests pass: a re-INVITE reaches the app and is answered.
    await sip.send(request({ method: 'INVITE', uri, peer: sip, callId, fromTag, toTag, cseq: 2, body: sdp(4000, 'sendonly', 2) }), { port });
    const reinv = await app.wait((f) => f.tokens[1] === 'sip' && f.sip!.startsWith('INVITE') && f.sip!.includes(callId));
    await app.reply(app.send(`sip|${reinv.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000, 'recvonly', 2)}`));
    expect((await sip.waitResponse(200, 'INVITE')).info.cseq).toBe(2);
    await sip.send(request({ method: 'ACK', uri, peer: sip, callId, fromTag, toTag, cseq: 2 }), { port });

    // Between the levels: still overloaded (hysteresis).
    load.load = { serverLagMs: 50, appLagMs: 50, cpuPercent: 10 };
    await load.after(5);
    expect(h.server.status().overload.overloaded).toBe(true);
    await sip.send(request({ method: 'INVITE', uri, peer: sip, callId: uniq('new'), body: sdp(4000) }), { port });
    await sip.waitResponse(503, 'INVITE');

    // The BYE of the established call passes too.
    await sip.send(request({ method: 'BYE', uri, peer: sip, callId, fromTag, toTag, cseq: 3 }), { port });
    const bye = await app.wait((f) => f.tokens[1] === 'sip' && f.sip!.startsWith('BYE'));
    await app.reply(app.send(`sip|${bye.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n`));
    await sip.waitResponse(200, 'BYE');

    // Below the leave level: back to normal once it has stayed there for leaveAfterMs (10 samples here).
    load.load = { serverLagMs: 5, appLagMs: 5, cpuPercent: 10 };
    const calmFrom = load.samples;
    await eventually(() => !h.server.status().overload.overloaded, 10_000, 'overload over');
    expect(load.samples - calmFrom, 'calm samples it took to leave').toBeGreaterThanOrEqual(10);
    const fresh = uniq('after');
    await sip.send(request({ method: 'INVITE', uri, peer: sip, callId: fresh, body: sdp(4000) }), { port });
    await app.wait((f) => f.tokens[1] === 'sip' && f.sip!.includes(fresh));

    const st = h.server.status();
    expect(st.overload.transitions).toBe(2);
    expect(st.overload.refusals).toEqual({ event_loop_lag: 2 });
    expect(st.overloaded).toBe(2);
    // One line per transition, none per refused INVITE.
    expect(lines.filter((l) => /overload/.test(l.msg)).map((l) => l.level)).toEqual(['warn', 'info']);
  });

  it('CPU over its enter level is overload too, counted under its cause; with the CPU criterion off it is not', async () => {
    const load = new FakeLoad();
    const { sip, app, port } = await setup(load);
    const first = h!;
    load.load = { serverLagMs: 0, appLagMs: 0, cpuPercent: 97 };
    await eventually(() => first.server.status().overload.overloaded, 10_000, 'overloaded');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: sdp(4000) }), { port });
    await sip.waitResponse(503, 'INVITE');
    expect(first.server.status().overload.refusals).toEqual({ cpu: 1 });
    // Requests other than a new INVITE are not refused for overload: this OPTIONS reaches the app.
    await sip.send(request({ method: 'OPTIONS', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId: 'opt-in-overload' }), { port });
    await app.wait((f) => f.sip?.includes('opt-in-overload') === true);
    await first.stop();

    const off = new FakeLoad();
    h = await startServer({ overload: { ...overload, cpuEnterPercent: 0 }, loadSource: off });
    off.load = { serverLagMs: 0, appLagMs: 0, cpuPercent: 100 };
    await off.after(5);
    expect(h.server.status().overload.overloaded).toBe(false);
  });

  it('a busy machine whose INVITEs are still answered promptly is not overloaded; with INVITEs queuing it is', async () => {
    const load = new FakeLoad();
    h = await startServer({ overload: { ...overload, cpuMinWaitingInvites: 2 }, loadSource: load });
    const sip = await SipPeer.create('udp');
    closers.push(() => sip.close());
    const app = await ControlPeer.connect(h.controlPort);
    closers.push(() => app.close());
    await app.authenticate(SECRET);
    await app.reply(app.send('route|invite'));
    const port = h.udp.port;
    load.load = { serverLagMs: 0, appLagMs: 0, cpuPercent: 99 };
    // One INVITE waiting for the app: below the backlog, so not overload.
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId: 'q-1', body: sdp(4000) }), { port });
    await app.wait((f) => f.sip?.includes('q-1') === true);
    await load.after(5);
    expect(h.server.status().overload).toMatchObject({ overloaded: false, waitingInvites: 1 });
    // A second one unanswered: the backlog is reached, overload.
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId: 'q-2', body: sdp(4000) }), { port });
    await app.wait((f) => f.sip?.includes('q-2') === true);
    await eventually(() => h!.server.status().overload.overloaded, 10_000, 'overloaded');
    expect(h.server.status().overload.cause).toBe('cpu');
  });
});

describe('the front door: scanners and per-source rate limits', () => {
  it('a scanner user agent is dropped without an answer (default) and counted; with reject it gets 403', async () => {
    const load = new FakeLoad();
    const { sip, app, port } = await setup(load);
    const first = h!;
    for (const ua of ['friendly-scanner', 'sipvicious 0.3.4', 'SIPCLI/v1.8', 'Polycom/5.9\r\nUser-Agent: sipvicious']) {
      await sip.send(request({ method: 'OPTIONS', uri: `sip:100@127.0.0.1:${port}`, peer: sip, extra: [`User-Agent: ${ua}`] }), { port });
    }
    // A legitimate request after them is answered, and nothing came back for the scanners.
    await sip.send(request({ method: 'OPTIONS', uri: `sip:100@127.0.0.1:${port}`, peer: sip, extra: ['User-Agent: Linphone/5.2'] }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip');
    expect(f.sip).toContain('Linphone');
    expect(sip.received.filter((r) => r.message.kind === 'response')).toEqual([]);
    expect(first.server.status().scannersRefused).toBe(4);
    await first.stop();

    h = await startServer({ sourceFilter: { ...DEFAULT_SOURCE_FILTER, scannerAction: 'reject' }, loadSource: new FakeLoad() });
    await sip.send(request({ method: 'INVITE', uri: `sip:100@127.0.0.1:${h.udp.port}`, peer: sip, body: sdp(4000), extra: ['User-Agent: friendly-scanner'] }), { port: h.udp.port });
    await sip.waitResponse(403, 'INVITE');
  });

  it('a source over its rate gets 503 with Retry-After for new requests; its in-dialog requests and other sources are not limited', async () => {
    // A rate so low that no token comes back during the test: the burst is all there is.
    h = await startServer({ sourceFilter: { ...DEFAULT_SOURCE_FILTER, ratePerSecond: 0.0001, burst: 2 }, overload: { ...overload, retryAfterSeconds: 3 }, loadSource: new FakeLoad() });
    const sip = await SipPeer.create('udp');
    closers.push(() => sip.close());
    const other = await SipPeer.create('udp', '127.0.0.2');
    closers.push(() => other.close());
    const app = await ControlPeer.connect(h.controlPort);
    closers.push(() => app.close());
    await app.authenticate(SECRET);
    await app.reply(app.send('route|options'));
    const port = h.udp.port;
    for (let i = 0; i < 3; i++) await sip.send(request({ method: 'OPTIONS', uri: `sip:1@127.0.0.1:${port}`, peer: sip, callId: `rl-${i}` }), { port });
    const limited = await sip.waitResponse(503, 'OPTIONS');
    expect(limited.info.callId).toBe('rl-2');
    expect(limited.message.headers.get('retry-after')).toBe('3');
    await app.wait((f) => f.sip?.includes('rl-0') === true);
    await app.wait((f) => f.sip?.includes('rl-1') === true);
    // In-dialog requests do not take tokens: this one reaches dialog matching (and gets 481, there being no dialog).
    await sip.send(request({ method: 'OPTIONS', uri: `sip:1@127.0.0.1:${port}`, peer: sip, toTag: 'nosuch' }), { port });
    await sip.waitResponse(481, 'OPTIONS');
    // Another source has its own bucket.
    await other.send(request({ method: 'OPTIONS', uri: `sip:1@127.0.0.1:${port}`, peer: other, callId: 'rl-other' }), { host: '127.0.0.1', port });
    await app.wait((f) => f.sip?.includes('rl-other') === true);
    expect(h.server.status().rateLimited).toBe(1);
  });
});
