/**
 * TLS listener settings as operators meet them: every problem of a bad file
 * in one error (paths relative to the config file's folder), and the
 * certificate and key re-read on SIGHUP without dropping connections, by the
 * `switchboard sip-server` command and by the embedded server's worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configChecks } from '../../../src/app/config-checks.js';
import { loadConfigObject } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { startEmbeddedSipServer } from '../../../src/sip-server/embedded.js';
import { eventually } from '../../support/harness.js';
import { freePort } from '../../support/sipp.js';
import { TestPki, type CertFiles } from '../../support/tls-certs.js';

const main = resolve(import.meta.dirname, '../../../dist/src/cli/main.js');
let pki: TestPki;
let first: CertFiles;
let second: CertFiles;
let expired: CertFiles;
let strayKey: string;
const dirs: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  pki = await TestPki.create();
  first = await pki.issue('first', { cn: 'first.test', san: ['IP:127.0.0.1'] });
  second = await pki.issue('second', { cn: 'second.test', san: ['IP:127.0.0.1'] });
  expired = await pki.issue('gone', { cn: 'gone.test', san: ['IP:127.0.0.1'], notBefore: '20200101000000Z', notAfter: '20200201000000Z' });
  strayKey = await pki.strayKey('stray');
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  pki?.cleanup();
});

/** A config folder with `certs/` holding copies of the given files under the given names. */
function folder(yaml: string, certs: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'sb-tlscfg-'));
  dirs.push(d);
  mkdirSync(join(d, 'certs'));
  for (const [name, from] of Object.entries(certs)) copyFileSync(from, join(d, 'certs', name));
  writeFileSync(join(d, 'switchboard.yaml'), yaml);
  return d;
}

function run(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const c = spawn('node', [main, ...args], { cwd });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => res({ code, out }));
  });
}

/** The CN of the certificate a TLS listener presents to a new connection (and the open socket). */
/** `p`, or a rejection naming `what` after `ms` (a hang says where it hung). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function presented(port: number): Promise<{ cn: string; socket: TLSSocket }> {
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await within(
    new Promise<void>((res, rej) => {
      socket.once('secureConnect', () => res());
      socket.once('error', rej);
    }),
    15_000,
    `a TLS handshake on port ${port}`,
  ).catch((e: unknown) => {
    socket.destroy();
    throw e;
  });
  socket.on('error', () => undefined);
  return { cn: String(socket.getPeerCertificate().subject.CN), socket };
}

/** Sends an OPTIONS on an open TLS socket and resolves with the status line of the answer. */
async function optionsOver(socket: TLSSocket, port: number): Promise<string> {
  const id = `r${Math.floor(Math.random() * 1e9)}`;
  const text = [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK${id};rport`,
    `From: <sip:probe@127.0.0.1>;tag=${id}`,
    `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: ${id}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  let got = '';
  const line = new Promise<string>((res) => {
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^SIP\/2\.0 \d{3} [^\r\n]*/m.exec(got);
      if (m !== null) res(m[0]);
    });
  });
  socket.write(text);
  return within(line, 15_000, `an answer to OPTIONS on an open TLS connection to port ${port}`);
}

describe('tls listener settings at config load', () => {
  it('check-config lists every TLS problem of a file in one error, paths relative to its folder', async () => {
    const d = folder(
      [
        'sipServer:',
        '  listen:',
        '    - { transport: tls, host: 127.0.0.1, port: 5061 }',
        '    - { transport: wss, host: 127.0.0.1, port: 5062, tls: { certFile: certs/missing.pem, keyFile: certs/first.key } }',
        '    - { transport: tls, host: 127.0.0.1, port: 5063, tls: { certFile: certs/first.pem, keyFile: certs/stray.key } }',
        '    - { transport: tls, host: 127.0.0.1, port: 5064, tls: { certFile: certs/gone.pem, keyFile: certs/gone.key } }',
        '    - { transport: tls, host: 127.0.0.1, port: 5065, tls: { certFile: certs/first.pem, keyFile: certs/first.key, verifyClient: required } }',
        '    - { transport: udp, host: 127.0.0.1, port: 5066, tls: { certFile: certs/first.pem, keyFile: certs/first.key } }',
        '    - { transport: ws, host: 127.0.0.1, port: 5065 }',
        '',
      ].join('\n'),
      { 'first.pem': first.cert, 'first.key': first.key, 'stray.key': strayKey, 'gone.pem': expired.cert, 'gone.key': expired.key },
    );
    const r = await run(['check-config', '--config', join(d, 'switchboard.yaml')], tmpdir());
    expect(r.code).toBe(3);
    const lines = r.out.split('\n').filter((l) => l.includes('sipServer.listen['));
    const has = (re: RegExp): boolean => lines.some((l) => re.test(l));
    expect(has(/listen\[0\]: a tls listener needs tls\.certFile and tls\.keyFile/), r.out).toBe(true);
    expect(has(new RegExp(`listen\\[1\\]\\.tls: cannot read certificate file ${d}/certs/missing\\.pem \\(ENOENT\\)`)), r.out).toBe(true);
    expect(has(new RegExp(`listen\\[2\\]\\.tls: key ${d}/certs/stray\\.key does not belong to certificate ${d}/certs/first\\.pem`)), r.out).toBe(true);
    expect(has(new RegExp(`listen\\[3\\]\\.tls: certificate ${d}/certs/gone\\.pem expired on 2020-02-01T00:00:00\\.000Z`)), r.out).toBe(true);
    expect(has(/listen\[4\]\.tls\.caFile: verifyClient: required needs caFile/), r.out).toBe(true);
    expect(has(/listen\[5\]\.tls: TLS settings apply to tls and wss listeners only, not udp/), r.out).toBe(true);
    expect(has(/listen\[6\]: uses the same TCP address and port as sipServer\.listen\[4\]/), r.out).toBe(true);
    expect(lines).toHaveLength(7);
  });

  it('a good TLS listener passes, its files found next to the config file whatever the working directory', async () => {
    const d = folder('sipServer: { listen: [{ transport: tls, host: 127.0.0.1, port: 5061, tls: { certFile: certs/a.pem, keyFile: certs/a.key } }] }\n', {
      'a.pem': first.cert,
      'a.key': first.key,
    });
    const r = await run(['check-config', '--config', join(d, 'switchboard.yaml')], tmpdir());
    expect(r.out).toMatch(/OK/);
    expect(r.code).toBe(0);
  });
});

describe('scripts/make-dev-certs.sh', () => {
  it('makes a CA and a server certificate that a tls listener accepts and a client verifies by name', async () => {
    const d = folder('sipServer: { listen: [{ transport: tls, host: 127.0.0.1, port: 0, tls: { certFile: certs/server.pem, keyFile: certs/server.key } }], control: { port: 0 } }\n');
    const made = await new Promise<number | null>((res) => spawn('bash', [resolve(import.meta.dirname, '../../../scripts/make-dev-certs.sh'), join(d, 'certs'), 'localhost', '127.0.0.1']).on('close', res));
    expect(made).toBe(0);
    const r = await run(['check-config', '--config', join(d, 'switchboard.yaml')], tmpdir());
    expect(r.code, r.out).toBe(0);
    const config = loadConfigObject(
      { sipServer: { thread: 'inline', listen: [{ transport: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: 'certs/server.pem', keyFile: 'certs/server.key' } }], control: { port: 0 } } },
      { checks: configChecks, baseDir: d },
    );
    const sip = await startEmbeddedSipServer(config.sipServer, 'silent', silentLogger(), d);
    try {
      const socket = tlsConnect({ host: '127.0.0.1', port: sip.listeners[0]!.port, servername: 'localhost', ca: readFileSync(join(d, 'certs', 'ca.pem')) });
      const ok = await new Promise<boolean>((res) => {
        socket.once('secureConnect', () => res(socket.authorized));
        socket.once('error', () => res(false));
      });
      socket.destroy();
      expect(ok).toBe(true);
    } finally {
      await sip.stop();
    }
  });
});

describe('SIGHUP re-reads certificates and keys', () => {
  it('switchboard sip-server: new connections get the new certificate, open ones keep working, a bad new key keeps the old pair', async () => {
    const port = await freePort();
    const control = await freePort();
    const d = folder(
      `node: { logLevel: info }\nsipServer: { listen: [{ transport: tls, host: 127.0.0.1, port: ${port}, tls: { certFile: certs/server.pem, keyFile: certs/server.key } }], control: { port: ${control} } }\n`,
      { 'server.pem': first.cert, 'server.key': first.key },
    );
    const child = spawn('node', [main, 'sip-server', '--config', 'switchboard.yaml'], { cwd: d });
    children.push(child);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    await eventually(() => out.includes('SIP server listening'), 30_000, 'listening');

    const before = await presented(port);
    expect(before.cn).toBe('first.test');
    copyFileSync(second.cert, join(d, 'certs', 'server.pem'));
    copyFileSync(second.key, join(d, 'certs', 'server.key'));
    child.kill('SIGHUP');
    await eventually(() => out.includes('TLS certificate reloaded'), 10_000, 'reload log');
    const after = await presented(port);
    expect(after.cn).toBe('second.test');
    expect(await optionsOver(before.socket, port), 'the connection opened before the reload still serves').toMatch(/^SIP\/2\.0 503 /);

    copyFileSync(strayKey, join(d, 'certs', 'server.key'));
    child.kill('SIGHUP');
    await eventually(() => out.includes('TLS certificate not reloaded'), 10_000, 'refusal log');
    expect(out).toMatch(/does not belong to certificate/);
    expect((await presented(port)).cn).toBe('second.test');
    for (const s of [before.socket, after.socket]) s.destroy();
    child.kill('SIGTERM');
    await within(new Promise((r) => child.once('close', r)), 20_000, 'the sip-server process to exit on SIGTERM');
  }, 120_000);

  it('switchboard start (the server in its worker thread behind the engine) re-reads them on SIGHUP', async () => {
    const port = await freePort();
    const d = folder(
      [
        'node: { logLevel: info, recordingsWorker: false, status: { enabled: false } }',
        `sipServer: { listen: [{ transport: udp, host: 127.0.0.1, port: 0 }, { transport: tls, host: 127.0.0.1, port: ${port}, tls: { certFile: certs/server.pem, keyFile: certs/server.key } }], control: { port: 0 } }`,
        'queues: [{ id: q, name: Q, numbers: ["1000"], agents: ["sip:a@127.0.0.1:9"] }]',
        '',
      ].join('\n'),
      { 'server.pem': first.cert, 'server.key': first.key },
    );
    const child = spawn('node', [main, 'start', '--config', join(d, 'switchboard.yaml')], { cwd: tmpdir() });
    children.push(child);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    await eventually(() => out.includes('switchboard running'), 30_000, 'start-up log');
    const before = await presented(port);
    expect(before.cn).toBe('first.test');
    before.socket.destroy();
    copyFileSync(second.cert, join(d, 'certs', 'server.pem'));
    copyFileSync(second.key, join(d, 'certs', 'server.key'));
    child.kill('SIGHUP');
    await eventually(() => out.includes('SIGHUP: TLS certificates re-read'), 10_000, 'reload log');
    expect(out).toMatch(new RegExp(`tls/127\\.0\\.0\\.1:${port}: ok`));
    const after = await presented(port);
    expect(after.cn).toBe('second.test');
    after.socket.destroy();
    child.kill('SIGTERM');
    expect(await within(new Promise((r) => child.once('close', r)), 20_000, 'switchboard start to exit on SIGTERM')).toBe(0);
  }, 120_000);

  it('the embedded server in its worker thread reloads on request', async () => {
    const d = folder('', { 'server.pem': first.cert, 'server.key': first.key });
    const config = loadConfigObject(
      {
        sipServer: {
          listen: [{ transport: 'wss', host: '127.0.0.1', port: 0, tls: { certFile: 'certs/server.pem', keyFile: 'certs/server.key' } }],
          control: { port: 0 },
        },
      },
      { checks: configChecks, baseDir: d },
    );
    const sip = await startEmbeddedSipServer(config.sipServer, 'silent', silentLogger(), d);
    try {
      const port = sip.listeners[0]!.port;
      const a = await presented(port);
      expect(a.cn).toBe('first.test');
      a.socket.destroy();
      copyFileSync(second.cert, join(d, 'certs', 'server.pem'));
      copyFileSync(second.key, join(d, 'certs', 'server.key'));
      const results = await sip.reloadTls();
      expect(results).toEqual([{ listener: `wss/127.0.0.1:${port}`, result: { ok: true, notAfter: expect.any(String) as string } }]);
      const b = await presented(port);
      expect(b.cn).toBe('second.test');
      b.socket.destroy();
    } finally {
      await sip.stop();
    }
  });
});
