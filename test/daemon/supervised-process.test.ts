/**
 * Stopping a daemon that runs its own children (the recordings worker with its
 * Redis and ffmpeg, Kamailio with its workers): the daemon alone gets SIGTERM,
 * so it can stop its children in its own order, and nothing of its process
 * group outlives the stop, not even a child that ignores SIGTERM.
 */
import { describe, expect, it } from 'vitest';
import { SupervisedProcess } from '../../src/daemon/supervised-process.js';
import { componentLogger, createLogger, silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The leader starts two children and prints the three pids: one child that would die of SIGTERM,
// one that ignores it. On SIGTERM the leader says whether the first is still running (it would
// not be, had the whole group been signalled), then exits.
const script = [
  'sh -c \'while :; do sleep 1; done\' &',
  'MORTAL=$!',
  'sh -c \'trap "" TERM; while :; do sleep 1; done\' &',
  'STUBBORN=$!',
  'trap \'if kill -0 $MORTAL 2>/dev/null; then echo "term: child alive"; else echo "term: child gone"; fi; exit 0\' TERM',
  'echo "pids $$ $MORTAL $STUBBORN"',
  'while :; do sleep 1; done',
].join('\n');

describe('SupervisedProcess stop', () => {
  it('SIGTERMs the daemon alone, then leaves nothing of its process group behind', async () => {
    const output: string[] = [];
    const daemon = new SupervisedProcess({
      name: 'family',
      command: 'sh',
      args: ['-c', script],
      processGroup: true,
      stopGraceMs: 20_000,
      restart: { enabled: false },
      ready: async () => /pids \d+ \d+ \d+/.test(output.join('')),
      probeIntervalMs: 20,
      onOutput: (c) => output.push(c.toString('utf8')),
      logger: silentLogger(),
    });
    await daemon.start();
    const [, leader, mortal, stubborn] = /pids (\d+) (\d+) (\d+)/.exec(output.join(''))!.map(Number);
    expect(alive(mortal!) && alive(stubborn!)).toBe(true);
    await daemon.stop();
    await eventually(() => /term: child (alive|gone)/.test(output.join('')), 10_000, 'the leader to report on SIGTERM');
    expect(output.join('')).toContain('term: child alive');
    await eventually(() => !alive(leader!) && !alive(mortal!) && !alive(stubborn!), 10_000, 'the whole group to be gone');
  });
});

describe('log lines', () => {
  /** A logger writing JSON lines into `lines`. */
  function capture(lines: string[]): ReturnType<typeof createLogger> {
    return createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
  }
  /** The top-level keys a JSON line names more than once (JSON.parse would keep only the last). */
  function repeatedKeys(line: string): string[] {
    return Object.keys(JSON.parse(line) as object).filter((k) => line.split(`"${k}":`).length - 1 > 1);
  }

  it('name each key once: a part of a component gets `part`, and a daemon line does not repeat the daemon or the pid', async () => {
    const lines: string[] = [];
    const root = capture(lines);
    const engine = componentLogger(root, 'engine');
    componentLogger(engine, 'agents').info({ agent: 'ann' }, 'state');
    expect(componentLogger(engine, 'engine')).toBe(engine);
    const daemon = new SupervisedProcess({ name: 'sleeper', command: 'sh', args: ['-c', 'sleep 30'], ready: async () => true, logger: componentLogger(root, 'media').child({ daemon: 'sleeper' }) });
    await daemon.start();
    await daemon.stop();
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(repeatedKeys(line), line).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ component: 'engine', part: 'agents', agent: 'ann' });
    const ready = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'daemon ready')!;
    expect(ready).toMatchObject({ component: 'media', daemon: 'sleeper', daemonPid: expect.any(Number), pid: process.pid });
  });
});
