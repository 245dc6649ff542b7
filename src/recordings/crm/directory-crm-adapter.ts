/**
 * A local folder standing in for a CRM (the embedded default): each ticket (or
 * recording, when there is no ticket) gets a folder holding its parts as
 * playable files plus a JSON receipt per part. Idempotent like a real CRM: a
 * part whose idempotency key was already stored is not written again, its
 * first receipt is returned. Files appear atomically (write, fsync, rename).
 *
 * This folder is the delivery destination, outside the pipeline's retention:
 * what lands here is the "CRM's" copy, which the operator manages.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CrmError } from '../errors.js';
import type { CrmAdapter, PartReceipt, PartUpload } from './crm-adapter.js';

const SAFE = /[^A-Za-z0-9._-]/g;

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class DirectoryCrmAdapter implements CrmAdapter {
  readonly name = 'directory';

  constructor(private readonly root: string) {}

  async upload(part: PartUpload, signal?: AbortSignal): Promise<PartReceipt> {
    const keysDir = join(this.root, '.idempotency');
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    const keyFile = join(keysDir, `${createHash('sha256').update(part.idempotencyKey).digest('hex')}.json`);
    const previous = await readFile(keyFile, 'utf8').catch(() => undefined);
    if (previous !== undefined) return { ...(JSON.parse(previous) as PartReceipt), duplicate: true };

    // A leading dot would make "." or ".." (a ticket named by a trunk's header) a way out of the root, or a hidden folder.
    const folder = (part.ticketId ?? part.recordingId).replace(SAFE, '_').replace(/^\./, '_');
    const dir = join(this.root, folder);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const target = join(dir, part.fileName.replace(SAFE, '_'));
    const tmp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(Readable.from(part.body()), createWriteStream(tmp, { mode: 0o600 }), signal !== undefined ? { signal } : {});
      await fsyncFile(tmp);
      await rename(tmp, target);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      if (e instanceof Error && (e as NodeJS.ErrnoException).code !== undefined && (e as NodeJS.ErrnoException).code !== 'ABORT_ERR') {
        throw new CrmError('retryable', `cannot store ${part.fileName} in ${dir}: ${e.message}`, {}, { cause: e });
      }
      throw e;
    }
    const receipt: PartReceipt = { attachmentId: `${folder}/${part.fileName.replace(SAFE, '_')}` };
    const record = { ...receipt, ...(part.ticketId !== undefined ? { ticketId: part.ticketId } : {}), idempotencyKey: part.idempotencyKey, partNumber: part.partNumber, size: part.size, metadata: part.metadata };
    const recordTmp = `${target}.json.tmp-${randomBytes(4).toString('hex')}`;
    const fh = await open(recordTmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(record, null, 1)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(recordTmp, `${target}.json`);
    // The key is written last: a crash before it means the part is written again, never lost.
    const keyTmp = `${keyFile}.tmp-${randomBytes(4).toString('hex')}`;
    const kh = await open(keyTmp, 'w', 0o600);
    try {
      await kh.writeFile(JSON.stringify(receipt));
      await kh.sync();
    } finally {
      await kh.close();
    }
    await rename(keyTmp, keyFile);
    return receipt;
  }
}
