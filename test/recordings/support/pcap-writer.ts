/**
 * Writes pcap files for tests: the link types rtpengine (raw IPv4, 101) and
 * other capture tools (Ethernet 1, Linux cooked SLL 113 / SLL2 276, BSD
 * loopback 0) produce, either byte order, micro- or nanosecond timestamps.
 */
import { writeFileSync } from 'node:fs';

export type LinkKind = 'raw' | 'ethernet' | 'sll' | 'sll2' | 'null';

const LINK_TYPES: Record<LinkKind, number> = { raw: 101, ethernet: 1, sll: 113, sll2: 276, null: 0 };

export interface UdpSpec {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

function ipBytes(addr: string): Buffer {
  if (addr.includes(':')) {
    const [head, tail] = addr.split('::') as [string, string | undefined];
    const h = head === '' ? [] : head.split(':');
    const t = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
    return b;
  }
  return Buffer.from(addr.split('.').map(Number));
}

export function ipUdp(u: UdpSpec): Buffer {
  const udp = Buffer.alloc(8 + u.payload.length);
  udp.writeUInt16BE(u.srcPort, 0);
  udp.writeUInt16BE(u.dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  Buffer.from(u.payload).copy(udp, 8);
  if (u.src.includes(':')) {
    const ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(udp.length, 4);
    ip[6] = 17;
    ip[7] = 64;
    ipBytes(u.src).copy(ip, 8);
    ipBytes(u.dst).copy(ip, 24);
    return Buffer.concat([ip, udp]);
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udp.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ipBytes(u.src).copy(ip, 12);
  ipBytes(u.dst).copy(ip, 16);
  return Buffer.concat([ip, udp]);
}

function frame(kind: LinkKind, ip: Buffer, v6: boolean, bigEndian: boolean): Buffer {
  const ethertype = v6 ? 0x86dd : 0x0800;
  switch (kind) {
    case 'raw':
      return ip;
    case 'ethernet': {
      const h = Buffer.alloc(14);
      h.set([2, 0, 0, 0, 0, 1], 0);
      h.set([2, 0, 0, 0, 0, 2], 6);
      h.writeUInt16BE(ethertype, 12);
      return Buffer.concat([h, ip]);
    }
    case 'sll': {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0);
      h.writeUInt16BE(772, 2);
      h.writeUInt16BE(6, 4);
      h.writeUInt16BE(ethertype, 14);
      return Buffer.concat([h, ip]);
    }
    case 'sll2': {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(ethertype, 0);
      h.writeUInt32BE(1, 4);
      h.writeUInt16BE(772, 8);
      h[11] = 6;
      return Buffer.concat([h, ip]);
    }
    case 'null': {
      const h = Buffer.alloc(4);
      const family = v6 ? 30 : 2;
      if (bigEndian) h.writeUInt32BE(family, 0);
      else h.writeUInt32LE(family, 0);
      return Buffer.concat([h, ip]);
    }
  }
}

export interface PcapWriterOptions {
  readonly link?: LinkKind;
  readonly nanosecond?: boolean;
  readonly bigEndian?: boolean;
  readonly snapLength?: number;
}

export class PcapWriter {
  private readonly chunks: Buffer[] = [];
  readonly link: LinkKind;

  constructor(private readonly o: PcapWriterOptions = {}) {
    this.link = o.link ?? 'raw';
    const h = Buffer.alloc(24);
    const be = o.bigEndian === true;
    const w32 = (v: number, at: number): number => (be ? h.writeUInt32BE(v, at) : h.writeUInt32LE(v, at));
    const w16 = (v: number, at: number): number => (be ? h.writeUInt16BE(v, at) : h.writeUInt16LE(v, at));
    w32(o.nanosecond === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
    w16(2, 4);
    w16(4, 6);
    w32(o.snapLength ?? 65535, 16);
    w32(LINK_TYPES[this.link], 20);
    this.chunks.push(h);
  }

  /** Appends a raw frame (already including the link layer). */
  frame(timeMicros: number, data: Buffer): this {
    const h = Buffer.alloc(16);
    const be = this.o.bigEndian === true;
    const sec = Math.floor(timeMicros / 1e6);
    const frac = this.o.nanosecond === true ? Math.round((timeMicros - sec * 1e6) * 1000) : Math.round(timeMicros - sec * 1e6);
    const w32 = (v: number, at: number): number => (be ? h.writeUInt32BE(v, at) : h.writeUInt32LE(v, at));
    w32(sec, 0);
    w32(frac, 4);
    w32(data.length, 8);
    w32(data.length, 12);
    this.chunks.push(h, data);
    return this;
  }

  udp(timeMicros: number, u: UdpSpec): this {
    return this.frame(timeMicros, frame(this.link, ipUdp(u), u.src.includes(':'), this.o.bigEndian === true));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  writeTo(path: string): string {
    writeFileSync(path, this.toBuffer());
    return path;
  }
}
