/**
 * Opens a source as a byte stream, decompressing by content (whatever the name): gzip with Node's
 * zlib; bzip2, xz and zstd through the system's `bzip2 -dc`, `xz -dc` and `zstd -dc` (Node 20 has no
 * decoder for them; Debian ships the tools in bzip2, xz-utils and zstd). Also finds the anchor for BSD
 * year inference: the file's mtime, or the mtime stored in the gzip header when there is one
 * (logrotate's delaycompress leaves the .gz a day younger than its lines).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Mta550Error, readError } from '../errors.js';
import type { InputSource } from './resolve.js';

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd';

export interface OpenedInput {
  stream: Readable;
  /** ms since the epoch, or null for standard input. */
  mtimeMs: number | null;
  compression: Compression | null;
}

/** Magic bytes and the command that decompresses to stdout. */
const TOOLS: readonly { name: Exclude<Compression, 'gzip'>; bytes: number[]; command: string; pkg: string }[] = [
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68], command: 'bzip2', pkg: 'bzip2' },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], command: 'xz', pkg: 'xz-utils' },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd], command: 'zstd', pkg: 'zstd' },
];

function startsWith(buf: Buffer, bytes: number[]): boolean {
  return buf.length >= bytes.length && bytes.every((b, i) => buf[i] === b);
}

function isGzip(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Pipes `input` through `<tool> -dc`. A missing tool or a failing decompression (a truncated or
 * corrupt file) destroys the output stream with an Mta550Error after everything readable was passed
 * on, so the run reports what it could read and then fails with one message.
 */
function throughTool(input: Readable, tool: (typeof TOOLS)[number], label: string): Readable {
  const out = new PassThrough();
  const child = spawn(tool.command, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 2000) stderr += d;
  });
  input.on('error', (e) => out.destroy(e));
  child.stdin.on('error', () => {
    // the tool exited early (corrupt data or a missing binary): reported by 'close' or 'error' below
  });
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  let failed = false;
  child.on('error', (e: NodeJS.ErrnoException) => {
    failed = true;
    input.destroy();
    const why =
      e.code === 'ENOENT'
        ? `${tool.name}-compressed, and the ${tool.command} command is not installed (apt-get install ${tool.pkg}, or: ${tool.command} -dc ${label} | mta550 analyze -)`
        : `${tool.name}-compressed, and ${tool.command} could not run: ${e.message}`;
    out.destroy(new Mta550Error('input_unsupported', `cannot read ${label}: ${why}`));
  });
  child.on('close', (code) => {
    if (failed) return;
    child.stdout.unpipe(out);
    if (code === 0) out.end();
    else {
      const detail = stderr.trim().split('\n').pop() ?? '';
      out.destroy(new Mta550Error('input_unreadable', `cannot read ${label}: ${tool.command} -dc failed${detail ? `: ${detail}` : ''} (the lines before the damage were read)`));
    }
  });
  out.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}

function gunzip(input: Readable, label: string): Readable {
  const z = createGunzip();
  input.on('error', (e) => z.destroy(e));
  input.pipe(z);
  const out = new PassThrough();
  z.on('error', (e: NodeJS.ErrnoException) => {
    const why = e.code === 'Z_BUF_ERROR' ? 'the gzip data ends early (truncated file)' : e.message;
    out.destroy(new Mta550Error('input_unreadable', `cannot read ${label}: ${why} (the lines before the damage were read)`));
  });
  z.pipe(out);
  return out;
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
  const raw = createReadStream(source.path, { highWaterMark: 256 * 1024 });
  for (const t of TOOLS) if (startsWith(head, t.bytes)) return { stream: throughTool(raw, t, source.path), mtimeMs, compression: t.name };
  if (!isGzip(head)) return { stream: raw, mtimeMs, compression: null };
  const headerMtime = head.readUInt32LE(4);
  return { stream: gunzip(raw, source.path), mtimeMs: headerMtime > 0 ? headerMtime * 1000 : mtimeMs, compression: 'gzip' };
}

/** Standard input: peek at the first chunk to detect compression, then put it back. */
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
  // The first bytes go in front of the rest through a new stream: unshift() onto a stream that has
  // just been read to its end loses them (a short input written and ended at once read as empty).
  const whole = new PassThrough();
  whole.write(first);
  stdin.on('error', (e) => whole.destroy(readError('standard input', e)));
  stdin.pipe(whole);
  for (const t of TOOLS) if (startsWith(first, t.bytes)) return { stream: throughTool(whole, t, 'standard input'), mtimeMs: null, compression: t.name };
  if (!isGzip(first)) return { stream: whole, mtimeMs: null, compression: null };
  return { stream: gunzip(whole, 'standard input'), mtimeMs: null, compression: 'gzip' };
}

/** Magic numbers of files people give by mistake (ELF, PNG, JPEG, PDF, ZIP, 7z, SQLite). */
const BINARY_MAGIC: readonly number[][] = [
  [0x7f, 0x45, 0x4c, 0x46],
  [0x89, 0x50, 0x4e, 0x47],
  [0xff, 0xd8, 0xff],
  [0x25, 0x50, 0x44, 0x46, 0x2d],
  [0x50, 0x4b, 0x03, 0x04],
  [0x37, 0x7a, 0xbc, 0xaf],
  [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65],
];

/**
 * Whether the first bytes of an input are not text: a known binary magic number, or more than 10%
 * of the first 8 KiB being control bytes (other than tab, newlines, form feed and ESC) or bytes that
 * are not UTF-8 (random or compressed data: about 10% control and 40% invalid). A log with a run of
 * NUL bytes after a crash, or with some Latin-1 bytes, stays text by this measure.
 */
export function looksBinary(head: Buffer): boolean {
  if (BINARY_MAGIC.some((m) => m.every((b, i) => head[i] === b))) return true;
  const n = Math.min(head.length, 8192);
  if (n === 0) return false;
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b < 32 && b !== 9 && b !== 10 && b !== 11 && b !== 12 && b !== 13 && b !== 27) odd++;
  }
  const text = head.toString('utf8', 0, n);
  for (let i = text.indexOf('\ufffd'); i >= 0; i = text.indexOf('\ufffd', i + 1)) odd++;
  return odd / n > 0.1;
}
