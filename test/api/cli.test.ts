/**
 * The command line, as operators run it (the built binary, real processes):
 * `switchboard keys add|list|revoke` on the keys file, and `switchboard
 * calls list|show|monitor|end` against `switchboard start` with the API on,
 * with a real call between test phones. A key added while the engine runs
 * works at once, a revoked one stops working at once, and SIGHUP re-reads
 * the keys without stopping anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { freePort } from '../support/sipp.js';
import { randomPortRange } from '../support/rtp/rtpengine-harness.js';

const main = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
let dir: string;
let cfg: string;
let apiPort: number;
let sipPort: number;
let agent: AgentPhone;
let supervisorPhone: AgentPhone;
let engine: { child: ChildProcess; output: () => string; exited: Promise<number | null> } | undefined;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn('node', [main, ...args], { env: { ...process.env, SWITCHBOARD_API_KEY: '', ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => res({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-cli-api-'));
  agent = await AgentPhone.create(1300);
  supervisorPhone = await AgentPhone.create(0);
  apiPort = await freePort();
  sipPort = await freePort();
  const range = randomPortRange();
  cfg = join(dir, 'switchboard.yaml');
  writeFileSync(
    cfg,
    [
      'node: { stateDir: ./state, logLevel: info, status: { enabled: false }, recordingsWorker: false }',
      `sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }], control: { port: 0 } }`,
      `media: { whisper: { enabled: false }, rtpengine: { embedded: { portMin: ${range.portMin}, portMax: ${range.portMax} } } }`,
      `api: { enabled: true, host: 127.0.0.1, port: ${apiPort} }`,
      `queues: [{ id: support, name: Support, team: care, numbers: ["1000"], agents: ["${agent.uri()}"] }]`,
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  engine?.child.kill('SIGKILL');
  agent?.close();
  supervisorPhone?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('switchboard keys', () => {
  it('add prints a new key once (alone on stdout) and stores only its hash; list shows it; revoke removes it', async () => {
    const added = await run(['keys', 'add', '--user', 'mia', '--role', 'manager', '--team', 'care', '--device', 'sip:mia@127.0.0.1:5999', '--config', cfg]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^sbk_[a-z0-9]{16}\.[A-Za-z0-9_-]{43}\n$/);
    expect(added.stderr).toMatch(/stored in .*state\/api\/keys\.json; the key is shown only now/);
    const key = added.stdout.trim();
    const file = readFileSync(join(dir, 'state', 'api', 'keys.json'), 'utf8');
    expect(file).not.toContain(key.split('.')[1]);
    expect(file).toContain('"user": "mia"');

    const list = await run(['keys', 'list', '--config', cfg, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ user: 'mia', role: 'manager', teams: ['care'], device: 'sip:mia@127.0.0.1:5999', source: 'file' })]);
    expect(list.stdout).not.toContain('sha256');
    const table = await run(['keys', 'list', '--config', cfg]);
    expect(table.stdout).toMatch(/^ID\s+USER\s+ROLE\s+TEAMS/);
    expect(table.stdout).toMatch(/mia\s+manager\s+care/);

    const revoked = await run(['keys', 'revoke', '--user', 'mia', '--config', cfg]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/revoked 1 key of mia/);
    expect(JSON.parse((await run(['keys', 'list', '--config', cfg, '--json'])).stdout)).toEqual([]);
    const again = await run(['keys', 'revoke', '--user', 'mia', '--config', cfg]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no key of mia/);
  });

  it('refuses what cannot work, with the reason (exit 2): unknown role or team, a manager without a team, a bad device', async () => {
    const cases: [string[], RegExp][] = [
      [['--user', 'x', '--role', 'wizard'], /unknown role "wizard"/],
      [['--user', 'x', '--role', 'manager', '--team', 'sales'], /no queue belongs to team "sales" \(teams: care\)/],
      [['--user', 'x', '--role', 'manager'], /acts only for its teams/],
      [['--user', 'x', '--role', 'admin', '--device', 'tel:123'], /--device "tel:123": expected a SIP URI/],
      [['--user', 'bad name', '--role', 'admin'], /--user "bad name"/],
      [['--role', 'admin'], /missing --user/],
    ];
    for (const [args, reason] of cases) {
      const r = await run(['keys', 'add', ...args, '--config', cfg]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(reason);
    }
  }, 60_000);
});

describe('switchboard calls, against switchboard start', () => {
  it('keys work as soon as they are added and stop as soon as they are revoked; SIGHUP reloads and keeps running', async () => {
    engine = (() => {
      // Started as `npm start` starts it (MALLOC_ARENA_MAX=2): no memory hint in the log.
      const child = spawn('node', [main, 'start', '--config', cfg], { env: { ...process.env, MALLOC_ARENA_MAX: '2' } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return { child, output: () => out, exited: new Promise<number | null>((r) => child.on('close', (code) => r(code))) };
    })();
    await eventually(() => engine!.output().includes('switchboard running'), 30_000, () => `start-up log: ${engine!.output().slice(-2000)}`);
    expect(engine.output()).toContain(`"api":"http://127.0.0.1:${apiPort}"`);
    expect(engine.output()).not.toContain('MALLOC_ARENA_MAX is not set');

    const noKey = await run(['calls', 'list', '--config', cfg]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/no API key: set SWITCHBOARD_API_KEY/);
    const key = (await run(['keys', 'add', '--user', 'sam', '--role', 'supervisor', '--config', cfg])).stdout.trim();
    await eventually(async () => (await run(['calls', 'list', '--config', cfg], { SWITCHBOARD_API_KEY: key })).code === 0, 10_000, 'the new key accepted');
    // The audit log rotated by rename (logrotate's default), then SIGHUP: later entries go to a new file at the path.
    const audit = join(dir, 'state', 'api', 'audit.jsonl');
    expect((await run(['calls', 'list', '--config', cfg], { SWITCHBOARD_API_KEY: 'sbk_nobody.secret' })).code).toBe(1);
    await eventually(() => existsSync(audit), 10_000, 'the audit log written');
    renameSync(audit, `${audit}.1`);
    engine.child.kill('SIGHUP');
    await eventually(() => engine!.output().includes('SIGHUP: call records and audit log files opened again'), 10_000, 'the files reopened');
    const afterHup = await run(['calls', 'list', '--config', cfg], { SWITCHBOARD_API_KEY: key });
    expect(afterHup.code).toBe(0);
    expect(afterHup.stdout).toBe('no live calls\n');
    await run(['keys', 'revoke', '--user', 'sam', '--config', cfg]);
    let refused = { code: 0 as number | null, stderr: '' };
    await eventually(async () => (refused = await run(['calls', 'list', '--config', cfg], { SWITCHBOARD_API_KEY: key })).code === 1, 10_000, 'the revoked key refused');
    expect(refused.stderr).toMatch(/401 SB_API_UNAUTHORIZED: unknown or revoked API key/);
    // The refusal is audited in the new file, not in the renamed one.
    await eventually(() => existsSync(audit) && readFileSync(audit, 'utf8').includes('unknown or revoked API key'), 10_000, 'the refusal in the new audit file');
    expect(readFileSync(`${audit}.1`, 'utf8').split('unknown or revoked API key')).toHaveLength(2); // the one refusal before the rotation
    await eventually(() => /"why":"SIGHUP".*"msg":"API keys loaded"/.test(engine!.output()), 10_000, 'the SIGHUP reload logged');
  }, 90_000);

  it('list, show, monitor (start and stop) and end a live call; errors print their code and reason', async () => {
    const added = await run(['keys', 'add', '--user', 'ada', '--role', 'admin', '--config', cfg]);
    const keyFile = join(dir, 'ada.key');
    writeFileSync(keyFile, added.stdout);
    const as = (args: string[]) => run([...args, '--key-file', keyFile, '--url', `http://127.0.0.1:${apiPort}`]);
    await eventually(async () => (await as(['calls', 'list'])).code === 0, 10_000, 'the key accepted');

    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial({ host: '127.0.0.1', port: sipPort }, '1000');
      await call.waitStatus(200, 30_000);
      const listed = await as(['calls', 'list', '--json', '--state', 'connected']);
      expect(listed.code, listed.stderr).toBe(0);
      const [row] = JSON.parse(listed.stdout) as { id: string; sipCallId: string; team: string }[];
      expect(row).toMatchObject({ sipCallId: call.callId, team: 'care' });
      const table = await as(['calls', 'list', '--search', 'support']);
      expect(table.stdout).toMatch(new RegExp(`^ID\\s+STATE.*\\n${row!.id}\\s+connected\\s+\\S+\\s+support\\s+care`, 's'));

      const show = await as(['calls', 'show', row!.id]);
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(/state:\s+connected/);
      expect(show.stdout).toMatch(/queue path:\s+support \(team care\)/);
      expect(show.stdout).toContain(`agent:       ${agent.uri()}`);

      const monitor = await as(['calls', 'monitor', row!.id, '--device', supervisorPhone.uri('ada')]);
      expect(monitor.code, monitor.stderr).toBe(0);
      const mid = /monitor (m[0-9a-f]+): .* is listening/.exec(monitor.stdout)?.[1];
      expect(mid, monitor.stdout).toBeDefined();
      expect(supervisorPhone.calls).toHaveLength(1);
      const stop = await as(['calls', 'monitor', row!.id, '--stop', mid!]);
      expect(stop.stdout).toMatch(new RegExp(`stopped monitor ${mid} \\(ada on sip:ada@`));
      await eventually(() => supervisorPhone.calls[0]!.requests.includes('BYE'), 10_000, 'BYE at the supervisor phone');

      const unconfirmed = await as(['calls', 'end', row!.id, '--reason', 'stuck']);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toMatch(/needs --confirm/);
      const ended = await as(['calls', 'end', row!.id, '--reason', 'stuck', '--confirm']);
      expect(ended.code, ended.stderr).toBe(0);
      expect(ended.stdout).toMatch(/ended call .* \(ended by ada: stuck\)/);
      await call.waitRequest('BYE');

      const gone = await as(['calls', 'show', row!.id]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/404 SB_NOT_FOUND: no live call/);
      const badUrl = await run(['calls', 'list', '--url', 'http://127.0.0.1:1'], { SWITCHBOARD_API_KEY: 'x' });
      expect(badUrl.code).toBe(1);
      expect(badUrl.stderr).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:1 .*; the address is --url/);
    } finally {
      caller.close();
    }
    engine!.child.kill('SIGTERM');
    expect(await engine!.exited).toBe(0);
    engine = undefined;
  }, 90_000);
});
