/**
 * sipsak against the engine: the OPTIONS ping monitoring systems and
 * carriers use (over UDP and TCP), and the modes that send odd-but-valid or
 * plainly hostile traffic: traceroute (Max-Forwards from 0 up, RFC 3261
 * §16.3 item 2 lets the final recipient of an OPTIONS answer at 0), a
 * hand-written request in unusual but valid form (§7.3.1: header names in any
 * case, spaces before the colon, folded values), a flood, and random trash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineNode, type EngineNode } from '../support/interop/engine-node.js';
import { sipsak } from '../support/interop/sipsak.js';
import { eventually } from '../support/harness.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface ServerCounts {
  sipServer: { messagesIn: number; malformed: number; pendingAppRequests: number };
}

describe('sipsak against the engine', () => {
  let node: EngineNode;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-sipsak-'));
    node = await startEngineNode({ queues: [{ id: 'q', numbers: ['1000'], agents: [] }] });
  });

  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const counts = async (): Promise<ServerCounts['sipServer']> => ((await node.sb.status()) as unknown as ServerCounts).sipServer;
  const target = (transport: 'udp' | 'tcp'): string[] => ['-s', `sip:1000@127.0.0.1:${transport === 'udp' ? node.udpPort : node.tcpPort}`, '-E', transport];

  for (const transport of ['udp', 'tcp'] as const) {
    it(`an OPTIONS ping over ${transport.toUpperCase()} gets 200 with the methods the engine allows`, async () => {
      const r = await sipsak([...target(transport), '-vv']);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toMatch(/^SIP\/2\.0 200 OK\r?$/m);
      const allow = /^Allow: (.*?)\r?$/m.exec(r.output)?.[1]?.split(/\s*,\s*/) ?? [];
      expect(allow).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'PRACK', 'UPDATE', 'INFO']));
      expect(r.output).toMatch(/^Supported: .*\b100rel\b/m);
    });

    it(`traceroute mode over ${transport.toUpperCase()}: the OPTIONS with Max-Forwards 0 is answered 200 at hop 0`, async () => {
      const r = await sipsak(['-T', ...target(transport)]);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toMatch(/^0: .*SIP\/2\.0 200 OK/m);
    });
  }

  it('a hand-written OPTIONS in unusual but valid form gets 200 that echoes both Vias and the CSeq', async () => {
    const file = join(dir, 'odd-options.sip');
    writeFileSync(
      file,
      [
        `OPTIONS sip:1000@127.0.0.1:${node.udpPort} SIP/2.0`,
        'via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlowerhop',
        'max-forwards:70',
        'to:   <sip:1000@127.0.0.1>',
        'from : "Odd but valid" <sip:odd@127.0.0.1>;tag=odd1',
        'Call-ID:  odd-call@127.0.0.1',
        'cSeq: 7   OPTIONS',
        'Subject: a header value',
        '  folded onto a second line',
        'Accept: application/sdp,',
        '\ttext/plain',
        'content-length: 0',
        '',
        '',
      ].join('\n'),
    );
    // sipsak inserts its own Via above ours and turns LF into CRLF.
    const r = await sipsak(['-f', file, '-s', `sip:1000@127.0.0.1:${node.udpPort}`, '-vv']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/^SIP\/2\.0 200 OK\r?$/m);
    expect(r.output).toMatch(/^via: SIP\/2\.0\/UDP 192\.0\.2\.1:5060;branch=z9hG4bKlowerhop\r?$/im);
    expect(r.output).toMatch(/^cseq: 7\s+OPTIONS\r?$/im);
  });

  it('flood mode: 300 OPTIONS back to back; the server keeps up, leaves nothing pending and still answers', async () => {
    const before = await counts();
    const r = await sipsak(['-F', '-e', '300', ...target('udp')]);
    expect(r.code, r.output).toBe(0);
    await eventually(async () => (await counts()).messagesIn > before.messagesIn, 10_000, 'the flood to arrive');
    await eventually(async () => (await counts()).pendingAppRequests === 0, 10_000, 'no request left waiting for the app');
    expect((await counts()).malformed).toBe(before.malformed);
    expect((await sipsak(target('udp'))).code).toBe(0);
  });

  it('random mode (characters of an OPTIONS trashed at random): what cannot be parsed is refused or dropped and the server keeps serving', async () => {
    const before = await counts();
    // sipsak stops at the first trashed request that gets no answer (exit 3), which is the expected
    // outcome when the damage leaves no usable Via or start line; it never sees a crash here.
    const r = await sipsak(['-R', '-t', '12', ...target('udp')], 30_000);
    expect([0, 3], r.output).toContain(r.code);
    expect((await counts()).malformed).toBeGreaterThan(before.malformed);
    const ping = await sipsak(target('udp'));
    expect(ping.code, ping.output).toBe(0);
    await eventually(async () => (await counts()).pendingAppRequests === 0, 10_000, 'no request left waiting for the app');
  });
});
