/** Maps the `sipServer` configuration section onto the server's options. */
import type { DeepReadonly } from '../config/load.js';
import type { SipServerConfig } from '../config/schema/index.js';
import type { Logger } from '../observability/logger.js';
import type { SipServerOptions } from './sip-server.js';

export function sipServerOptions(cfg: DeepReadonly<SipServerConfig>, logger: Logger): SipServerOptions {
  return {
    listen: cfg.listen.map((l) => ({ transport: l.transport, host: l.host, port: l.port, advertisedHost: l.advertisedHost })),
    control: { host: cfg.control.host, port: cfg.control.port, secret: cfg.control.secret },
    timers: { t1Ms: cfg.timers.t1Ms, t2Ms: cfg.timers.t2Ms, t4Ms: cfg.timers.t4Ms, appResponseTimeoutMs: cfg.timers.appResponseTimeoutMs },
    maxMessageBytes: cfg.maxMessageBytes,
    maxPendingInvites: cfg.maxPendingInvites,
    cdrs: cfg.cdrs,
    userAgent: cfg.userAgent,
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
