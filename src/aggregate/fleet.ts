/**
 * `mta550 aggregate`: groups and onsets across hosts, from the NDJSON each host's mta550 wrote
 * (`mta550 tail|analyze --records events,attempts`, ECS nested or flat, or `--output records`).
 *
 * The documents are read back into the records they came from (output/ecs.ts is reversible) and
 * replayed, in input order, through the same report and onset engine `analyze` uses: rejection
 * events into the report (and inbound refusals into the count-basis detectors), delivery attempts
 * into the onset engine (the denominators). So aggregating the hosts' outputs gives the groups and
 * onsets one `analyze` over all the hosts' logs gives (test/aggregate/fleet.test.ts).
 * Onset, group and summary documents in the input are skipped and counted: they are recomputed.
 * A line that is not JSON, or JSON that is none of mta550's records, is counted as malformed with
 * the first five quoted, never dropped silently. (The npm ndjson parser either drops such lines
 * silently or stops at the first one: neither fits, so lines are framed and parsed here.)
 */
import type { Readable } from 'node:stream';
import { classify } from '../classify/classify.js';
import type { DeliveryAttempt, RejectionEvent } from '../model/event.js';
import { Mta550Error } from '../errors.js';
import { readLineBatches } from '../framing/lines.js';
import { openInput } from '../input/open.js';
import type { InputSource } from '../input/resolve.js';
import { OnsetEngine, type OnsetRecord } from '../onset/engine.js';
import { attemptFromEcs, recordKind, rejectionFromEcs } from '../output/ecs.js';
import { emptySummary, type InputSummary } from '../pipeline.js';
import type { CodeFilter } from './codes.js';
import { ReportBuilder, type Report } from './report.js';
import { FindingsBuilder } from '../findings/builder.js';

export interface FleetResult {
  report: Report;
  /** Per input: documents by kind. */
  counts: { path: string; rejections: number; attempts: number; recomputed: number }[];
}

type Doc = Record<string, unknown>;

/** The input's lines (the pipeline's byte framer: lines over 256 KiB are cut, and then fail to parse). */
async function* lines(stream: Readable): AsyncGenerator<string> {
  for await (const batch of readLineBatches(stream)) for (const l of batch) yield l.text;
}

/** What one line holds, in any of the three shapes mta550 writes. */
function decode(doc: Doc): { kind: 'rejection'; e: RejectionEvent } | { kind: 'attempt'; a: DeliveryAttempt } | { kind: 'recomputed' } | null {
  const ecs = recordKind(doc);
  if (ecs === 'rejection') return { kind: 'rejection', e: rejectionFromEcs(doc) };
  if (ecs === 'delivery') return { kind: 'attempt', a: attemptFromEcs(doc) };
  if (ecs === 'onset' || ecs === 'group' || ecs === 'summary' || ecs === 'finding') return { kind: 'recomputed' };
  // `--output records`: mta550's own shapes.
  if (doc.type === 'attempt' && typeof doc.messageKey === 'string') {
    const { type: _t, format: _f, file: _p, ...a } = doc;
    return { kind: 'attempt', a: a as unknown as DeliveryAttempt };
  }
  if (doc.type === 'group' || doc.type === 'summary' || doc.type === 'finding' || (doc.schema === 1 && typeof doc.series === 'object')) return { kind: 'recomputed' };
  if (typeof doc.id === 'string' && typeof doc.source === 'object' && 'direction' in doc && 'reply' in doc) return { kind: 'rejection', e: doc as unknown as RejectionEvent };
  return null;
}

export async function aggregate(sources: readonly InputSource[], codes: CodeFilter, stdin: Readable): Promise<FleetResult> {
  const report = new ReportBuilder(codes.items);
  // Findings are recomputed over all hosts' events and attempts, like groups and onsets.
  const findings = new FindingsBuilder();
  const onsets: OnsetRecord[] = [];
  const engine = new OnsetEngine((r) => onsets.push(r), { onUnit: (u) => report.unit(u) });
  const inputs: InputSummary[] = [];
  const counts: FleetResult['counts'] = [];
  for (const source of sources) {
    const summary = emptySummary(source.path, true);
    summary.format = null;
    inputs.push(summary);
    const c = { path: source.path, rejections: 0, attempts: 0, recomputed: 0 };
    counts.push(c);
    let opened;
    try {
      opened = await openInput(source, stdin);
    } catch (err) {
      if (!(err instanceof Mta550Error)) throw err;
      summary.error = err.message;
      continue;
    }
    summary.compression = opened.compression;
    const bad = (line: string, reason: string) => {
      summary.malformed++;
      if (summary.malformedExamples.length < 5) summary.malformedExamples.push({ line: summary.lines, excerpt: line.slice(0, 200), reason });
    };
    try {
      for await (const line of lines(opened.stream)) {
        summary.lines++;
        if (line.trim() === '') {
          summary.blank++;
          continue;
        }
        let doc: unknown;
        try {
          doc = JSON.parse(line);
        } catch {
          bad(line, 'not JSON');
          continue;
        }
        let r;
        try {
          r = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? decode(doc as Doc) : null;
        } catch {
          r = null; // a document of ours with fields missing
        }
        if (r === null) {
          bad(line, 'not an mta550 record');
          continue;
        }
        summary.records++;
        if (r.kind === 'recomputed') {
          c.recomputed++;
          continue;
        }
        if (r.kind === 'attempt') {
          c.attempts++;
          engine.attempt(r.a);
          findings.attempt(r.a);
          continue;
        }
        c.rejections++;
        const e = r.e;
        if (e.classification === null) {
          e.classification = classify({ reply: e.reply, direction: e.direction, stage: e.stage, code: e.code, enhancedStatus: e.enhancedStatus, remoteHost: e.remote?.name ?? null, recipientDomain: e.recipientDomain });
        }
        if (e.direction === 'inbound') engine.inbound(e.time === null ? null : Date.parse(e.time), e.classification.subtype, e.client?.ip ?? null, e.recipient);
        if (e.time !== null) {
          if (summary.firstTime === null || e.time < summary.firstTime) summary.firstTime = e.time;
          if (summary.lastTime === null || e.time > summary.lastTime) summary.lastTime = e.time;
        }
        report.event(e);
        findings.event(e);
      }
    } catch (err) {
      if (!(err instanceof Mta550Error)) throw err;
      summary.error = err.message;
    } finally {
      if (source.kind === 'file') opened.stream.destroy();
    }
  }
  engine.flush();
  for (const r of onsets) {
    report.onset(r);
    findings.onset(r);
  }
  const correlation = { messagesOpened: 0, messagesClosed: 0, evictedIdle: 0, evictedOverflow: 0, openAtEnd: 0, releasedWaiting: 0, nonRefusingActions: {} };
  return { report: report.build(inputs, correlation, findings.build()), counts };
}
