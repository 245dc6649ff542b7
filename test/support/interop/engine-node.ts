/**
 * One Switchboard node (embedded SIP server + engine) for interop tests: UDP
 * and TCP on loopback, fresh ports unless given (a node restarted on its old
 * ports is how a proxy sees a node come back), the queues the test needs.
 */
import { startSwitchboard, type RunningSwitchboard } from '../../../src/app/switchboard.js';
import { loadConfigObject } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { eventually } from '../harness.js';
import { freePort } from '../sipp.js';
import { LateReaderProxy } from './late-reader-proxy.js';

export interface QueueSpec {
  readonly id: string;
  readonly numbers: readonly string[];
  readonly agents: readonly string[];
  readonly ringTimeoutSeconds?: number;
}

export interface EngineNodeOptions {
  readonly queues: readonly QueueSpec[];
  readonly host?: string;
  readonly udpPort?: number;
  readonly tcpPort?: number;
  /**
   * The engine reads its drachtio control socket through a relay that
   * delivers in batches this far apart (a busy app, see late-reader-proxy.ts).
   */
  readonly lateReadMs?: number;
  /** Further top-level configuration (agents that register, the registrar). */
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface EngineNode {
  readonly sb: RunningSwitchboard;
  readonly host: string;
  readonly udpPort: number;
  readonly tcpPort: number;
  /** The node as a SIP URI (what a dispatcher list names). */
  uri(transport: 'udp' | 'tcp'): string;
  /** Calls connected so far by this node's engine. */
  connected(): number;
  /** Resolves once no call, dialog or pending request is left on the node. */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

interface IdleStatus {
  engine: { liveCalls: number };
  sipServer: { dialogs: number; pendingAppRequests: number; pendingInvites: number };
}

export async function startEngineNode(o: EngineNodeOptions): Promise<EngineNode> {
  const host = o.host ?? '127.0.0.1';
  let relay: LateReaderProxy | undefined;
  let controlPort = 0;
  if (o.lateReadMs !== undefined) {
    controlPort = await freePort();
    relay = await LateReaderProxy.start({ host: '127.0.0.1', port: controlPort }, o.lateReadMs);
  }
  const config = loadConfigObject({
    node: { logLevel: 'silent', status: { enabled: false } },
    sipServer: {
      thread: 'inline',
      listen: [
        { transport: 'udp', host, port: o.udpPort ?? 0 },
        { transport: 'tcp', host, port: o.tcpPort ?? 0 },
      ],
      control: { port: controlPort },
      // Not what this tests: overload control's 503s on a busy machine would only make it flaky (tested in test/sip-server/conformance/overload.test.ts).
      overload: { enabled: false },
    },
    ...(relay !== undefined ? { drachtio: { host: '127.0.0.1', port: relay.port } } : {}),
    engine: { ringTimeoutSeconds: 20 },
    queues: o.queues.map((q) => ({ id: q.id, name: q.id, numbers: [...q.numbers], agents: [...q.agents], ...(q.ringTimeoutSeconds !== undefined ? { ringTimeoutSeconds: q.ringTimeoutSeconds } : {}) })),
    ...o.config,
  });
  // Signalling only: SDP passes through, so no media plane and no recordings worker.
  let sb: RunningSwitchboard;
  try {
    sb = await startSwitchboard(config, silentLogger(), { media: false, recordingsWorker: false });
  } catch (e) {
    await relay?.stop();
    throw e;
  }
  const udpPort = sb.sipListeners.find((l) => l.transport === 'udp')!.port;
  const tcpPort = sb.sipListeners.find((l) => l.transport === 'tcp')!.port;
  const uriHost = host.includes(':') ? `[${host}]` : host;
  let stopped = false;
  return {
    sb,
    host,
    udpPort,
    tcpPort,
    uri: (t) => (t === 'udp' ? `sip:${uriHost}:${udpPort}` : `sip:${uriHost}:${tcpPort};transport=tcp`),
    connected: () => sb.engine.status().callsConnected,
    idle: (timeoutMs = 10_000) =>
      eventually(
        async () => {
          const s = (await sb.status()) as unknown as IdleStatus;
          return s.engine.liveCalls === 0 && s.sipServer.dialogs === 0 && s.sipServer.pendingAppRequests === 0 && s.sipServer.pendingInvites === 0;
        },
        timeoutMs,
        'the node to have no call, dialog or pending request left',
      ),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await sb.stop();
      await relay?.stop();
    },
  };
}
