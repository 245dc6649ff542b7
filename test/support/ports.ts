/**
 * Ports for tests that cannot race between test files running in parallel.
 *
 * Binding port 0 and releasing it ("a free port") races: between the release
 * and the real bind, another test file (vitest runs files in parallel, one
 * process each) or any socket the OS gives an ephemeral port may take it.
 * Instead, every test process claims a block of ports of its own, below the
 * OS's ephemeral range (32768–60999 on Debian, see
 * /proc/sys/net/ipv4/ip_local_port_range), so that the OS never hands them
 * out and no other test process uses them:
 *
 * - the test range is 10000–31999 (or SWITCHBOARD_TEST_PORTS), cut into blocks of {@link BLOCK_SIZE};
 * - a process claims a block by listening on its first port (the sentinel) on
 *   127.0.0.1: binding is atomic and the kernel releases it when the process
 *   exits, so two processes can never hold one block, whichever vitest run,
 *   worktree or worker they come from. A worker starts with block
 *   `VITEST_POOL_ID - 1` and moves on while a block is taken;
 * - inside its block a process hands out ports in order (from a random
 *   starting point, wrapping), each slot four ports wide and even, so a port
 *   can serve as RTP (RTCP on +1) and as SIPp's `-mp` (SIPp also binds +2);
 *   a port is handed out only if it binds now for both TCP and UDP, so what
 *   an earlier test left running is skipped;
 * - port ranges (rtpengine's portMin–portMax) come from the same block.
 *
 * The vitest setup file (test/support/port-block-setup.ts) claims the block
 * before a test file loads, so synchronous callers ({@link reservePortRange})
 * have it; scripts outside vitest (bench/) claim it on first use.
 * test/README.md describes the scheme.
 */
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';

/**
 * The test range: 10000–31999 (well above the fixed ports people run by hand: 5060, 6000, 8888, 9022,
 * 9091; below the ephemeral range's 32768), or `SWITCHBOARD_TEST_PORTS=FIRST-LAST` for a machine where
 * another range was given out (a benchmark on a shared host; blocks are then at most that range).
 */
function testRange(): { first: number; end: number; block: number } {
  const text = process.env.SWITCHBOARD_TEST_PORTS;
  if (text === undefined || text.trim() === '') return { first: 10_000, end: 32_000, block: 2_000 };
  const m = /^\s*(\d{4,5})\s*-\s*(\d{4,5})\s*$/.exec(text);
  const [first, last] = m === null ? [NaN, NaN] : [Number(m[1]), Number(m[2])];
  if (!(first >= 1024 && last <= 65535 && last - first + 1 >= 200)) {
    throw new Error(`SWITCHBOARD_TEST_PORTS must be FIRST-LAST, at least 200 ports within 1024-65535 (e.g. 7300-8199); got "${text}"`);
  }
  return { first, end: last + 1, block: Math.min(2_000, last + 1 - first) };
}
const RANGE = testRange();
/** First port of the test range. */
export const TEST_PORT_FIRST = RANGE.first;
/** One past the last port of the test range. */
export const TEST_PORT_END = RANGE.end;
/** Ports per test process. */
export const BLOCK_SIZE = RANGE.block;
/** Ports per handed-out port (p, p+1 for RTCP, p+2 and p+3 for SIPp's second media socket). */
const SLOT = 4;

export interface PortBlock {
  readonly index: number;
  /** The sentinel port (held while the process lives). */
  readonly first: number;
  /** One past the block's last port. */
  readonly end: number;
}

interface BlockState {
  block: PortBlock;
  sentinel: Server;
  /** Next port to try, as an offset from the block's first usable port. */
  cursor: number;
}

/** Kept on globalThis: one claim per process even if this module is loaded twice. */
const KEY = Symbol.for('switchboard.test.portBlock');
type Holder = { [KEY]?: BlockState | Promise<BlockState> };
const holder = globalThis as Holder;

const BLOCKS = Math.floor((TEST_PORT_END - TEST_PORT_FIRST) / BLOCK_SIZE);
/** Usable ports of a block: after the sentinel, even-aligned. */
const USABLE_FIRST = 4;
const USABLE = BLOCK_SIZE - USABLE_FIRST;

function listenOnce(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
}

async function claim(): Promise<BlockState> {
  const pool = Number(process.env.VITEST_POOL_ID ?? '1');
  const start = Number.isInteger(pool) && pool >= 1 ? (pool - 1) % BLOCKS : 0;
  for (let i = 0; i < BLOCKS; i++) {
    const index = (start + i) % BLOCKS;
    const first = TEST_PORT_FIRST + index * BLOCK_SIZE;
    const sentinel = await listenOnce(first);
    if (sentinel === undefined) continue;
    // It must not keep the process alive; children never inherit it (libuv opens sockets close-on-exec).
    sentinel.unref();
    return { block: { index, first, end: first + BLOCK_SIZE }, sentinel, cursor: randomInt(0, USABLE / SLOT) * SLOT };
  }
  throw new Error(`every test port block (${BLOCKS} of ${BLOCK_SIZE} ports in ${TEST_PORT_FIRST}-${TEST_PORT_END - 1}) is held by another process; too many test runs at once?`);
}

/** Claims this process's port block (once; later calls return the same block). */
export async function claimPortBlock(): Promise<PortBlock> {
  const held = holder[KEY];
  if (held !== undefined) return (await held).block;
  const claiming = claim();
  holder[KEY] = claiming;
  try {
    const state = await claiming;
    holder[KEY] = state;
    return state.block;
  } catch (e) {
    delete holder[KEY];
    throw e;
  }
}

/** The block already claimed, if any (synchronous). */
function claimedState(): BlockState | undefined {
  const held = holder[KEY];
  return held === undefined || held instanceof Promise ? undefined : held;
}

async function state(): Promise<BlockState> {
  await claimPortBlock();
  return claimedState()!;
}

/** Takes `count` consecutive ports (rounded up to whole slots) from the block; wraps at its end. */
function take(s: BlockState, count: number): number {
  const size = Math.ceil(count / SLOT) * SLOT;
  if (size > USABLE) throw new Error(`a range of ${count} ports does not fit a test port block of ${BLOCK_SIZE}`);
  if (s.cursor + size > USABLE) s.cursor = 0;
  const port = s.block.first + USABLE_FIRST + s.cursor;
  s.cursor += size;
  return port;
}

function bindsTcp(port: number): Promise<boolean> {
  return listenOnce(port).then((s) => (s === undefined ? false : new Promise<boolean>((r) => s.close(() => r(true)))));
}

function bindsUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const u = createSocket('udp4');
    u.once('error', () => {
      u.close();
      resolve(false);
    });
    u.bind({ port, address: '127.0.0.1', exclusive: true }, () => u.close(() => resolve(true)));
  });
}

/**
 * A port of this process's block that is free now for TCP and UDP on 127.0.0.1, with the next
 * three ports reserved with it (p+1 for RTCP, p+2 for SIPp's second media socket, also checked).
 */
export async function allocatePort(): Promise<number> {
  const s = await state();
  for (let tries = 0; tries < USABLE / SLOT; tries++) {
    const port = take(s, SLOT);
    if ((await bindsTcp(port)) && (await bindsUdp(port)) && (await bindsUdp(port + 2))) return port;
  }
  throw new Error(`no free port left in test port block ${s.block.first}-${s.block.end - 1}`);
}

/**
 * `size` consecutive ports of this process's block (even start), for a daemon that
 * picks its own ports in a range (rtpengine's portMin–portMax). Synchronous, so not
 * bind-checked: such daemons skip a port in use. Needs the block claimed (the vitest
 * setup does); outside vitest, before any claim, it falls back to a random range
 * in the test range (bench scripts).
 */
export function reservePortRange(size: number): { portMin: number; portMax: number } {
  const s = claimedState();
  if (s === undefined) {
    const slots = Math.floor((TEST_PORT_END - TEST_PORT_FIRST) / size);
    const portMin = TEST_PORT_FIRST + randomInt(0, slots) * size;
    return { portMin: portMin - (portMin % 2), portMax: portMin - (portMin % 2) + size - 1 };
  }
  const portMin = take(s, size);
  return { portMin, portMax: portMin + size - 1 };
}

/** Like {@link reservePortRange}, after claiming the block if need be. */
export async function allocatePortRange(size: number): Promise<{ portMin: number; portMax: number }> {
  await state();
  return reservePortRange(size);
}
