/**
 * Where UDP packets were dropped on this machine: the kernel counts, per
 * socket, the datagrams it discarded because the socket's receive buffer was
 * full (the last column of /proc/net/udp and /proc/net/udp6). Mapping each
 * socket to the process holding it (/proc/PID/fd) tells whether a loss was the
 * system under test (rtpengine, the engine) or the load generator's own
 * sockets, which a packet count at the endpoints cannot tell apart.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Datagrams dropped so far, by socket inode. */
export type SocketDrops = ReadonlyMap<string, number>;

/** Every UDP socket on this machine: inode, local port, datagrams dropped so far. */
function udpSockets(): { inode: string; port: number; drops: number }[] {
  const out: { inode: string; port: number; drops: number }[] = [];
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local(addr:port) rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      const f = line.trim().split(/\s+/);
      if (f.length >= 13) out.push({ inode: f[9]!, port: parseInt(f[1]!.slice(f[1]!.lastIndexOf(':') + 1), 16), drops: Number(f[f.length - 1]) });
    }
  }
  return out;
}

export function socketDrops(): SocketDrops {
  return new Map(udpSockets().map((s) => [s.inode, s.drops]));
}

/**
 * Datagrams dropped so far at the UDP socket bound to `port` on this machine (0 when none is), for a
 * socket that will be closed before dropsSince() could see it (a probe's).
 */
export function dropsAtPort(port: number): number {
  return udpSockets()
    .filter((s) => s.port === port)
    .reduce((sum, s) => sum + s.drops, 0);
}

/** The process holding each socket inode (for the processes this user may read). */
function socketOwners(): Map<string, number> {
  const owners = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or not ours
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m !== null) owners.set(m[1]!, Number(entry));
      } catch {
        // closed meanwhile
      }
    }
  }
  return owners;
}

/**
 * Drops between `before` and now, summed per group of processes (`groups`
 * maps a name to its pids); sockets of other processes are not counted.
 * Sockets opened after `before` count from zero; sockets closed meanwhile are
 * not seen, so read this while the sockets of interest are still open (or
 * read a short-lived socket's own count with dropsAtPort before it closes).
 */
export function dropsSince(before: SocketDrops, groups: Readonly<Record<string, readonly number[]>>): Record<string, number> {
  const now = socketDrops();
  const owners = socketOwners();
  const groupOf = new Map<number, string>();
  for (const [name, pids] of Object.entries(groups)) for (const pid of pids) groupOf.set(pid, name);
  const out: Record<string, number> = Object.fromEntries(Object.keys(groups).map((k) => [k, 0]));
  for (const [inode, count] of now) {
    const delta = count - (before.get(inode) ?? 0);
    if (delta <= 0) continue;
    const pid = owners.get(inode);
    const group = pid !== undefined ? groupOf.get(pid) : undefined;
    if (group !== undefined) out[group]! += delta;
  }
  return out;
}
