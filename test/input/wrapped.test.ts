/**
 * Wrapped inputs through the whole pipeline: journald exports and Docker json-file logs give the
 * same events as the plain log they wrap, and a Docker line split across a rotation is joined.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCodes } from '../../src/aggregate/codes.js';
import type { RejectionEvent } from '../../src/model/event.js';
import { runPipeline, type PipelineResult } from '../../src/pipeline.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mta550-wrapped-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(files: string[]): Promise<{ events: RejectionEvent[]; result: PipelineResult }> {
  const events: RejectionEvent[] = [];
  const result = await runPipeline(
    files.map((f) => ({ kind: 'file' as const, path: f })),
    { codes: parseCodes('5xx'), year: 2024, stdin: new PassThrough(), onsets: false },
    { event: (e) => void events.push(e), outcome: () => undefined },
  );
  return { events, result };
}

const essence = (e: RejectionEvent) => [e.recipient, e.code, e.enhancedStatus, e.stage, e.direction, e.time, e.client?.ip ?? null, e.classification?.subtype];

describe('wrapped inputs', () => {
  it('Docker json-file gives the events of the plain log it wraps, at the same times', async () => {
    const plain = await run(['samples/postfix/002-inbound-rejects.log']);
    const docker = await run(['samples/postfix/015-docker-json-file.log']);
    expect(docker.events.map(essence)).toEqual(plain.events.map(essence));
    const s = docker.result.inputs[0]!;
    expect(s.wrapper).toBe('docker');
    expect(s.lines).toBe(s.records + s.unsupported + s.otherPrograms + s.malformed + s.blank + s.continuation + s.joined);
  });

  it('journald export gives the events of the plain log, with exact times and no year guessing', async () => {
    const plain = await run(['samples/postfix/003-multi-recipient-partial.log']);
    const journal = await run(['samples/postfix/014-journald-json.log']);
    expect(journal.events.map((e) => [e.recipient, e.code, e.enhancedStatus, e.stage, e.messageId, e.sender])).toEqual(
      plain.events.map((e) => [e.recipient, e.code, e.enhancedStatus, e.stage, e.messageId, e.sender]),
    );
    expect(journal.events[0]!.yearSource).toBe('logged');
    expect(journal.result.inputs[0]).toMatchObject({ wrapper: 'journald', messageMissing: 1, otherPrograms: 1 });
  });

  it('joins a Docker line whose pieces straddle a max-size rotation', async () => {
    const rec = (log: string) => JSON.stringify({ log, stream: 'stdout', time: '2024-08-02T10:14:33.40127851Z' });
    const line = 'Aug 02 10:14:33 mail postfix/smtpd[311]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table; from=<a@example.org> to=<x@example.com> proto=ESMTP helo=<h>';
    const head = [rec('Aug 02 10:14:30 mail postfix/smtpd[311]: connect from unknown[203.0.113.9]\n'), rec(line.slice(0, 60))];
    writeFileSync(path.join(dir, 'c-json.log.1'), head.join('\n') + '\n');
    writeFileSync(path.join(dir, 'c-json.log'), [rec(line.slice(60) + '\n')].join('\n') + '\n');
    const { events, result } = await run([path.join(dir, 'c-json.log.1'), path.join(dir, 'c-json.log')]);
    expect(events.map((e) => e.recipient)).toEqual(['x@example.com']);
    expect(result.inputs.map((i) => [path.basename(i.path), i.lines, i.joined, i.records + i.unsupported, i.wrapper])).toEqual([
      ['c-json.log.1', 2, 1, 1, 'docker'],
      ['c-json.log', 1, 0, 1, 'docker'],
    ]);
    expect(readFileSync(path.join(dir, 'c-json.log'), 'utf8')).toContain('"log"');
  });
});
