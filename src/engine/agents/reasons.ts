/** The not-ready reasons only the engine sets (docs/agents.md, the state table). */

/** The agent did not take a call offered to it. */
export const MISSED = 'missed';
/** A registered agent with no live registration: ready again by itself when its phone registers. */
export const UNREACHABLE = 'unreachable';
/** Both: a person's not-ready with one of them would be taken for the engine's (and "unreachable" would not hold). */
export const ENGINE_REASONS: readonly string[] = [MISSED, UNREACHABLE];
