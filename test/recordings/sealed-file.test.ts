import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyRing, loadKeyRing } from '../../src/recordings/crypto/key-ring.js';
import { SealedFile, SealStream } from '../../src/recordings/crypto/sealed-file.js';
import { ErrorCodes } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-rec-seal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const ring = new KeyRing('k1', randomBytes(32));

function flip(b: Buffer, at: number, mask: number): Buffer {
  b[at] = b[at]! ^ mask;
  return b;
}

async function seal(plain: Buffer, r: KeyRing = ring, chunkBytes = 4096): Promise<string> {
  const path = join(dir, `f${n++}.enc`);
  // feed in uneven pieces, as ffmpeg's pipe does
  const pieces: Buffer[] = [];
  for (let i = 0; i < plain.length; i += 1000 + (i % 7) * 333) pieces.push(plain.subarray(i, Math.min(plain.length, i + 1000 + (i % 7) * 333)));
  await pipeline(Readable.from(pieces), new SealStream(r, chunkBytes), createWriteStream(path));
  return path;
}

async function readAll(path: string, r: KeyRing = ring, start?: number, end?: number): Promise<Buffer> {
  const f = await SealedFile.open(path, r);
  try {
    const out: Buffer[] = [];
    for await (const c of f.range(start ?? 0, end ?? f.plaintextLength)) out.push(c);
    return Buffer.concat(out);
  } finally {
    await f.close();
  }
}

/** Something that looks like audio: a 16-bit tone with a recognisable pattern. */
function audioLike(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i + 1 < bytes; i += 2) b.writeInt16LE(Math.round(9000 * Math.sin(i / 7)), i);
  return b;
}

describe('encryption at rest (STREAM over AES-256-GCM)', () => {
  it.each([0, 1, 4095, 4096, 4097, 3 * 4096, 100_000])('round-trips %i bytes exactly', async (size) => {
    const plain = randomBytes(size);
    const path = await seal(plain);
    expect((await readAll(path)).equals(plain)).toBe(true);
    const f = await SealedFile.open(path, ring);
    expect(f.plaintextLength).toBe(size);
    await f.verify();
    await f.close();
  });

  it('serves any byte range, decrypting only the chunks it spans', async () => {
    const plain = randomBytes(50_000);
    const path = await seal(plain);
    for (const [a, b] of [[0, 1], [4095, 4097], [10_000, 30_000], [49_999, 50_000], [8192, 8192]] as const) {
      expect((await readAll(path, ring, a, b)).equals(plain.subarray(a, b))).toBe(true);
    }
  });

  it('stores nothing of the audio in the clear', async () => {
    const plain = audioLike(200_000);
    const path = await seal(plain);
    const stored = readFileSync(path);
    // no 16-byte window of the plaintext appears anywhere in the file
    for (let at = 0; at < plain.length; at += 9973) expect(stored.indexOf(plain.subarray(at, at + 16))).toBe(-1);
    expect(stored.length).toBeGreaterThan(plain.length);
  });

  it('names the key in the header so a retired key still opens old files', async () => {
    const old = new KeyRing('old', randomBytes(32));
    const path = await seal(Buffer.from('hello'), old);
    const rotated = new KeyRing('new', randomBytes(32), [{ id: 'old', key: old.get('old') }]);
    expect((await readAll(path, rotated)).toString()).toBe('hello');
    await expect(SealedFile.open(path, new KeyRing('new', randomBytes(32)))).rejects.toMatchObject({ code: ErrorCodes.RECORDING_KEY });
  });

  describe('detects tampering', () => {
    const plain = audioLike(20_000);

    async function expectRejected(mutate: (b: Buffer) => Buffer, r: KeyRing = ring): Promise<void> {
      const path = await seal(plain);
      writeFileSync(path, mutate(readFileSync(path)));
      const attempt = async (): Promise<void> => {
        const f = await SealedFile.open(path, r);
        try {
          await f.verify();
        } finally {
          await f.close();
        }
      };
      await expect(attempt()).rejects.toMatchObject({ code: ErrorCodes.RECORDING_INTEGRITY });
    }

    const headerLength = 6 + 1 + 1 + 4 + 32 + 1 + 2; // key id "k1"
    const record = 4096 + 16;

    it('a flipped bit in a chunk', () => expectRejected((b) => flip(b, headerLength + 5000, 0x01)));
    it('a flipped bit in a tag', () => expectRejected((b) => flip(b, headerLength + record - 1, 0x80)));
    it('a changed header (salt)', () => expectRejected((b) => flip(b, 20, 0x01)));
    it('a changed chunk size in the header', () => expectRejected((b) => (b.writeUInt32BE(4097, 8), b)));
    it('truncation at a chunk boundary', () => expectRejected((b) => b.subarray(0, headerLength + 2 * record)));
    it('truncation inside a chunk', () => expectRejected((b) => b.subarray(0, b.length - 7)));
    it('two chunks swapped', () =>
      expectRejected((b) => {
        const c1 = Buffer.from(b.subarray(headerLength, headerLength + record));
        b.copy(b, headerLength, headerLength + record, headerLength + 2 * record);
        c1.copy(b, headerLength + record);
        return b;
      }));
    it('a chunk appended from another file', () => expectRejected((b) => Buffer.concat([b, b.subarray(headerLength, headerLength + record)])));
    it('the wrong key under the right name', () => expectRejected((b) => b, new KeyRing('k1', randomBytes(32))));
    it('not an encrypted recording at all', () => expectRejected(() => Buffer.from('RIFF....WAVEfmt ')));
  });

  it('stops a range read at the first tampered chunk, before yielding it', async () => {
    const plain = audioLike(20_000);
    const path = await seal(plain);
    const b = readFileSync(path);
    flip(b, b.length - 100, 1);
    writeFileSync(path, b);
    const f = await SealedFile.open(path, ring);
    const got: Buffer[] = [];
    await expect(
      (async () => {
        for await (const c of f.range(0, f.plaintextLength)) got.push(c);
      })(),
    ).rejects.toMatchObject({ code: ErrorCodes.RECORDING_INTEGRITY });
    await f.close();
    expect(Buffer.concat(got).equals(plain.subarray(0, 4 * 4096))).toBe(true);
  });

  it('never shows key material when a key ring is logged or serialised', () => {
    const key = randomBytes(32);
    const r = new KeyRing('prod', key);
    for (const text of [inspect(r), JSON.stringify(r), String(r), inspect({ nested: r }, { depth: 5 })]) {
      expect(text).not.toContain(key.toString('base64'));
      expect(text).not.toContain(key.toString('hex'));
    }
  });

  it('generates a key file once (mode 0600) when none is configured, and reuses it', async () => {
    const keyFile = join(dir, 'keys', 'default.key');
    const a = await loadKeyRing({ keyId: 'default', previousKeys: [] }, keyFile);
    const b = await loadKeyRing({ keyId: 'default', previousKeys: [] }, keyFile);
    expect(a.generated).toBe(true);
    expect(b.generated).toBe(false);
    expect(a.ring.current.equals(b.ring.current)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('rejects a malformed configured key with a clear message', async () => {
    await expect(loadKeyRing({ keyId: 'x', key: 'c2hvcnQ=', previousKeys: [] }, join(dir, 'unused'))).rejects.toMatchObject({
      code: ErrorCodes.RECORDING_KEY,
      message: expect.stringContaining('256-bit key in base64'),
    });
  });
});
