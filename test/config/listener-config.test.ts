/** check-config knows the sockets one process opens, and static target lists, without binding or resolving anything. */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

function problemsOf(yaml: string): string[] {
  try {
    loadConfigText(yaml, { checks: configChecks });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('listener ports and addresses', () => {
  it('the SIP listeners, control port, status endpoint and API may not share a TCP address and port', () => {
    const got = problemsOf(
      [
        'node: { status: { host: 127.0.0.1, port: 22095 } }',
        'sipServer:',
        '  listen:',
        '    - { transport: udp, host: 127.0.0.1, port: 22160 }',
        '    - { transport: tcp, host: 127.0.0.1, port: 22095 }',
        '    - { transport: tls, host: 0.0.0.0, port: 22161, tls: { certFile: x.pem, keyFile: x.key } }',
        '  control: { host: 127.0.0.1, port: 22161 }',
        'api: { enabled: true, host: 127.0.0.1, port: 22095 }',
      ].join('\n'),
    ).filter((p) => !p.includes('.tls'));
    expect(got).toEqual([
      'sipServer.control.port: the drachtio control port would use TCP 127.0.0.1:22161, which the SIP tls listener (sipServer.listen[2]) already uses',
      'node.status.port: the status endpoint would use TCP 127.0.0.1:22095, which the SIP tcp listener (sipServer.listen[1]) already uses',
      'api.port: the API would use TCP 127.0.0.1:22095, which the SIP tcp listener (sipServer.listen[1]) already uses',
    ]);
  });

  it('UDP and TCP on one port, different addresses, and port 0 are fine', () => {
    expect(
      problemsOf(
        [
          'node: { status: { host: 127.0.0.2, port: 5060 } }',
          'sipServer:',
          '  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }, { transport: tcp, host: 127.0.0.1, port: 5060 }]',
          '  control: { port: 0 }',
          'api: { enabled: true, port: 0 }',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('a SIP listener host must be an address (or localhost, or this machine\'s name)', () => {
    const got = problemsOf(
      [
        'sipServer:',
        '  listen:',
        '    - { transport: udp, host: not-a-host, port: 5060 }',
        '    - { transport: udp, host: "bad host!", port: 5070 }',
        '    - { transport: udp, host: "::1", port: 5060 }',
        '    - { transport: udp, host: localhost, port: 5080 }',
        `    - { transport: udp, host: "${hostname()}", port: 5090 }`,
      ].join('\n'),
    );
    expect(got).toEqual([
      `sipServer.listen[0].host: "not-a-host" is a name, not an address of this machine (${hostname().toLowerCase()}): write the IPv4 or IPv6 address to bind (0.0.0.0 or :: for every address)`,
      'sipServer.listen[1].host: "bad host!" is neither an IP address nor a host name: write the IPv4 or IPv6 address to bind (0.0.0.0 or :: for every address)',
    ]);
  });
});

describe('static target lists', () => {
  it('a queue names each agent URI once', () => {
    expect(problemsOf('queues: [{ id: q, name: Q, numbers: ["1"], agents: ["sip:a@127.0.0.1", "sip:b@127.0.0.1", "sip:a@127.0.0.1"] }]\n')).toEqual([
      'queues[0].agents[2]: sip:a@127.0.0.1 is listed twice (also agents[0]); a target is rung once',
    ]);
  });
});
