/**
 * Checks of the `sipServer` section that the schema cannot express, registered
 * in src/app/config-checks.ts so that one error lists every problem: a `tls`
 * or `wss` listener needs a certificate and key that can be read, parsed, are
 * valid today and belong together; TLS settings on another transport mean
 * nothing; client verification needs a CA; two listeners cannot share a
 * transport, address and port; session-timer values must fit together;
 * overload hysteresis needs each leave level below its enter level, or the
 * state would flap on every sample.
 */
import { forEachItem, type ConfigCheck } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';
import { tlsSettings } from './options-from-config.js';
import { loadTlsMaterial } from './transport/tls-credentials.js';

export const sipServerConfigChecks: readonly ConfigCheck[] = [
  {
    name: 'sip-server: session timers',
    sections: ['sipServer'],
    check(config) {
      const problems: ConfigProblem[] = [];
      const st = config.sipServer.sessionTimers;
      if (st.defaultSeconds < st.minSeconds) {
        problems.push({ path: 'sipServer.sessionTimers.defaultSeconds', message: `must be at least minSeconds (${st.minSeconds}): we would ask for less than we accept` });
      }
      // The refresher needs T1-scale time to get its refresh answered before the peer's expiry margin (RFC 4028 §10).
      const roundTripMs = 64 * config.sipServer.timers.t1Ms;
      if (st.enabled && st.minSeconds * 1000 < roundTripMs) {
        problems.push({ path: 'sipServer.sessionTimers.minSeconds', message: `must be at least 64·T1 (${roundTripMs / 1000} s) so a refresh transaction can finish within an interval` });
      }
      return problems;
    },
  },
  {
    name: 'sip-server: listeners and their TLS files',
    sections: ['sipServer'],
    check(config, context) {
      const problems: ConfigProblem[] = [];
      if (!config.sipServer.embedded) return problems;
      const baseDir = context?.baseDir ?? process.cwd();
      const seen = new Map<string, number>();
      forEachItem(config.sipServer.listen, (l, i) => {
        const path = `sipServer.listen[${i}]`;
        const secure = l.transport === 'tls' || l.transport === 'wss';
        // TCP, TLS, WS and WSS all need a TCP port of their own.
        const socket = l.transport === 'udp' ? 'udp' : 'tcp';
        const key = `${socket}/${l.host}/${l.port}`;
        if (l.port !== 0 && seen.has(key)) problems.push({ path, message: `uses the same ${socket.toUpperCase()} address and port as sipServer.listen[${seen.get(key)!}]` });
        seen.set(key, i);
        if (!secure) {
          if (l.tls !== undefined) problems.push({ path: `${path}.tls`, message: `TLS settings apply to tls and wss listeners only, not ${l.transport}` });
          return;
        }
        if (l.tls === undefined) {
          problems.push({ path, message: `a ${l.transport} listener needs tls.certFile and tls.keyFile` });
          return;
        }
        if (l.tls.verifyClient !== 'off' && l.tls.caFile === undefined) {
          problems.push({ path: `${path}.tls.caFile`, message: `verifyClient: ${l.tls.verifyClient} needs caFile, the CA that signs client certificates` });
        }
        const material = loadTlsMaterial(tlsSettings(l.tls, baseDir));
        if (Array.isArray(material)) for (const message of material) problems.push({ path: `${path}.tls`, message });
      });
      return problems;
    },
  },
  {
    name: 'overload hysteresis',
    sections: ['sipServer'],
    check(config) {
      const o = config.sipServer.overload;
      const problems: ConfigProblem[] = [];
      if (o.eventLoopLagLeaveMs >= o.eventLoopLagEnterMs) {
        problems.push({
          path: 'sipServer.overload.eventLoopLagLeaveMs',
          message: `must be below eventLoopLagEnterMs (${o.eventLoopLagEnterMs}), or the overload state would flap`,
        });
      }
      if (o.cpuEnterPercent > 0 && o.cpuLeavePercent >= o.cpuEnterPercent) {
        problems.push({ path: 'sipServer.overload.cpuLeavePercent', message: `must be below cpuEnterPercent (${o.cpuEnterPercent}), or the overload state would flap` });
      }
      return problems;
    },
  },
];
