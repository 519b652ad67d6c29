/**
 * UTF-16 inputs (#5: Exchange Online exports are UTF-16LE, often without BOM): detected from the
 * first bytes and read as UTF-8, so the same log in UTF-16 gives the same events, ids included.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sniffUtf16 } from '../../src/input/encoding.js';
import { runCli } from '../run-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mta550-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SAMPLE = 'samples/postfix/001-remote-550-providers.log';
const text = readFileSync(SAMPLE, 'utf8');
const be = (s: string) => Buffer.from(s, 'utf16le').swap16();

describe('UTF-16 inputs', () => {
  it('sniffs UTF-16LE/BE with and without a BOM, and leaves UTF-8 and binary alone', () => {
    expect(sniffUtf16(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('abc', 'utf16le')]))).toEqual({ encoding: 'utf-16le', bom: true });
    expect(sniffUtf16(Buffer.from('date_time_utc,client_ip', 'utf16le'))).toEqual({ encoding: 'utf-16le', bom: false });
    expect(sniffUtf16(be('date_time_utc,client_ip'))).toEqual({ encoding: 'utf-16be', bom: false });
    expect(sniffUtf16(Buffer.from('Mar 11 08:15:41 mx1 postfix/smtp[1]: x'))).toBeNull();
    expect(sniffUtf16(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
  });

  it.each([
    ['UTF-16LE without BOM', Buffer.from(text, 'utf16le'), 'utf-16le'],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'utf-16le'],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), be(text)]), 'utf-16be'],
  ])('%s: the same events as the UTF-8 file, ids included', async (_name, bytes, encoding) => {
    const f = path.join(dir, `${encoding}-${bytes.length}.log`);
    writeFileSync(f, bytes);
    const args = ['--year', '2024', '--output', 'records', '--records', 'events', '-q'];
    const utf8 = (await runCli(['analyze', SAMPLE, ...args])).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; recipient: string; source: object });
    const utf16 = (await runCli(['analyze', f, ...args])).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; recipient: string; source: object });
    const core = (e: { id: string; recipient: string; source: object }) => ({ ...e, source: { ...e.source, file: '' } });
    expect(utf16.map(core)).toEqual(utf8.map(core));
    const report = JSON.parse((await runCli(['analyze', f, '--year', '2024', '-o', 'json', '-q'])).stdout) as { inputs: { encoding: string }[] };
    expect(report.inputs[0]!.encoding).toBe(encoding);
  });
});
