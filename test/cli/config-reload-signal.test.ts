/**
 * `switchboard start` re-reads its configuration file on SIGHUP (the built
 * binary, a real process): a file with problems is refused with every problem
 * logged, a file that changes what needs a restart is refused naming it, and
 * a lifted closure is taken by the next call, all without stopping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { freePort } from '../support/sipp.js';

const main = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'sb-cli-reload-'));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('switchboard start, SIGHUP', () => {
  it('reloads the hours and deflection of its file; refuses a bad file or one that needs a restart, and keeps running', async () => {
    const sipPort = await freePort();
    const agent = await AgentPhone.create(1000);
    const caller = await CallerPhone.create(700);
    const cfg = join(dir, 'switchboard.yaml');
    const write = (queue: string): void =>
      writeFileSync(
        cfg,
        [
          'node: { stateDir: ./state, logLevel: info, status: { enabled: false } }',
          `sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }], control: { port: 0 } }`,
          'media: { enabled: false }',
          `queues: [{ id: q, name: Q, numbers: ["1000"], ${queue} }]`,
          '',
        ].join('\n'),
      );
    const agents = `agents: ["${agent.uri('ann')}"]`;
    // Closed by an emergency with a message: without a media plane the caller gets 480.
    write(`${agents}, emergency: { force: closed, reason: storm }, deflection: { ivr: { option: message, message: { en: { text: "We are closed." } } } }`);
    let out = '';
    child = spawn('node', [main, 'start', '--config', cfg], { cwd: dir });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child!.on('close', (code) => r(code)));
    try {
      await eventually(() => out.includes('switchboard running'), 30_000, () => `start-up log: ${out.slice(-2000)}`);
      const closed = caller.dial({ host: '127.0.0.1', port: sipPort }, '1000');
      await closed.waitStatus(480, 15_000);

      // Two problems: both in the one log line, and the engine goes on as it was.
      write(`${agents}, ringTimeoutSeconds: -1, deflection: { ivr: { option: queue, queue: nowhere } }`);
      child.kill('SIGHUP');
      await eventually(() => out.includes('SIGHUP: configuration not reloaded (the file has problems)'), 10_000, () => `log: ${out.slice(-2000)}`);
      const refusal = out.split('\n').find((l) => l.includes('the file has problems'))!;
      expect(refusal).toMatch(/queues\[0\]\.ringTimeoutSeconds/);
      expect(refusal).toMatch(/nowhere/);

      // The closure lifted, and a second agent: the agent list needs a restart, so nothing is taken.
      write(`agents: ["${agent.uri('ann')}", "sip:bob@127.0.0.1:5999"]`);
      child.kill('SIGHUP');
      await eventually(() => out.includes('queues[0].agents changed, which needs a restart'), 10_000, () => `log: ${out.slice(-2000)}`);
      const stillClosed = caller.dial({ host: '127.0.0.1', port: sipPort }, '1000');
      await stillClosed.waitStatus(480, 15_000);

      // The closure lifted alone: taken, and the next call reaches the agent.
      write(agents);
      child.kill('SIGHUP');
      await eventually(() => out.includes('SIGHUP: hours and deflection reloaded'), 10_000, () => `log: ${out.slice(-2000)}`);
      expect(out.split('\n').find((l) => l.includes('hours and deflection reloaded'))).toContain('"changed":["queues[0].emergency","queues[0].deflection"]');
      const open = caller.dial({ host: '127.0.0.1', port: sipPort }, '1000');
      await open.waitStatus(200, 15_000);
      open.hangUp();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      agent.close();
      caller.close();
    }
  }, 90_000);

  it('a SIGHUP while draining (logrotate, a reload) is handled as ever: the engine does not die, and the live call ends as the caller wants (probe AO-2)', async () => {
    const sipPort = await freePort();
    const agent = await AgentPhone.create(1000);
    const caller = await CallerPhone.create(700);
    const cfg = join(dir, 'drain.yaml');
    writeFileSync(
      cfg,
      [
        'node: { stateDir: ./state-drain, logLevel: info, status: { enabled: false } }',
        `sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }], control: { port: 0 } }`,
        'media: { enabled: false }',
        'engine: { drain: { maxSeconds: 60 } }',
        `queues: [{ id: q, name: Q, numbers: ["1000"], agents: ["${agent.uri('ann')}"] }]`,
        '',
      ].join('\n'),
    );
    let out = '';
    const engine = spawn('node', [main, 'start', '--config', cfg], { cwd: dir });
    child = engine;
    engine.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    engine.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => engine.on('close', (code, signal) => r({ code, signal })));
    try {
      await eventually(() => out.includes('switchboard running'), 30_000, () => `start-up log: ${out.slice(-2000)}`);
      const call = caller.dial({ host: '127.0.0.1', port: sipPort }, '1000');
      await call.waitStatus(200, 15_000);
      engine.kill('SIGTERM');
      await eventually(() => out.includes('draining, then stopping'), 10_000, () => `log: ${out.slice(-2000)}`);
      engine.kill('SIGHUP');
      await eventually(() => out.includes('SIGHUP: call records and audit log files opened again'), 10_000, () => `log: ${out.slice(-2000)}`);
      call.hangUp();
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(out).toContain('SIGHUP: configuration unchanged');
    } finally {
      agent.close();
      caller.close();
    }
  }, 90_000);
});
