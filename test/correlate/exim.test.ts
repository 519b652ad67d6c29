import { describe, expect, it } from 'vitest';
import { decodeEximLine } from '../../parsers/exim/index.js';
import { EximCorrelator } from '../../src/correlate/exim.js';
import { YearClock } from '../../src/input/clock.js';
import type { RejectionEvent } from '../../src/model/event.js';

/** Runs lines through the Exim decoder, a 2026 clock and the Exim correlator. */
function correlate(lines: string[]) {
  const events: RejectionEvent[] = [];
  const outcomes: [string | null, string][] = [];
  const correlator = new EximCorrelator({ event: (e) => events.push(e), outcome: (d, s) => outcomes.push([d, s]) });
  const clock = new YearClock({ kind: 'explicit', year: 2026 });
  lines.forEach((raw, i) => {
    const d = decodeEximLine(raw);
    if (d.type !== 'record') return;
    const t = clock.resolve(d.envelope.time);
    correlator.push({ record: d.record, envelope: d.envelope, daemon: d.daemon, timeMs: t.epochMs, yearSource: t.yearSource, source: { format: 'exim', file: 'test.log', line: i + 1, offset: i * 100, identity: 'test' }, raw });
  });
  correlator.flush();
  return { events, outcomes };
}

// What real Exim 4.96 sent to syslog with its default syslog_duplication = true (end-to-end suite):
// a refusal goes to the main and the reject log, so syslog gets it twice from the same process.
const RCPT = '2026-11-27 18:54:58 H=([127.0.0.1]) [127.0.0.1] F=<sender@example.net> rejected RCPT <nobody-258@example.com>: Unrouteable address';
const DATA = '2026-11-27 18:56:24 1xX17Q-0000GM-2s H=([127.0.0.1]) [127.0.0.1] F=<sender@example.net> rejected after DATA: 550 5.7.1 Message refused by content policy';
const bsd = (pid: number, body: string) => `Nov 27 18:56:24 mx1 exim[${pid}]: ${body}`;

describe('EximCorrelator: refusals Exim sent to syslog twice', () => {
  it('counts a RCPT refusal and its identical reject log copy once', () => {
    const { events, outcomes } = correlate([bsd(949, RCPT), bsd(949, RCPT)]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ recipient: 'nobody-258@example.com', code: 550, codeInferred: true, source: { line: 1 } });
    expect(outcomes).toEqual([['example.com', 'rejected']]);
  });

  it('counts a refusal after DATA and its reject log copy split into numbered pieces once', () => {
    const lines = [
      bsd(1014, DATA),
      bsd(1014, `[1\\4] ${DATA}`),
      bsd(1014, '[2\\4] Envelope-from: <sender@example.net>'),
      bsd(1014, '[3\\4] Envelope-to: <ok-data1@corp.example.org>'),
      bsd(1014, '[4/4]   Subject: e2e'),
    ];
    const { events } = correlate(lines);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ queueId: '1xX17Q-0000GM-2s', stage: 'end_of_data', code: 550, enhancedStatus: '5.7.1' });
  });

  it('still counts two refusals of one client, each sent twice', () => {
    expect(correlate([bsd(949, RCPT), bsd(949, RCPT), bsd(949, RCPT), bsd(949, RCPT)]).events).toHaveLength(2);
  });

  it('keeps the same refusal from two processes, and every line of a mainlog file', () => {
    expect(correlate([bsd(949, RCPT), bsd(950, RCPT)]).events).toHaveLength(2);
    expect(correlate([RCPT, RCPT]).events).toHaveLength(2);
  });
});
