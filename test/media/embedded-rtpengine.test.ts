/**
 * The private rtpengine's life: generated config under the state directory,
 * ready when it answers ping, restarted when it dies (its calls are lost),
 * stopped on shutdown, and a clear error when it cannot start.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SwitchboardError } from '../../src/errors.js';
import { EmbeddedRtpengine } from '../../src/media/rtpengine/embedded-rtpengine.js';
import { silentLogger } from '../../src/observability/logger.js';
import { waitFor } from '../support/rtp/rtp-endpoint.js';
import { startTestRtpengine, testRtpengineSettings, type TestRtpengine } from '../support/rtp/rtpengine-harness.js';
import { processAlive } from '../support/harness.js';

const rigs: TestRtpengine[] = [];
const dirs: string[] = [];
afterEach(async () => {
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
});
