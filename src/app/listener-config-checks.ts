/**
 * The sockets one engine process opens, checked together because they come
 * from different sections: the SIP listeners, the drachtio control port, the
 * status endpoint, the API and rtpengine's notification ports. Two of them on
 * the same port of the same transport family (TCP: tcp, tls, ws, wss and the
 * HTTP servers; UDP) and overlapping addresses (the same address, or a
 * wildcard 0.0.0.0 / :: and anything) cannot both bind; UDP and TCP on one port
 * are fine, and port 0 (any free port) never collides. A SIP listener's host
 * must be an address: an IP literal, or localhost or this machine's own name.
 * Nothing is resolved or bound here: check-config may run on another machine,
 * so whether an address belongs to this one is left to start.
 */
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { forEachItem, skippingWithheld, type ConfigCheck, type SwitchboardConfig } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';

interface Socket {
  readonly path: string;
  readonly what: string;
  readonly family: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
}

function sockets(config: SwitchboardConfig): Socket[] {
  const out: Socket[] = [];
  const add = (path: string, what: string, family: 'tcp' | 'udp', host: string, port: number): void => {
    if (port !== 0) out.push({ path, what, family, host, port });
  };
  // A socket whose settings failed the schema is left out: that hides a collision at worst, never invents one.
  skippingWithheld(() => {
    if (!config.sipServer.embedded) return;
    forEachItem(config.sipServer.listen, (l, i) => add(`sipServer.listen[${i}]`, `the SIP ${l.transport} listener`, l.transport === 'udp' ? 'udp' : 'tcp', l.host, l.port));
    skippingWithheld(() => add('sipServer.control.port', 'the drachtio control port', 'tcp', config.sipServer.control.host, config.sipServer.control.port));
  });
  skippingWithheld(() => {
    const s = config.node.status;
    if (s.enabled) add('node.status.port', 'the status endpoint', 'tcp', s.host, s.port);
  });
  skippingWithheld(() => {
    if (config.api.enabled) add('api.port', 'the API', 'tcp', config.api.host, config.api.port);
  });
  skippingWithheld(() => {
    if (!config.media.enabled) return;
    const n = config.media.rtpengine.notifications;
    skippingWithheld(() => add('media.rtpengine.notifications.timeoutPort', "rtpengine's teardown notifications", 'tcp', n.host, n.timeoutPort));
    skippingWithheld(() => add('media.rtpengine.notifications.dtmfPort', "rtpengine's DTMF log", 'udp', n.host, n.dtmfPort));
  });
  return out;
}

function bare(host: string): string {
  return (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
}

/** Whether two bind addresses overlap: the same, or one is a wildcard that covers the other (:: also takes IPv4 on a dual-stack host). */
function overlap(a: string, b: string): boolean {
  const x = bare(a);
  const y = bare(b);
  if (x === y || x === '::' || y === '::') return true;
  if (x === '0.0.0.0') return isIP(y) !== 6;
  if (y === '0.0.0.0') return isIP(x) !== 6;
  return false;
}

function portProblems(config: SwitchboardConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const all = sockets(config);
  all.forEach((s, j) => {
    // Two SIP listeners are compared by the SIP server's own check (sipServer.listen).
    const other = all.slice(0, j).find((o) => o.family === s.family && o.port === s.port && overlap(o.host, s.host) && !(o.path.startsWith('sipServer.listen') && s.path.startsWith('sipServer.listen')));
    if (other !== undefined) {
      problems.push({ path: s.path, message: `${s.what} would use ${s.family.toUpperCase()} ${s.host}:${s.port}, which ${other.what} (${other.path}) already uses` });
    }
  });
  return problems;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function hostProblems(config: SwitchboardConfig): ConfigProblem[] {
  if (!config.sipServer.embedded) return [];
  const problems: ConfigProblem[] = [];
  const own = hostname().toLowerCase();
  forEachItem(config.sipServer.listen, (l, i) => {
    const h = bare(l.host);
    if (isIP(h) !== 0 || h === 'localhost' || h === own) return;
    const why = HOST_NAME.test(h) ? `"${l.host}" is a name, not an address of this machine (${own})` : `"${l.host}" is neither an IP address nor a host name`;
    problems.push({ path: `sipServer.listen[${i}].host`, message: `${why}: write the IPv4 or IPv6 address to bind (0.0.0.0 or :: for every address)` });
  });
  return problems;
}

export const listenerConfigChecks: readonly ConfigCheck[] = [
  { name: 'ports of the configured listeners', sections: ['sipServer', 'node', 'api', 'media'], check: portProblems },
  { name: 'SIP listener addresses', sections: ['sipServer'], check: hostProblems },
];
