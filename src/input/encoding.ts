/**
 * Text encodings other than UTF-8, detected, not assumed (#5: Exchange Online exports): UTF-16LE
 * and UTF-16BE with or without a byte order mark become UTF-8 before the line framer sees them.
 * Without a BOM, UTF-16 shows as a zero byte in every other position for the ASCII that logs are
 * mostly made of (little-endian: the odd positions). A UTF-8 BOM is left to the format's decoder.
 * Byte offsets (and event ids) of a transcoded input count the UTF-8 bytes.
 */
import { PassThrough, Transform, type Readable } from 'node:stream';

export type TextEncoding = 'utf-16le' | 'utf-16be';

/** The UTF-16 flavour of the first bytes of an input, or null for anything else. */
export function sniffUtf16(head: Buffer): { encoding: TextEncoding; bom: boolean } | null {
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bom: true };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bom: true };
  const n = Math.min(head.length, 512) & ~1;
  if (n < 8) return null;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) evenZero++;
    if (head[i + 1] === 0) oddZero++;
  }
  const pairs = n / 2;
  if (oddZero >= 0.6 * pairs && evenZero <= 0.05 * pairs) return { encoding: 'utf-16le', bom: false };
  if (evenZero >= 0.6 * pairs && oddZero <= 0.05 * pairs) return { encoding: 'utf-16be', bom: false };
  return null;
}

/** UTF-16 to UTF-8, in chunks (a code unit or surrogate pair split across chunks is kept whole). */
function toUtf8(encoding: TextEncoding, bom: boolean): Transform {
  // The decoder drops a leading BOM itself (ignoreBOM false); without one there is nothing to drop.
  const decoder = new TextDecoder(encoding, { ignoreBOM: !bom });
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(cb) {
      const rest = decoder.decode();
      cb(null, rest === '' ? undefined : Buffer.from(rest, 'utf8'));
    },
  });
}

/**
 * The input as UTF-8: UTF-16 (with or without BOM) transcoded, anything else as it is. Reads the
 * first chunk to decide and puts it back in front of the rest.
 */
export async function asUtf8(stream: Readable): Promise<{ stream: Readable; encoding: TextEncoding | null }> {
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const done = (v: Buffer | null) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      resolve(v);
    };
    const onReadable = () => done(stream.read() as Buffer | null);
    const onEnd = () => done(null);
    const onError = (e: Error) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      reject(e);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
  const whole = new PassThrough();
  stream.on('error', (e) => whole.destroy(e));
  if (first === null) {
    whole.end();
    return { stream: whole, encoding: null };
  }
  whole.write(first);
  stream.pipe(whole);
  const utf16 = sniffUtf16(first);
  if (utf16 === null) return { stream: whole, encoding: null };
  const out = whole.pipe(toUtf8(utf16.encoding, utf16.bom));
  whole.on('error', (e) => out.destroy(e));
  return { stream: out, encoding: utf16.encoding };
}
