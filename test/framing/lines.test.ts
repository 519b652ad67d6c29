import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineSplitter, readLineBatches, sourceIdentity, type Line } from '../../src/framing/lines.js';
import { rng } from '../random.js';

async function all(chunks: (string | Buffer)[]): Promise<Line[]> {
  const out: Line[] = [];
  for await (const batch of readLineBatches(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))))) out.push(...batch);
  return out;
}

describe('LineSplitter', () => {
  it('gives text, number and exact byte offsets for LF and CRLF lines', async () => {
    const lines = await all(['one\r\ntwo\n', 'thr', 'ee\nfour']);
    expect(lines.map((l) => [l.text, l.number, l.offset, l.end])).toEqual([
      ['one', 1, 0, 5],
      ['two', 2, 5, 9],
      ['three', 3, 9, 15],
      ['four', 4, 15, 19],
    ]);
  });

  it('keeps offsets exact through invalid UTF-8 and multi-byte characters split across chunks', async () => {
    const bytes = Buffer.concat([Buffer.from('caf\xc3 \xff\xfe ok\n', 'latin1'), Buffer.from('Straße\n')]);
    const parts = [bytes.subarray(0, 4), bytes.subarray(4, 7), bytes.subarray(7)];
    const lines = await all(parts);
    expect(lines[0]!.text).toBe('caf\ufffd \ufffd\ufffd ok');
    expect(lines[1]).toMatchObject({ text: 'Straße', offset: lines[0]!.end, end: bytes.length });
  });

  it('decodes a UTF-8 sequence split across chunks as one character', async () => {
    const b = Buffer.from('é\n');
    const lines = await all([b.subarray(0, 1), b.subarray(1)]);
    expect(lines[0]!.text).toBe('é');
  });

  it('removes a leading BOM from the first line only, and identifies the source by its first line', async () => {
    const lines = await all(['\ufeffhead\n\ufeffsecond\n']);
    expect(lines.map((l) => l.text)).toEqual(['head', '\ufeffsecond']);
    const s = new LineSplitter();
    s.push(Buffer.from('\ufeffhead\nmore'));
    expect(s.identity).toBe(sourceIdentity(Buffer.from('\ufeffhead')));
  });

  it('holds a partial last line until its newline, and reports its start as the resume offset', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('a\nbc'))).toHaveLength(1);
    expect(s.offset).toBe(2);
    expect(s.pendingBytes).toBe(2);
    expect(s.push(Buffer.from('d\n')).map((l) => [l.text, l.offset])).toEqual([['bcd', 2]]);
    expect(s.offset).toBe(6);
    expect(s.end()).toBeNull();
  });

  it('truncates an over-long line at the cap without holding the rest, and counts its bytes', () => {
    const s = new LineSplitter({ offset: 0, number: 0 }, 10);
    expect(s.push(Buffer.from('x'.repeat(25)))).toEqual([]);
    expect(s.pendingBytes).toBe(25);
    const [line] = s.push(Buffer.from('yy\nz\n'));
    expect(line).toMatchObject({ text: 'x'.repeat(10), truncated: true, offset: 0, end: 28 });
    expect(s.push(Buffer.from(''))).toEqual([]);
    expect(s.end()).toBeNull();
  });

  it('resumes at a saved offset and line number', () => {
    const s = new LineSplitter({ offset: 100, number: 7, identity: 'abc' });
    const [line] = s.push(Buffer.from('next\n'));
    expect(line).toMatchObject({ number: 8, offset: 100, end: 105 });
    expect(s.identity).toBe('abc');
  });

  it('gives the same lines whatever the chunking (random splits)', async () => {
    const rnd = rng(7);
    const text = Array.from({ length: 200 }, (_, i) => `line ${i} ${'é'.repeat(i % 5)}${i % 3 === 0 ? '\r' : ''}`).join('\n') + '\n';
    const whole = await all([text]);
    const buf = Buffer.from(text);
    for (let round = 0; round < 20; round++) {
      const parts: Buffer[] = [];
      let at = 0;
      while (at < buf.length) {
        const n = 1 + Math.floor(rnd() * 40);
        parts.push(buf.subarray(at, at + n));
        at += n;
      }
      expect(await all(parts)).toEqual(whole);
    }
  });
});
