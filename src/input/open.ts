/**
 * Opens a source as a byte stream, gunzipping when the first bytes say gzip (whatever the name),
 * and finds the anchor for BSD year inference: the file's mtime, or the mtime stored in the gzip
 * header when there is one (logrotate's delaycompress leaves the .gz a day younger than its lines).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Mta550Error, readError } from '../errors.js';
import type { InputSource } from './resolve.js';

export interface OpenedInput {
  stream: Readable;
  /** ms since the epoch, or null for standard input. */
  mtimeMs: number | null;
  compression: 'gzip' | null;
}

const MAGIC: readonly { name: string; bytes: number[] }[] = [
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
];

function startsWith(buf: Buffer, bytes: number[]): boolean {
  return buf.length >= bytes.length && bytes.every((b, i) => buf[i] === b);
}

function isGzip(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

function unsupported(path: string, name: string): Mta550Error {
  const tool = name === 'bzip2' ? 'bzcat' : name === 'xz' ? 'xzcat' : 'zstdcat';
  return new Mta550Error(
    'input_unsupported',
    `cannot read ${path}: ${name}-compressed files are not read directly (use: ${tool} ${path} | mta550 analyze -)`,
  );
}

export async function openInput(source: InputSource, stdin: Readable): Promise<OpenedInput> {
  if (source.kind === 'stdin') return openStdin(stdin);
  const head = Buffer.alloc(10);
  let mtimeMs: number;
  try {
    const fh = await open(source.path, 'r');
    try {
      await fh.read(head, 0, 10, 0);
      mtimeMs = (await fh.stat()).mtimeMs;
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw readError(source.path, err);
  }
  for (const m of MAGIC) if (startsWith(head, m.bytes)) throw unsupported(source.path, m.name);
  const raw = createReadStream(source.path, { highWaterMark: 256 * 1024 });
  if (!isGzip(head)) return { stream: raw, mtimeMs, compression: null };
  const headerMtime = head.readUInt32LE(4);
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  raw.pipe(gunzip);
  return { stream: gunzip, mtimeMs: headerMtime > 0 ? headerMtime * 1000 : mtimeMs, compression: 'gzip' };
}

/** Standard input: peek at the first chunk to detect gzip, then put it back. */
async function openStdin(stdin: Readable): Promise<OpenedInput> {
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const onReadable = () => {
      cleanup();
      resolve(stdin.read() as Buffer | null);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(readError('standard input', e));
    };
    const cleanup = () => {
      stdin.off('readable', onReadable);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
    };
    stdin.on('readable', onReadable);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
  });
  if (first === null) return { stream: stdin, mtimeMs: null, compression: null };
  stdin.unshift(first);
  for (const m of MAGIC) if (startsWith(first, m.bytes)) throw unsupported('standard input', m.name);
  if (!isGzip(first)) return { stream: stdin, mtimeMs: null, compression: null };
  const gunzip = createGunzip();
  stdin.on('error', (e) => gunzip.destroy(e));
  stdin.pipe(gunzip);
  return { stream: gunzip, mtimeMs: null, compression: 'gzip' };
}
