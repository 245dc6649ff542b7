/**
 * The `switchboard` command as operators run it: the built binary, real
 * processes, exit codes, and the engine answering SIP with the SIP server in
 * its worker thread.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { RtpEndpoint } from '../support/rtp/rtp-endpoint.js';
import { startTestRtpengine } from '../support/rtp/rtpengine-harness.js';
import { freePort } from '../support/sipp.js';
import { request, SipPeer, type Received } from '../support/sip-peer.js';
import { EXPECTED, MANY_PROBLEMS } from '../config/many-problems.js';

const main = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(content: string): string {
  const d = mkdtempSync(join(tmpdir(), 'sb-cli-'));
  dirs.push(d);
  const f = join(d, 'config.yaml');
  writeFileSync(f, content);
  return f;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn('node', [main, ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => res({ code, stdout, stderr }));
  });
}

function startLong(args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn('node', [main, ...args], { env });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, output: () => out, exited };
}

describe('switchboard command', () => {
  it('check-config accepts a good file (exit 0) and lists every problem of a bad one (exit 3)', async () => {
    const ok = await run(['check-config', '--config', file('queues: [{ id: q, name: Q, numbers: ["1"], agents: ["sip:a@127.0.0.1"] }]\n')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK \(1 queue\)/);
    const bad = await run(['check-config', '--config', file('node: { logLevl: x }\nsipServer: { listen: [{ transport: sctp }] }\nqueues: [{ id: q }]\n')]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/3 problems/);
    expect(bad.stderr).toMatch(/unknown setting "logLevl"/);
    expect(bad.stderr).toMatch(/transport: expected one of: udp, tcp/);
    expect(bad.stderr).toMatch(/missing required setting "name"/);
  });

  it('check-config lists the schema errors and the semantic problems of a file in one message', async () => {
    const bad = await run(['check-config', '--config', file(MANY_PROBLEMS)]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(new RegExp(`: ${EXPECTED.length} problems\n`));
    for (const fragment of EXPECTED) expect(bad.stderr).toContain(fragment);
  });

  it('a reader that goes away early ends the output quietly (exit 0, no EPIPE trace)', async () => {
    const c = spawn('node', [main, 'config-reference']);
    // The read end is closed before the command writes anything, so its write fails with EPIPE.
    c.stdout.destroy();
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => c.on('close', (x) => r(x)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('--version and version print the package version', async () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    for (const arg of ['--version', 'version']) {
      const r = await run([arg]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`switchboard ${pkg.version}\n`);
    }
  });

  it('an option given twice is a usage error', async () => {
    const twice = await run(['check-config', '--config', file('{}\n'), '--config', file('{}\n')]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/--config was given twice/);
  });

  it('start with a node.stateDir that cannot be created names the setting', async () => {
    const cfg = file('node: { logLevel: warn }\n');
    // A regular file where a directory should be: no directory can be made under it, whoever runs the test.
    const r = await run(['start', '--config', file(`node: { stateDir: ${JSON.stringify(join(cfg, 'var'))}, logLevel: warn }\n`)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^switchboard: node\.stateDir: .*config\.yaml\/var cannot be created or written \(ENOTDIR/);
  });

  it('recordings-worker run on its own resolves relative paths against the config file\'s folder, as start does', async () => {
    const cfg = file('node: { stateDir: state, logLevel: warn }\nredis: { keyPrefix: cliworker }\n');
    const elsewhere = mkdtempSync(join(tmpdir(), 'sb-cli-cwd-'));
    dirs.push(elsewhere);
    const child = spawn('node', [main, 'recordings-worker', '--config', cfg, '--announce-ready'], { cwd: elsewhere });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => out.includes('switchboard recordings-worker: ready'), 25_000, () => `the worker ready; output: ${out}`);
    expect(existsSync(join(dirname(cfg), 'state', 'recordings'))).toBe(true);
    expect(existsSync(join(elsewhere, 'state'))).toBe(false);
    child.kill('SIGTERM');
    await new Promise<void>((r) => child.on('close', () => r()));
  });

  it('usage errors exit 2 with the reason; a missing file exits 3 and says why', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const missing = await run(['check-config']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --config/);
    const gone = await run(['check-config', '--config', '/nonexistent/x.yaml']);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/cannot read configuration/);
  });

  it('start runs the embedded stack (SIP server in its worker thread, rtpengine, recordings worker); it answers SIP and /status, and stops on SIGTERM', async () => {
    const sipPort = await freePort();
    const statusPort = await freePort();
    const cfg = file(
      [
        `node: { logLevel: info, status: { port: ${statusPort} } }`,
        `sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }, { transport: tcp, host: 127.0.0.1, port: ${sipPort} }], control: { port: 0 } }`,
        'queues: [{ id: q, name: Q, numbers: ["1000"], agents: ["sip:a@127.0.0.1:9"] }]',
        '',
      ].join('\n'),
    );
    // Started without MALLOC_ARENA_MAX (as `node dist/src/cli/main.js start` would be), so the hint is logged.
    const { MALLOC_ARENA_MAX: _unset, ...env } = process.env;
    const p = startLong(['start', '--config', cfg], env);
    await eventually(() => p.output().includes('switchboard running'), 30_000, 'start-up log');
    expect(p.output()).toContain('MALLOC_ARENA_MAX is not set');
    const peer = await SipPeer.create('udp');
    try {
      await peer.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${sipPort}`, peer }), { port: sipPort });
      const r = await peer.waitResponse(200, 'OPTIONS');
      // The server's own Allow and Supported (RFC 3261 §11.2): every method served, the extensions it implements.
      expect(r.message.headers.get('allow')).toBe('ACK, BYE, CANCEL, INFO, INVITE, OPTIONS, PRACK, UPDATE');
      expect(r.message.headers.get('supported')).toBe('100rel, timer');
    } finally {
      await peer.close();
    }
    const status = (await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json()) as {
      state: string;
      engine: { connected: boolean };
      sipServer: { appConnections: number };
      media: { rtpengine: { healthy: boolean }[] };
      recordingsWorker: { pid: number | null };
    };
    expect(status.state).toBe('ready');
    expect(status.engine.connected).toBe(true);
    expect(status.sipServer.appConnections).toBe(1);
    // the whole embedded stack: rtpengine answering, the recordings worker (with its own Redis) up
    expect(status.media.rtpengine).toEqual([expect.objectContaining({ healthy: true })]);
    expect(status.recordingsWorker.pid).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_sip_server_dialogs 0$/m);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    // Every child stopped on its own after SIGTERM (none had to be killed at the end of its grace).
    expect(p.output()).not.toContain('did not stop in time');
  });

  it('an engine killed (SIGKILL) during a connected call: the next start writes that call\'s record, ended "engine stopped unexpectedly"', async () => {
    const sipPort = await freePort();
    const agent = await AgentPhone.create(1000);
    const caller = await CallerPhone.create(700);
    try {
      const cfg = file('');
      const stateDir = join(dirname(cfg), 'state');
      writeFileSync(
        cfg,
        [
          `node: { stateDir: ${stateDir}, logLevel: info, status: { enabled: false } }`,
          `sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }], control: { port: 0 } }`,
          'media: { enabled: false }',
          `queues: [{ id: q, name: Q, numbers: ["1000"], agents: ["${agent.uri('ann')}"] }]`,
          '',
        ].join('\n'),
      );
      const first = startLong(['start', '--config', cfg]);
      await eventually(() => first.output().includes('switchboard running'), 30_000, 'start-up log');
      const call = caller.dial({ host: '127.0.0.1', port: sipPort }, '1000');
      await call.waitStatus(200, 15_000);
      // Killed once the journal has the connected call (its line goes out through the file system's threads, after the 200).
      const journal = (): string => {
        const dir = join(stateDir, 'calls', 'live');
        return existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('') : '';
      };
      await eventually(() => /"bridged":"/.test(journal()), 10_000, 'the connected call in the journal');
      first.child.kill('SIGKILL');
      await first.exited;
      const records = join(stateDir, 'calls', 'records.jsonl');
      expect(existsSync(records) ? readFileSync(records, 'utf8') : '').toBe('');
      const second = startLong(['start', '--config', cfg]);
      await eventually(() => second.output().includes('switchboard running'), 30_000, 'the second start');
      const lines = readFileSync(records, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        sipCallId: call.callId,
        dialed: '1000',
        queuePath: ['q'],
        agent: agent.uri('ann'),
        times: { bridged: expect.any(String), ended: expect.any(String) },
        endReason: 'engine stopped unexpectedly',
        endedBy: 'engine',
        facts: { recovered: true },
      });
      expect(second.output()).toContain('calls left live by an engine that stopped unexpectedly');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      // A clean stop leaves no journal: a third start writes no record.
      expect(readdirSync(join(stateDir, 'calls', 'live'))).toEqual([]);
    } finally {
      agent.close();
      caller.close();
    }
  });

  it('an engine killed (SIGKILL) during a connected call anchored at an external rtpengine: the next start deletes that call\'s sessions there (its own, its relay legs) and no other, and writes its record; a second rtpengine that is down does not hold the start', async () => {
    const sipPort = await freePort();
    // Nothing listens there: the configured second rtpengine is down all along.
    const downPort = await freePort();
    const external = await startTestRtpengine();
    const rtpengine = external.rtpengine.client;
    const listed = async (): Promise<string[]> => (await rtpengine.request('list', { limit: 1000 })).calls;
    const agent = await AgentPhone.create(1000);
    const caller = await CallerPhone.create(700);
    const party = await RtpEndpoint.open();
    try {
      const cfg = file('');
      const stateDir = join(dirname(cfg), 'state');
      writeFileSync(
        cfg,
        [
          `node: { stateDir: ${stateDir}, logLevel: info, status: { enabled: false }, recordingsWorker: false }`,
          `sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }], control: { port: 0 } }`,
          `media: { rtpengine: { mode: external, external: [{ host: 127.0.0.1, port: ${external.rtpengine.ngPort!} }, { host: 127.0.0.1, port: ${downPort} }] }, whisper: { enabled: false } }`,
          'recordings: { enabled: false }',
          `queues: [{ id: q, name: Q, numbers: ["1000"], agents: ["${agent.uri('ann')}"] }]`,
          '',
        ].join('\n'),
      );
      const first = startLong(['start', '--config', cfg]);
      // The rtpengine that is down costs the start its health check's time: a busy machine may need a while.
      await eventually(() => first.output().includes('switchboard running'), 60_000, 'start-up log');
      const call = caller.dial({ host: '127.0.0.1', port: sipPort }, '1000');
      await call.waitStatus(200, 15_000);
      const journal = (): string => {
        const dir = join(stateDir, 'calls', 'live');
        return existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('') : '';
      };
      await eventually(() => /"bridged":"/.test(journal()), 10_000, 'the connected call in the journal');
      const id = /"call":"([^"]+)"/.exec(journal())![1]!;
      // A supervisor relay leg of the call (as call-monitoring.ts names one), and a call of another engine sharing the rtpengine.
      const relayLeg = `${id}~supervisor-1`;
      const elsewhere = `${id}-of-another-engine`;
      for (const callId of [relayLeg, elsewhere]) await rtpengine.request('offer', { 'call-id': callId, 'from-tag': 'a', sdp: party.sdp() });
      first.child.kill('SIGKILL');
      await first.exited;
      expect(await listed()).toEqual(expect.arrayContaining([id, relayLeg, elsewhere]));
      const second = startLong(['start', '--config', cfg]);
      await eventually(() => second.output().includes('switchboard running'), 60_000, 'the second start');
      await eventually(async () => !(await listed()).some((c) => c === id || c === relayLeg), 20_000, 'the call\'s sessions gone from rtpengine', 200);
      expect(await listed()).toContain(elsewhere);
      await eventually(() => second.output().includes('sessions left at rtpengine by the previous run deleted'), 10_000, 'the deletes logged');
      // The rtpengine that is down is asked again in the background, and said so.
      await eventually(() => second.output().includes('rtpengine does not answer: the sessions the previous run left there are asked about again later'), 30_000, 'the retry logged');
      const records = readFileSync(join(stateDir, 'calls', 'records.jsonl'), 'utf8').trim().split('\n');
      expect(records.map((l) => JSON.parse(l) as unknown)).toEqual([expect.objectContaining({ call: id, sipCallId: call.callId, endReason: 'engine stopped unexpectedly', facts: { recovered: true } })]);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      agent.close();
      caller.close();
      party.close();
      await external.stop();
    }
  }, 240_000);

  it('sip-server runs the SIP server alone, for any drachtio-srf app', async () => {
    const sipPort = await freePort();
    const controlPort = await freePort();
    const cfg = file(`sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }], control: { port: ${controlPort}, secret: s3cret } }\n`);
    const p = startLong(['sip-server', '--config', cfg]);
    await eventually(() => p.output().includes('SIP server listening'), 30_000, 'listening log');
    const srf = new Srf();
    srf.use('options', (_req, res) => res.send(200, { headers: { 'X-App': 'external' } }));
    await new Promise<void>((res, rej) => {
      srf.on('connect', (err: Error | null) => (err ? rej(err) : res()));
      void srf.connect({ host: '127.0.0.1', port: controlPort, secret: 's3cret' });
    });
    const peer = await SipPeer.create('udp');
    try {
      // drachtio-srf sends its route without waiting for the reply, and the server is another
      // process: ask until the app answers (before its route is in, the server answers itself).
      let answered: Received | undefined;
      await eventually(async () => {
        await peer.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${sipPort}`, peer }), { port: sipPort });
        const r = await peer.wait((x) => x.message.kind === 'response' && x.info.cseqMethod === 'OPTIONS', 10_000, 'a response to OPTIONS');
        if (r.message.kind === 'response' && r.message.status === 200 && r.message.headers.get('x-app') !== undefined) answered = r;
        return answered !== undefined;
      }, 15_000, 'the app to answer OPTIONS');
      expect(answered!.message.headers.get('x-app')).toBe('external');
    } finally {
      await peer.close();
      srf.disconnect();
    }
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });
});
