/**
 * The private rtpengine's life: generated config under the state directory,
 * ready when it answers ping, restarted when it dies (its calls are lost),
 * stopped on shutdown, and a clear error when it cannot start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchboardError } from '../../src/errors.js';
import { EmbeddedRtpengine } from '../../src/media/rtpengine/embedded-rtpengine.js';
import { freeTcpPort, freeUdpPort } from '../../src/media/rtpengine/rtpengine-config.js';
import { startTimeOf } from '../../src/daemon/processes.js';
import { NgClient } from '../../src/media/ng/ng-client.js';
import { silentLogger } from '../../src/observability/logger.js';
import { waitFor } from '../support/rtp/rtp-endpoint.js';
import { startTestRtpengine, testRtpengineSettings, type TestRtpengine } from '../support/rtp/rtpengine-harness.js';
import { eventually, processAlive } from '../support/harness.js';

const rigs: TestRtpengine[] = [];
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const r of rigs.splice(0)) await r.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


describe('embedded rtpengine', () => {
  it('writes its config under the state directory (userspace, loopback ng/CLI, port range, pcap recording) and answers ping', async () => {
    const rig = await startTestRtpengine();
    rigs.push(rig);
    const { rtpengine } = rig;
    expect(rtpengine.configFile).toBe(join(rig.dir, 'rtpengine', 'rtpengine.conf'));
    const conf = readFileSync(rtpengine.configFile, 'utf8');
    expect(conf).toContain('table = -1');
    expect(conf).toContain(`listen-ng = 127.0.0.1:${rtpengine.ngPort}`);
    expect(conf).toMatch(/listen-cli = 127\.0\.0\.1:\d+/);
    expect(conf).toMatch(/port-min = \d+\nport-max = \d+/);
    expect(conf).toContain('recording-method = pcap');
    expect(conf).toContain(`recording-dir = ${join(rig.dir, 'rtpengine', 'recordings')}`);
    expect(rtpengine.ngPort).toBeGreaterThan(0);
    expect((await rtpengine.client.request('ping', {})).result).toBe('pong');
  });

  it('is restarted after it dies, says its calls were lost, and answers again', async () => {
    const rig = await startTestRtpengine({ restart: { minDelayMs: 100, maxDelayMs: 500 } });
    rigs.push(rig);
    const { rtpengine } = rig;
    await rtpengine.client.request('offer', { 'call-id': 'doomed', 'from-tag': 'caller', sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n' });
    const events: string[] = [];
    rtpengine.on('lost', () => events.push('lost'));
    rtpengine.on('restarted', () => events.push('restarted'));
    const firstPid = rtpengine.pid!;
    process.kill(firstPid, 'SIGKILL');
    expect(await waitFor(() => events.includes('restarted'), 15_000)).toBe(true);
    expect(events).toEqual(['lost', 'restarted']);
    expect(rtpengine.pid).not.toBe(firstPid);
    expect(rtpengine.restarts).toBe(1);
    expect((await rtpengine.client.request('ping', {})).result).toBe('pong');
    expect((await rtpengine.client.request('list', {})).calls).toEqual([]);
  });

  it('stop() ends the daemon; the ng client then refuses requests', async () => {
    const rig = await startTestRtpengine();
    const pid = rig.rtpengine.pid!;
    await rig.stop();
    expect(await waitFor(() => !processAlive(pid), 15_000)).toBe(true);
    await expect(rig.rtpengine.client.request('ping', {})).rejects.toMatchObject({ code: ErrorCodes.RTPENGINE_CLOSED });
  });

  it('a daemon that cannot start (its configured ng port is taken) fails with a clear error carrying its output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-rtpengine-bad-'));
    dirs.push(dir);
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', () => resolve()));
    const taken = squatter.address().port;
    const daemon = new EmbeddedRtpengine({ settings: testRtpengineSettings({ ngPort: taken }), stateDir: dir, logger: silentLogger(), readyTimeoutMs: 5000 });
    const err = await daemon.start().catch((e: unknown) => e);
    await daemon.stop();
    squatter.close();
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).code).toBe(ErrorCodes.CHILD_PROCESS);
    expect((err as Error).message).toMatch(/rtpengine exited during start-up; its last output:/);
    expect((err as Error).message).toContain(String(taken));
  });

  it('a missing binary is reported as such', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-rtpengine-none-'));
    dirs.push(dir);
    const daemon = new EmbeddedRtpengine({ settings: testRtpengineSettings({ binary: '/nonexistent/rtpengine' }), stateDir: dir, logger: silentLogger() });
    const err = await daemon.start().catch((e: unknown) => e);
    await daemon.stop();
    expect((err as SwitchboardError).code).toBe(ErrorCodes.CHILD_PROCESS);
    expect((err as Error).message).toMatch(/could not start \/nonexistent\/rtpengine/);
  });

  it('keeps its directories closed to other users (rtpengine writes the captures in plain text)', async () => {
    const rig = await startTestRtpengine();
    rigs.push(rig);
    expect(statSync(rig.rtpengine.directory).mode & 0o777).toBe(0o700);
    expect(statSync(rig.rtpengine.recordingDir).mode & 0o777).toBe(0o700);
  });
});

describe('embedded rtpengine after its engine died', () => {
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sb-rtpengine-orphan-'));
    dirs.push(dir);
    return dir;
  }
  async function answersPing(ngPort: number): Promise<boolean> {
    const client = new NgClient({ host: '127.0.0.1', port: ngPort, logger: silentLogger(), timeoutMs: 300 });
    try {
      return (await client.request('ping', {})).result === 'pong';
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  /** A stand-in engine: a script that starts an embedded rtpengine under `dir` and prints its pid and ng port. */
  function engineScript(dir: string, before: readonly string[] = []): string {
    const script = join(dir, 'engine.mts');
    writeFileSync(script, [
      `import { EmbeddedRtpengine } from ${JSON.stringify(join(process.cwd(), 'src/media/rtpengine/embedded-rtpengine.ts'))};`,
      `import { silentLogger } from ${JSON.stringify(join(process.cwd(), 'src/observability/logger.ts'))};`,
      `const daemon = new EmbeddedRtpengine({ settings: JSON.parse(process.env.SETTINGS), stateDir: ${JSON.stringify(dir)}, logger: silentLogger() });`,
      ...before,
      'await daemon.start();',
      'console.log(JSON.stringify({ pid: daemon.pid, ngPort: daemon.ngPort }));',
      'setInterval(() => undefined, 1000);',
      '',
    ].join('\n'));
    return script;
  }

  it('dies with an engine killed by SIGKILL (parent-death signal), so nothing holds its ports', async () => {
    const script = engineScript(tempDir());
    const engine = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, SETTINGS: JSON.stringify(testRtpengineSettings()) }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(engine);
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      engine.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const line = /\{.*\}\n/.exec(out);
        if (line !== null) resolve((JSON.parse(line[0]) as { pid: number }).pid);
      });
      engine.once('exit', (code) => reject(new Error(`the engine exited (${code}) before its rtpengine was ready`)));
    });
    expect(processAlive(pid)).toBe(true);
    engine.kill('SIGKILL');
    expect(await waitFor(() => !processAlive(pid), 15_000)).toBe(true);
  }, 60_000);

  it('runs in its own process group: a Ctrl-C to the engine\'s terminal group reaches the engine, not rtpengine (the engine drains first)', async () => {
    // Like the engine: SIGINT starts a drain, it does not kill.
    const script = engineScript(tempDir(), ["process.on('SIGINT', () => console.log('SIGINT'));"]);
    // The engine leads its own group, as a shell job in a terminal does.
    const engine = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, SETTINGS: JSON.stringify(testRtpengineSettings()) }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push(engine);
    let out = '';
    engine.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await eventually(() => /\{.*\}\n/.test(out), 30_000, 'rtpengine ready');
    const { pid, ngPort } = JSON.parse(/\{.*\}\n/.exec(out)![0]) as { pid: number; ngPort: number };
    const groupOf = (p: number): number => Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
    expect(groupOf(engine.pid!)).toBe(engine.pid);
    expect(groupOf(pid)).not.toBe(engine.pid);
    process.kill(-engine.pid!, 'SIGINT');
    await eventually(() => out.includes('SIGINT'), 10_000, 'the engine got the Ctrl-C');
    expect(processAlive(pid)).toBe(true);
    expect(await answersPing(ngPort)).toBe(true);
  }, 60_000);

  it('an orphan left on its fixed ports is stopped, and ours starts in its place', async () => {
    const dir = tempDir();
    const settings = testRtpengineSettings({ ngPort: await freeUdpPort(), cliPort: await freeTcpPort() });
    const first = new EmbeddedRtpengine({ settings, stateDir: dir, logger: silentLogger() });
    await first.start();
    await first.stop();
    // What a dead engine leaves: its daemon (here started by hand, with no parent-death signal) and its pid file.
    const orphan = spawn('rtpengine', ['--foreground', '--log-stderr', '--no-log-timestamps', `--config-file=${first.configFile}`], { stdio: 'ignore' });
    children.push(orphan);
    await eventually(() => answersPing(settings.ngPort), 15_000, 'the orphan answering ping');
    const deadOwner = spawn('true');
    await new Promise((resolve) => deadOwner.once('exit', resolve));
    writeFileSync(join(first.directory, 'rtpengine.pid'), JSON.stringify({ owner: deadOwner.pid, pid: orphan.pid }));

    const second = new EmbeddedRtpengine({ settings, stateDir: dir, logger: silentLogger() });
    try {
      await second.start();
      expect(processAlive(orphan.pid!)).toBe(false);
      expect(second.pid).not.toBe(orphan.pid);
      expect((await second.client.request('ping', {})).result).toBe('pong');
      expect(JSON.parse(readFileSync(join(second.directory, 'rtpengine.pid'), 'utf8'))).toMatchObject({ owner: process.pid, pid: second.pid });
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('a directory whose engine is alive is refused, its daemon left alone', async () => {
    const dir = tempDir();
    const settings = testRtpengineSettings();
    const owner = spawn('sleep', ['60']);
    children.push(owner);
    const daemon = new EmbeddedRtpengine({ settings, stateDir: dir, logger: silentLogger() });
    const file = join(daemon.directory, 'rtpengine.pid');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(daemon.directory, { recursive: true });
    writeFileSync(file, JSON.stringify({ owner: owner.pid, ownerStart: startTimeOf(owner.pid!), pid: owner.pid }));
    const err = await daemon.start().catch((e: unknown) => e);
    await daemon.stop();
    expect((err as SwitchboardError).code).toBe(ErrorCodes.RTPENGINE_UNAVAILABLE);
    expect((err as Error).message).toContain(`belongs to running process ${owner.pid}`);
    expect(processAlive(owner.pid!)).toBe(true);
  });

  it('an owner pid now held by another process (a reboot since) is no owner: ours starts', async () => {
    const dir = tempDir();
    const other = spawn('sleep', ['60']);
    children.push(other);
    const daemon = new EmbeddedRtpengine({ settings: testRtpengineSettings(), stateDir: dir, logger: silentLogger() });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(daemon.directory, { recursive: true });
    writeFileSync(join(daemon.directory, 'rtpengine.pid'), JSON.stringify({ owner: other.pid, ownerStart: '1', pid: other.pid }));
    try {
      await daemon.start();
      expect((await daemon.client.request('ping', {})).result).toBe('pong');
      expect(processAlive(other.pid!)).toBe(true); // not ours to stop: its command line is not our daemon's
    } finally {
      await daemon.stop();
    }
  });
});
