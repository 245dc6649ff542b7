/** Maps the `sipServer` configuration section onto the server's options. */
import { isAbsolute, resolve } from 'node:path';
import type { DeepReadonly } from '../config/load.js';
import type { SipServerConfig } from '../config/schema/index.js';
import type { Logger } from '../observability/logger.js';
import type { SipServerOptions } from './sip-server.js';
import type { TlsSettings } from './transport/tls-credentials.js';

type ListenerTlsConfig = NonNullable<DeepReadonly<SipServerConfig>['listen'][number]['tls']>;

/** A listener's TLS settings with file paths resolved against `baseDir` (the config file's folder). */
export function tlsSettings(t: ListenerTlsConfig, baseDir: string): TlsSettings {
  const at = (f: string): string => (isAbsolute(f) ? f : resolve(baseDir, f));
  return {
    certFile: at(t.certFile),
    keyFile: at(t.keyFile),
    ...(t.caFile !== undefined ? { caFile: at(t.caFile) } : {}),
    verifyClient: t.verifyClient,
    verifyServer: t.verifyServer,
    minVersion: t.minVersion,
  };
}

export function sipServerOptions(cfg: DeepReadonly<SipServerConfig>, logger: Logger, baseDir: string = process.cwd()): SipServerOptions {
  const c = cfg.connections;
  return {
    listen: cfg.listen.map((l) => ({
      transport: l.transport,
      host: l.host,
      port: l.port,
      advertisedHost: l.advertisedHost,
      ...(l.tls !== undefined ? { tls: tlsSettings(l.tls, baseDir) } : {}),
    })),
    control: { host: cfg.control.host, port: cfg.control.port, secret: cfg.control.secret },
    timers: { t1Ms: cfg.timers.t1Ms, t2Ms: cfg.timers.t2Ms, t4Ms: cfg.timers.t4Ms, appResponseTimeoutMs: cfg.timers.appResponseTimeoutMs },
    maxMessageBytes: cfg.maxMessageBytes,
    connections: {
      maxConnections: c.maxPerListener,
      maxPerSource: c.maxPerSource,
      idleTimeoutMs: c.idleTimeoutSeconds * 1000,
      handshakeTimeoutMs: c.handshakeTimeoutSeconds * 1000,
      keepAliveMs: c.keepAliveSeconds * 1000,
    },
    maxPendingInvites: cfg.maxPendingInvites,
    cdrs: cfg.cdrs,
    userAgent: cfg.userAgent,
    sessionTimers: { enabled: cfg.sessionTimers.enabled, defaultSeconds: cfg.sessionTimers.defaultSeconds, minSeconds: cfg.sessionTimers.minSeconds },
    uas: { allow: cfg.uas.allowMethods, bodies: cfg.uas.bodyTypes },
    overload: {
      enabled: cfg.overload.enabled,
      sampleIntervalMs: cfg.overload.sampleIntervalMs,
      lagEnterMs: cfg.overload.eventLoopLagEnterMs,
      lagLeaveMs: cfg.overload.eventLoopLagLeaveMs,
      cpuEnterPercent: cfg.overload.cpuEnterPercent,
      cpuLeavePercent: cfg.overload.cpuLeavePercent,
      cpuMinWaitingInvites: cfg.overload.cpuMinWaitingInvites,
      retryAfterSeconds: cfg.overload.retryAfterSeconds,
      leaveAfterMs: cfg.overload.leaveAfterMs,
    },
    sourceFilter: {
      scannerUserAgents: cfg.scanners.userAgents,
      scannerAction: cfg.scanners.action,
      ratePerSecond: cfg.rateLimit.perSourcePerSecond,
      burst: cfg.rateLimit.burst,
      maxSources: cfg.rateLimit.maxSources,
    },
    logger,
  };
}
