import { decodePostfixLine } from '../parsers/postfix/index.js';
import { PostfixCorrelator, type CorrelatorOptions } from '../src/correlate/postfix.js';
import { YearClock } from '../src/input/clock.js';
import type { RejectionEvent } from '../src/model/event.js';

/** Runs lines through the Postfix decoder, a 2024 clock and a correlator; returns what came out. */
export function correlate(lines: string[], options: CorrelatorOptions = {}) {
  const events: RejectionEvent[] = [];
  const outcomes: [string | null, string][] = [];
  const correlator = new PostfixCorrelator(
    { event: (e) => events.push(e), outcome: (d, s) => outcomes.push([d, s]) },
    options,
  );
  const clock = new YearClock({ kind: 'explicit', year: 2024 });
  lines.forEach((raw, i) => {
    const d = decodePostfixLine(raw);
    if (d.type !== 'record') return;
    const t = clock.resolve(d.envelope.time);
    correlator.push({
      record: d.record,
      envelope: d.envelope,
      daemon: d.daemon,
      timeMs: t.epochMs,
      yearSource: t.yearSource,
      source: { format: 'postfix', file: 'test.log', line: i + 1, offset: i * 100, identity: 'test' },
      raw,
    });
  });
  const beforeFlush = events.length;
  correlator.flush();
  return { events, outcomes, stats: correlator.stats, beforeFlush };
}
