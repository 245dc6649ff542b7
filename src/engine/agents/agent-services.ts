/**
 * Agents, their waiting queues, the registrar of their devices, its
 * keep-alive and the feature codes, wired together for the engine: the
 * registrar's bindings make registered agents reachable (or not), agents
 * becoming available make the queues dispatch. Started after the engine is
 * connected to its SIP server (the registrar's stored registrations are
 * loaded first), stopped before it disconnects.
 */
import { join, resolve } from 'node:path';
import type { SwitchboardConfig } from '../../config/load.js';
import type { MediaService } from '../../media/index.js';
import { componentLogger, type Logger } from '../../observability/logger.js';
import { CallQueues, type QueueStats } from '../queues/call-queues.js';
import { isWaitingQueue, waitingOf } from '../queues/waiting-settings.js';
import { FileBindingStore, RedisBindingStore } from '../registrar/binding-store.js';
import { Credentials } from '../registrar/credentials.js';
import { KeepAlive } from '../registrar/keep-alive.js';
import { Registrar, type RegistrarStats } from '../registrar/registrar.js';
import type { Binding } from '../registrar/binding-table.js';
import { contactKey } from '../registrar/contact-list.js';
import type { DialTarget, InboundInvite, SipPort } from '../signaling/sip-port.js';
import { AgentRegistry, type AgentState } from './agent-registry.js';
import { FeatureCodes } from './feature-codes.js';

export interface AgentServicesDeps {
  readonly config: SwitchboardConfig;
  readonly sip: SipPort;
  readonly logger: Logger;
  /** Relative paths (password files, the registrations file) resolve against this. */
  readonly baseDir: string;
  readonly media?: MediaService | undefined;
  readonly now?: () => number;
}

export interface AgentServicesStatus {
  readonly agents: { readonly total: number } & Partial<Record<AgentState, number>>;
  readonly queues: readonly QueueStats[];
  readonly registrar: (RegistrarStats & { readonly keepAliveRounds: number }) | null;
}

export class AgentServices {
  readonly agents: AgentRegistry;
  readonly queues: CallQueues;
  readonly registrar: Registrar | undefined;
  readonly featureCodes: FeatureCodes | undefined;
  private readonly keepAlive: KeepAlive | undefined;

  constructor(private readonly deps: AgentServicesDeps) {
    const { config, logger } = deps;
    const now = deps.now ?? Date.now;
    this.agents = new AgentRegistry(config, componentLogger(logger, 'agents'), now);
    const waiting = config.queues.filter((q) => isWaitingQueue(config, q));
    this.queues = new CallQueues(
      this.agents,
      waiting.map((q) => {
        const w = waitingOf(q);
        return { id: q.id, name: q.name, priority: w.priority, maxWaitMs: w.maxWaitSeconds * 1000, wrapUpSeconds: w.wrapUpSeconds };
      }),
      now,
    );
    const credentials = new Credentials(config, deps.baseDir);
    const registers = config.agents.some((a) => a.device === 'registered');
    if (config.registrar.enabled && (registers || Object.keys(credentials.describe()).length > 0)) {
      const stateDir = resolve(deps.baseDir, config.node.stateDir);
      const store =
        config.registrar.store === 'redis'
          ? new RedisBindingStore(config.redis.url ?? '', config.redis.keyPrefix, componentLogger(logger, 'registrar'))
          : new FileBindingStore(resolve(deps.baseDir, config.registrar.file ?? join(stateDir, 'registrar', 'bindings.json')), componentLogger(logger, 'registrar'));
      this.registrar = new Registrar({ config, credentials, registers: (id) => this.agents.registers(id), store, logger: componentLogger(logger, 'registrar'), now });
      this.registrar.on('bindings', (agent, bindings) => this.agents.bindings(agent, bindings));
      const k = config.registrar.keepAlive;
      this.keepAlive = new KeepAlive(this.registrar, deps.sip, { intervalSeconds: k.intervalSeconds, timeoutSeconds: k.timeoutSeconds, failures: k.failures });
      this.featureCodes = new FeatureCodes({ config, agents: this.agents, registrar: this.registrar, credentials, media: deps.media, logger: componentLogger(logger, 'feature-codes') });
    }
  }

  /** The registrar REGISTER should reach, when some agent's device registers (otherwise no app routes REGISTER, and the SIP server answers it 405 with its own Allow). */
  get registrarInUse(): Registrar | undefined {
    return this.deps.config.agents.some((a) => a.device === 'registered') ? this.registrar : undefined;
  }

  async start(): Promise<void> {
    await this.registrar?.start();
    this.keepAlive?.start();
  }

  async stop(): Promise<void> {
    this.keepAlive?.stop();
    this.agents.close();
    await this.registrar?.stop();
  }

  /** True when `invite` dialled a feature code (then it is handled here). */
  featureCode(invite: InboundInvite, dialed: string): boolean {
    const code = this.featureCodes?.match(dialed);
    if (code === undefined) return false;
    void this.featureCodes!.handle(invite, code);
    return true;
  }

  /** Where to ring an agent: its static URI, or its registered contacts (all, or the newest). */
  targetsOf(agent: string): DialTarget[] {
    const a = this.deps.config.agents.find((x) => x.id === agent);
    if (a === undefined) return [];
    if (a.device !== 'registered') return [{ target: a.device }];
    return this.registrar?.targets(agent).map(reachOf) ?? [];
  }

  /**
   * Where to reach a device given as an address of record: `sip:<id>@...`
   * naming an agent (or a supervisor listed under agents with no queue) whose
   * phone registers is its newest registered contact (`contact: undefined`
   * while none is registered); undefined when `uri` names no such entry (it
   * is then dialled as given).
   */
  registeredContact(uri: string): { readonly id: string; readonly contact: DialTarget | undefined } | undefined {
    const user = /^sips?:([^@;?>]+)@/i.exec(uri)?.[1];
    const a = user === undefined ? undefined : this.deps.config.agents.find((x) => x.id === user && x.device === 'registered');
    if (a === undefined) return undefined;
    const newest = this.registrar?.targets(a.id)[0];
    return { id: a.id, contact: newest === undefined ? undefined : reachOf(newest) };
  }

  /**
   * A supervisor's monitor is calling `device` (an agent's registered address of record or its static
   * phone: a trainee listening in): that agent is offered no queue call until the returned function is
   * called. Undefined when the device is no agent's.
   */
  occupy(device: string): (() => void) | undefined {
    const key = contactKey(device);
    const id = this.registeredContact(device)?.id ?? this.deps.config.agents.find((a) => a.device !== 'registered' && contactKey(a.device) === key)?.id;
    return id === undefined ? undefined : this.agents.listen(id);
  }

  /** One keep-alive round now (tests; an operator's "check the phones"). */
  async keepAliveRound(): Promise<void> {
    await this.keepAlive?.round();
  }

  status(): AgentServicesStatus {
    const agents: Partial<Record<AgentState, number>> = {};
    for (const a of this.agents.list()) agents[a.state] = (agents[a.state] ?? 0) + 1;
    const reg = this.registrar?.stats();
    return {
      agents: { total: this.agents.size, ...agents },
      queues: this.queues.stats(),
      registrar: reg === undefined ? null : { ...reg, keepAliveRounds: this.keepAlive?.rounds ?? 0 },
    };
  }
}

/** A registered contact as a dial target: through its Path when it registered through proxies, at its source behind NAT. */
function reachOf(b: Binding): DialTarget {
  return { target: b.contact, ...(b.path !== undefined && b.path.length > 0 ? { route: b.path } : {}), ...(b.reachAt !== undefined ? { proxy: b.reachAt } : {}) };
}
