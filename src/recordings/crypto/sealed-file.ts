/**
 * Recordings at rest: authenticated streaming encryption.
 *
 * Construction: the STREAM online AE scheme (Hoang, Reyhanitabar, Rogaway,
 * Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
 * Misuse-Resistance", CRYPTO 2015) over AES-256-GCM (NIST SP 800-38D):
 *
 *   header  = "SBRENC" ‖ version(1) ‖ alg(1) ‖ chunkBytes(u32 BE) ‖ salt(32) ‖ keyIdLength(1) ‖ keyId
 *   fileKey = HKDF-SHA256(masterKey, salt, "switchboard recording v1")   (RFC 5869)
 *   chunk i = AES-256-GCM(fileKey, nonce = 0x000000 ‖ i (u64 BE) ‖ last(1), aad = header, plaintext_i) ‖ tag(16)
 *
 * Every chunk but the last holds exactly chunkBytes of plaintext. A fresh salt
 * per file gives a fresh key, so counter nonces never repeat under one key.
 * The header is authenticated with every chunk; the index in the nonce detects
 * reordering; the last-chunk flag detects truncation at a chunk boundary (the
 * new "last" chunk was sealed as not-last). Any chunk can be decrypted on its
 * own, which is what lets the uploader read one part from the middle.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { RecordingIntegrityError } from '../errors.js';
import type { KeyRing } from './key-ring.js';

const MAGIC = Buffer.from('SBRENC', 'ascii');
const VERSION = 1;
const ALG_AES256GCM_HKDF_STREAM = 1;
const SALT_BYTES = 32;
const TAG_BYTES = 16;
const FIXED_HEADER = MAGIC.length + 1 + 1 + 4 + SALT_BYTES + 1;
const INFO = Buffer.from('switchboard recording v1', 'ascii');

function fileKey(master: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, salt, INFO, 32));
}

function nonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 3);
  n[11] = last ? 1 : 0;
  return n;
}

function buildHeader(chunkBytes: number, keyId: string): { header: Buffer; salt: Buffer } {
  const id = Buffer.from(keyId, 'utf8');
  if (id.length === 0 || id.length > 255) throw new RecordingIntegrityError('key id must be 1 to 255 bytes');
  const salt = randomBytes(SALT_BYTES);
  const header = Buffer.alloc(FIXED_HEADER + id.length);
  MAGIC.copy(header, 0);
  header[6] = VERSION;
  header[7] = ALG_AES256GCM_HKDF_STREAM;
  header.writeUInt32BE(chunkBytes, 8);
  salt.copy(header, 12);
  header[12 + SALT_BYTES] = id.length;
  id.copy(header, FIXED_HEADER);
  return { header, salt };
}

/** Encrypts whatever is piped through it into the sealed format. */
export class SealStream extends Transform {
  private readonly key: Buffer;
  private readonly header: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;
  private plaintextBytes = 0;

  constructor(
    ring: KeyRing,
    private readonly chunkBytes = 65536,
  ) {
    super();
    const { header, salt } = buildHeader(chunkBytes, ring.currentId);
    this.header = header;
    this.key = fileKey(ring.current, salt);
    this.push(header);
  }

  /** Plaintext bytes sealed so far. */
  get bytesIn(): number {
    return this.plaintextBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.plaintextBytes += chunk.length;
    // Keep at least one byte back: only end-of-stream tells which chunk is the last.
    while (this.pendingBytes > this.chunkBytes) this.seal(this.takeBytes(this.chunkBytes), false);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.seal(this.takeBytes(this.pendingBytes), true);
    done();
  }

  private takeBytes(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return out;
  }

  /** Pushes the chunk's ciphertext, then its tag (as two buffers: no copy to join them). */
  private seal(plain: Buffer, last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.index++, last), { authTagLength: TAG_BYTES });
    cipher.setAAD(this.header);
    this.push(cipher.update(plain));
    cipher.final();
    this.push(cipher.getAuthTag());
  }
}

/** An encrypted recording opened for reading. */
export class SealedFile {
  private constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    private readonly header: Buffer,
    private readonly key: Buffer,
    readonly keyId: string,
    readonly chunkBytes: number,
    private readonly chunkCount: number,
    readonly plaintextLength: number,
  ) {}

  static async open(path: string, ring: KeyRing): Promise<SealedFile> {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const fixed = Buffer.alloc(FIXED_HEADER);
      const { bytesRead } = await fh.read(fixed, 0, FIXED_HEADER, 0);
      if (bytesRead < FIXED_HEADER || !fixed.subarray(0, MAGIC.length).equals(MAGIC)) {
        throw new RecordingIntegrityError(`${path}: not an encrypted recording (bad header)`);
      }
      if (fixed[6] !== VERSION || fixed[7] !== ALG_AES256GCM_HKDF_STREAM) {
        throw new RecordingIntegrityError(`${path}: unsupported encryption format version ${fixed[6]} algorithm ${fixed[7]}`);
      }
      const chunkBytes = fixed.readUInt32BE(8);
      const idLength = fixed[12 + SALT_BYTES]!;
      const header = Buffer.alloc(FIXED_HEADER + idLength);
      fixed.copy(header);
      const idRead = await fh.read(header, FIXED_HEADER, idLength, FIXED_HEADER);
      if (chunkBytes === 0 || idLength === 0 || idRead.bytesRead < idLength) {
        throw new RecordingIntegrityError(`${path}: damaged header`);
      }
      const keyId = header.subarray(FIXED_HEADER).toString('utf8');
      const key = fileKey(ring.get(keyId), header.subarray(12, 12 + SALT_BYTES));
      const body = size - header.length;
      const record = chunkBytes + TAG_BYTES;
      const full = Math.floor(body / record);
      const rest = body % record;
      let chunkCount: number;
      let plaintextLength: number;
      if (rest === 0 && full > 0) {
        chunkCount = full;
        plaintextLength = full * chunkBytes;
      } else if (rest >= TAG_BYTES) {
        chunkCount = full + 1;
        plaintextLength = full * chunkBytes + rest - TAG_BYTES;
      } else {
        throw new RecordingIntegrityError(`${path}: truncated or damaged (${body} bytes after the header do not form whole chunks)`);
      }
      return new SealedFile(fh, path, header, key, keyId, chunkBytes, chunkCount, plaintextLength);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  private async chunk(index: number): Promise<Buffer> {
    const record = this.chunkBytes + TAG_BYTES;
    const last = index === this.chunkCount - 1;
    const length = last ? this.plaintextLength - index * this.chunkBytes + TAG_BYTES : record;
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, this.header.length + index * record);
    if (bytesRead !== length) throw new RecordingIntegrityError(`${this.path}: chunk ${index} is cut short`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce(index, last), { authTagLength: TAG_BYTES });
    decipher.setAAD(this.header);
    decipher.setAuthTag(buf.subarray(length - TAG_BYTES));
    const plain = decipher.update(buf.subarray(0, length - TAG_BYTES));
    try {
      decipher.final();
    } catch (e) {
      throw new RecordingIntegrityError(
        `${this.path}: chunk ${index} of ${this.chunkCount} failed authentication (tampered, truncated, reordered or wrong key)`,
        { cause: e },
      );
    }
    return plain;
  }

  /** Decrypted bytes [start, end), chunk by chunk, each authenticated before it is yielded. */
  async *range(start: number, end: number): AsyncGenerator<Buffer> {
    if (start < 0 || end > this.plaintextLength || start > end) {
      throw new RecordingIntegrityError(`${this.path}: range ${start}-${end} outside 0-${this.plaintextLength}`);
    }
    if (start === end) return;
    for (let i = Math.floor(start / this.chunkBytes); i * this.chunkBytes < end; i++) {
      const plain = await this.chunk(i);
      const from = Math.max(0, start - i * this.chunkBytes);
      const to = Math.min(plain.length, end - i * this.chunkBytes);
      yield plain.subarray(from, to);
    }
  }

  /** Authenticates every chunk (a full pass without keeping anything). */
  async verify(): Promise<void> {
    for (let i = 0; i < this.chunkCount; i++) await this.chunk(i);
  }

  /** Authenticates the last chunk only: catches truncation cheaply. */
  async verifyEnd(): Promise<void> {
    await this.chunk(this.chunkCount - 1);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
