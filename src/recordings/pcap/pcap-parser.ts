/**
 * Classic libpcap capture files (the format rtpengine's pcap recording method
 * writes; https://www.tcpdump.org/manpages/pcap-savefile.5.html and
 * draft-ietf-opsawg-pcap): a 24-byte global header, then records of a 16-byte
 * header and the captured bytes. Either byte order, microsecond or nanosecond
 * timestamps. Parsed incrementally from chunks so that memory stays bounded
 * whatever the file size; each record is handed to a synchronous callback as a
 * view that is only valid during the call.
 */
import { RecordingFormatError } from '../errors.js';

export interface PcapFileHeader {
  readonly linkType: number;
  readonly snapLength: number;
  readonly nanosecond: boolean;
  readonly bigEndian: boolean;
}

/**
 * Receives one record: its capture time in microseconds since the Unix epoch
 * (fractional for nanosecond files) and its captured bytes as `buf[start, end)`
 * — valid only during the call (copy to keep). No object is made per record:
 * a long capture has tens of millions of them.
 */
export type PcapRecordHandler = (timeMicros: number, buf: Buffer, start: number, end: number, header: PcapFileHeader) => void;

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Larger than any snap length a capture tool writes; a record claiming more means the file is corrupt. */
const MAX_RECORD = 262_144 + 65_536;

/** Magic numbers as read little-endian. */
const MAGIC = new Map<number, { bigEndian: boolean; nanosecond: boolean }>([
  [0xa1b2c3d4, { bigEndian: false, nanosecond: false }],
  [0xd4c3b2a1, { bigEndian: true, nanosecond: false }],
  [0xa1b23c4d, { bigEndian: false, nanosecond: true }],
  [0x4d3cb2a1, { bigEndian: true, nanosecond: true }],
]);
const PCAPNG_MAGIC = 0x0a0d0d0a;

export class PcapParser {
  private header: PcapFileHeader | undefined;
  /** Bytes of an incomplete record (or header) carried over to the next chunk. */
  private carry: Buffer = Buffer.alloc(0);
  private offset = 0;
  private records = 0;

  constructor(
    private readonly source: string,
    private readonly onRecord: PcapRecordHandler,
  ) {}

  get fileHeader(): PcapFileHeader | undefined {
    return this.header;
  }

  get recordCount(): number {
    return this.records;
  }

  /** Feeds the next bytes of the file. Throws RecordingFormatError on a corrupt file. */
  push(chunk: Buffer): void {
    let pos = 0;
    // A record (or the file header) split across chunks is completed in a small buffer of its
    // own; the rest of the chunk is parsed in place, never copied.
    while (this.carry.length > 0 && pos < chunk.length) {
      const need = this.bytesNeeded(this.carry);
      const take = Math.min(need - this.carry.length, chunk.length - pos);
      this.carry = Buffer.concat([this.carry, chunk.subarray(pos, pos + take)]);
      pos += take;
      if (this.carry.length < need) return;
      if (this.bytesNeeded(this.carry) > this.carry.length) continue; // header complete, body pending
      const whole = this.carry;
      this.carry = Buffer.alloc(0);
      this.consume(whole, 0);
    }
    const rest = this.consume(chunk, pos);
    if (rest < chunk.length) this.carry = Buffer.from(chunk.subarray(rest));
  }

  /** Bytes needed for the header or record that starts at the beginning of `b`. */
  private bytesNeeded(b: Buffer): number {
    if (this.header === undefined) return GLOBAL_HEADER;
    if (b.length < RECORD_HEADER) return RECORD_HEADER;
    return RECORD_HEADER + this.includedLength(b, 0);
  }

  private includedLength(buf: Buffer, pos: number): number {
    const header = this.header!;
    const included = header.bigEndian ? buf.readUInt32BE(pos + 8) : buf.readUInt32LE(pos + 8);
    if (included > MAX_RECORD || included > Math.max(header.snapLength, 65_535) + 65_536) {
      throw new RecordingFormatError(
        `${this.source}: corrupt pcap record at byte ${this.offset}: it claims ${included} captured bytes (snap length ${header.snapLength})`,
      );
    }
    return included;
  }

  /** Parses every whole header/record in buf from pos; returns where the unparsed rest starts. */
  private consume(buf: Buffer, from: number): number {
    let pos = from;
    if (this.header === undefined) {
      if (buf.length - pos < GLOBAL_HEADER) return pos;
      this.header = this.readGlobalHeader(buf.subarray(pos, pos + GLOBAL_HEADER));
      pos += GLOBAL_HEADER;
      this.offset = GLOBAL_HEADER;
    }
    const header = this.header;
    const be = header.bigEndian;
    const fracScale = header.nanosecond ? 0.001 : 1;
    while (buf.length - pos >= RECORD_HEADER) {
      const included = this.includedLength(buf, pos);
      if (buf.length - pos - RECORD_HEADER < included) break;
      const seconds = be ? buf.readUInt32BE(pos) : buf.readUInt32LE(pos);
      const fraction = be ? buf.readUInt32BE(pos + 4) : buf.readUInt32LE(pos + 4);
      const start = pos + RECORD_HEADER;
      this.onRecord(seconds * 1e6 + fraction * fracScale, buf, start, start + included, header);
      this.records++;
      pos = start + included;
      this.offset += RECORD_HEADER + included;
    }
    return pos;
  }

  /**
   * Called at end of file. A cut-off last record (rtpengine or the host died
   * while writing) is tolerated and reported; a file too short to have a header is not.
   * @returns the number of trailing bytes ignored.
   */
  end(): number {
    if (this.header === undefined) {
      throw new RecordingFormatError(`${this.source}: not a pcap file (only ${this.carry.length} bytes, the header alone is ${GLOBAL_HEADER})`);
    }
    const ignored = this.carry.length;
    this.carry = Buffer.alloc(0);
    return ignored;
  }

  private readGlobalHeader(buf: Buffer): PcapFileHeader {
    const magic = buf.readUInt32LE(0);
    if (magic === PCAPNG_MAGIC) {
      throw new RecordingFormatError(`${this.source}: pcapng files are not supported; expected a classic pcap file as rtpengine writes`);
    }
    const kind = MAGIC.get(magic);
    if (kind === undefined) {
      throw new RecordingFormatError(`${this.source}: not a pcap file (magic number 0x${magic.toString(16).padStart(8, '0')})`);
    }
    const be = kind.bigEndian;
    const major = be ? buf.readUInt16BE(4) : buf.readUInt16LE(4);
    if (major !== 2) throw new RecordingFormatError(`${this.source}: unsupported pcap version ${major}`);
    const snapLength = be ? buf.readUInt32BE(16) : buf.readUInt32LE(16);
    // The upper bits of the link-type field carry FCS information (draft-ietf-opsawg-pcap §4).
    const linkType = (be ? buf.readUInt32BE(20) : buf.readUInt32LE(20)) & 0x0fffffff;
    return { linkType, snapLength, nanosecond: kind.nanosecond, bigEndian: be };
  }
}
