/**
 * The policy: is this queue open right now for this channel and language, and
 * if not, what happens instead? Pure functions of (config, instant, state):
 * the caller passes the instant and the logged-in queues; nothing here reads
 * a clock or does I/O.
 *
 * Evaluation order for one contact (docs/policy.md):
 *   1. emergency override (queue, its menus, global; the nearest active one)
 *   2. the schedule that applies (schedule-scope.ts) and, inside it,
 *      an exception covering the local date, else the weekly hours
 *   3. when closed: the deflection (deflection.ts)
 */
import { ConfigError, ErrorCodes, SwitchboardError } from '../errors.js';
import type { SwitchboardConfig } from '../config/load.js';
import { CHANNELS, type Channel } from '../config/schema/policy.js';
import { checkPolicy } from './checks/index.js';
import type {
  Decision,
  DecisionReason,
  DecisionRequest,
  ScheduledCallSlot,
  SlotsRequest,
  TransferRequest,
  TransferTarget,
  TransferTargets,
} from './decision.js';
import { closedOutcome, deflectionEnabled, kindOf } from './deflection.js';
import { activeEmergency, type ActiveEmergency } from './emergency.js';
import { isLanguageTag } from './languages.js';
import { buildQueueTree, type Queue, type QueueTree } from './queue-tree.js';
import { scheduledCallSlots } from './scheduled-call-slots.js';
import { compileSchedule, type CompiledSchedule } from './schedule.js';
import { chooseSchedule, type ScheduleChoice } from './schedule-scope.js';
import { didYouMean } from './suggest.js';
import { exceptionAt, scheduleState } from './timeline.js';
import { formatInstant } from './time-zone.js';
import { classifyTransferTarget } from './transfer-targets.js';

export interface Policy {
  /** Open, or closed with the action to take, the message and the next opening. */
  decide(request: DecisionRequest): Decision;
  /** The queues an agent handling a contact in `request.queue` may transfer it to. */
  transferTargets(request: TransferRequest): TransferTargets;
  /** The next bookable scheduled-call slots inside the queue's hours. */
  scheduledCallSlots(request: SlotsRequest): ScheduledCallSlot[];
}

interface HoursStatus {
  readonly queue: Queue;
  readonly channel: Channel;
  readonly language: string;
  readonly atMs: number;
  readonly choice: ScheduleChoice;
  readonly schedule: CompiledSchedule | undefined;
  readonly emergency: ActiveEmergency | undefined;
  readonly open: boolean;
  readonly reason: DecisionReason;
  readonly nextOpen: number | null;
  readonly closesAt: number | null;
}

function instantOf(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  if (!Number.isFinite(ms)) throw new SwitchboardError(ErrorCodes.POLICY_BAD_REQUEST, 'the instant to decide for is not a valid time');
  return ms;
}

/**
 * Builds the policy for a configuration. The policy's config checks run
 * first: a configuration they reject throws ConfigError here, so every
 * decision works on references that exist.
 */
export function createPolicy(config: SwitchboardConfig): Policy {
  const problems = checkPolicy(config);
  if (problems.length > 0) throw new ConfigError(problems);
  const tree: QueueTree = buildQueueTree(config.queues);
  const compiled = new Map<string, CompiledSchedule>();

  const scheduleFor = (choice: ScheduleChoice): CompiledSchedule | undefined => {
    if (choice.scheduleId === undefined) return undefined;
    const key = `${choice.scheduleId}|${choice.folders.join(',')}`;
    let s = compiled.get(key);
    if (s === undefined) {
      const def = config.schedules.find((x) => x.id === choice.scheduleId);
      if (def === undefined) throw new ConfigError([{ path: choice.scope, message: `unknown schedule "${choice.scheduleId}"` }]);
      const folders = choice.folders.flatMap((id) => config.exceptions.filter((f) => f.id === id));
      s = compileSchedule(def, folders);
      compiled.set(key, s);
    }
    return s;
  };

  const queueOf = (id: string): Queue => {
    const q = tree.get(id);
    if (q === undefined) {
      throw new SwitchboardError(
        ErrorCodes.POLICY_UNKNOWN_QUEUE,
        `unknown queue "${id}"${didYouMean(id, tree.queues.map((x) => x.id))}; queues: ${tree.queues.map((x) => x.id).join(', ') || '(none)'}`,
      );
    }
    return q;
  };

  const checkChannel = (channel: string): Channel => {
    if (!(CHANNELS as readonly string[]).includes(channel)) {
      throw new SwitchboardError(ErrorCodes.POLICY_BAD_REQUEST, `unknown channel "${channel}"; expected one of: ${CHANNELS.join(', ')}`);
    }
    return channel as Channel;
  };

  const checkLanguage = (language: string | undefined): string => {
    const lang = language ?? config.deflection.defaultLanguage;
    if (!isLanguageTag(lang)) throw new SwitchboardError(ErrorCodes.POLICY_BAD_REQUEST, `"${lang}" is not a language tag such as en, en-US or id`);
    return lang;
  };

  const hoursStatus = (queue: Queue, channel: Channel, language: string, atMs: number): HoursStatus => {
    const choice = chooseSchedule(config, tree, queue.id, channel, language);
    const schedule = scheduleFor(choice);
    const emergency = activeEmergency(config, tree, queue.id, atMs);
    const base = { queue, channel, language, atMs, choice, schedule, emergency };
    // The schedule's own state at an instant; no schedule = always open.
    const stateAt = (ms: number) => (schedule === undefined ? { open: true as const, closesAt: null } : scheduleState(schedule, ms));
    if (emergency !== undefined) {
      const after = emergency.until === undefined ? undefined : stateAt(emergency.until);
      if (emergency.force === 'open') {
        const closesAt = after === undefined ? null : after.open ? after.closesAt : emergency.until!;
        return { ...base, open: true, reason: 'emergency', nextOpen: null, closesAt };
      }
      const nextOpen = after === undefined ? null : after.open ? emergency.until! : after.nextOpen;
      return { ...base, open: false, reason: 'emergency', nextOpen, closesAt: null };
    }
    if (schedule === undefined) return { ...base, open: true, reason: 'no-schedule', nextOpen: null, closesAt: null };
    const state = scheduleState(schedule, atMs);
    const reason: DecisionReason = exceptionAt(schedule, atMs) !== undefined ? 'exception' : 'weekly-hours';
    return state.open
      ? { ...base, open: true, reason, nextOpen: null, closesAt: state.closesAt }
      : { ...base, open: false, reason, nextOpen: state.nextOpen, closesAt: null };
  };

  const slotsFor = (status: HoursStatus, count: number | undefined): ScheduledCallSlot[] => {
    const sc = config.deflection.scheduledCalls;
    return scheduledCallSlots(status.schedule, {
      atMs: status.atMs,
      slotMinutes: status.queue.scheduledCalls?.slotMinutes ?? sc.slotMinutes,
      leadMinutes: sc.leadMinutes,
      count: count ?? sc.offerCount,
      emergency: status.emergency,
    });
  };

  const servedChannel = (queue: Queue, channel: Channel): void => {
    if (!tree.serves(queue, channel)) {
      throw new SwitchboardError(
        ErrorCodes.POLICY_CHANNEL_NOT_SERVED,
        `queue "${queue.id}" does not serve ${channel} (its channels: ${tree.channels(queue).join(', ')})`,
      );
    }
  };

  /** What every policy question starts with: the instant, a known queue serving a known channel, the language. */
  const subject = (request: { at: Date | number; queue: string; channel: string; language?: string | undefined }) => {
    const atMs = instantOf(request.at);
    const queue = queueOf(request.queue);
    const channel = checkChannel(request.channel);
    servedChannel(queue, channel);
    return { atMs, queue, channel, language: checkLanguage(request.language) };
  };

  return {
    decide(request) {
      const { atMs, queue, channel, language } = subject(request);
      const status = hoursStatus(queue, channel, language, atMs);
      const zone = status.schedule?.zone ?? 'UTC';
      const fmt = (ms: number | null): string | null => (ms === null ? null : formatInstant(zone, ms));
      const exception = status.schedule === undefined ? undefined : exceptionAt(status.schedule, atMs);
      const em = status.emergency;
      const common = {
        nextOpen: fmt(status.nextOpen),
        closesAt: fmt(status.closesAt),
        queue: queue.id,
        menuPath: tree.menuPath(queue.id),
        channel,
        language,
        at: formatInstant(zone, atMs),
        reason: status.reason,
        schedule: status.schedule === undefined ? null : { id: status.schedule.id, timeZone: zone, scope: status.choice.scope },
        exception: exception === undefined ? null : { folder: exception.folder, name: exception.name },
        emergency:
          em === undefined
            ? null
            : { force: em.force, scope: em.scope, reason: em.config.reason ?? null, until: em.until === undefined ? null : fmt(em.until) },
      };
      if (status.open) {
        return { open: true, action: 'enqueue', target: { queue: queue.id }, deflection: null, message: null, note: null, ...common };
      }
      const outcome = closedOutcome({
        config,
        queue,
        queuePath: `queues[${tree.indexOf(queue.id)}]`,
        channel,
        language,
        emergency: em,
        nextOpen: common.nextOpen,
        slots: () => slotsFor(status, undefined),
      });
      // Key order is for people reading the JSON: the answer first, then why.
      return { open: false, ...outcome, ...common };
    },

    transferTargets(request) {
      const { atMs, queue: from, channel, language } = subject(request);
      const loggedIn = new Set(request.loggedIn ?? []);
      const kind = kindOf(channel);
      const d = config.deflection;
      const allowOutsideHours = kind === 'calls' ? d.calls.allowTransferOutsideHours : !d.chat.enabled && d.chat.allowTransferOutsideHours;
      const visible: TransferTarget[] = [];
      const hidden: TransferTarget[] = [];
      for (const q of tree.queues) {
        if (q.id === from.id || tree.get(q.id) !== q || !tree.isLeaf(q.id) || !tree.serves(q, channel)) continue;
        const status = hoursStatus(q, channel, language, atMs);
        const verdict = classifyTransferTarget({
          open: status.open,
          virtualAgent: q.virtualAgent?.availability,
          deflectionEnabled: deflectionEnabled(config, q, channel),
          agentsLoggedIn: loggedIn.has(q.id),
          allowOutsideHours,
        });
        const target: TransferTarget = { queue: q.id, name: q.name, menuPath: tree.menuPath(q.id), open: status.open, rule: verdict.rule };
        (verdict.visible ? visible : hidden).push(target);
      }
      const fromStatus = hoursStatus(from, channel, language, atMs);
      return { kind, allowOutsideHours, at: formatInstant(fromStatus.schedule?.zone ?? 'UTC', atMs), visible, hidden };
    },

    scheduledCallSlots(request) {
      const { atMs, queue, channel, language } = subject(request);
      if (request.count !== undefined && (!Number.isInteger(request.count) || request.count < 1 || request.count > 500)) {
        throw new SwitchboardError(ErrorCodes.POLICY_BAD_REQUEST, `slot count must be a whole number from 1 to 500, got ${request.count}`);
      }
      return slotsFor(hoursStatus(queue, channel, language, atMs), request.count);
    },
  };
}
