/**
 * The NDJSON line of each record in the chosen shape: ECS documents (`--output ndjson`, the
 * default), the same content flat (`--ecs=false`), or mta550's own records (`--output records`,
 * schema 1: the event and onset shapes of the README).
 */
import type { ReportGroup } from '../aggregate/report.js';
import { Mta550Error } from '../errors.js';
import type { DeliveryAttempt, RejectionEvent } from '../model/event.js';
import type { Format } from '../model/parser.js';
import type { OnsetRecord } from '../onset/engine.js';
import type { LiveSummary } from '../pipeline.js';
import type { Finding } from '../findings/types.js';
import { attemptToEcs, findingToEcs, flatten, groupToEcs, onsetToEcs, rejectionToEcs, summaryToEcs } from './ecs.js';
import type { Redactor } from './redact.js';

export type DocShape = 'ecs' | 'flat' | 'records';
export type RecordKind = 'events' | 'onsets' | 'groups' | 'attempts' | 'findings';

/** `--records`: a comma-separated list of kinds, or `all` (events, onsets, groups and findings). */
export function parseRecords(spec: string, allowed: readonly RecordKind[] = ['events', 'onsets', 'groups', 'attempts', 'findings']): Set<RecordKind> {
  const out = new Set<RecordKind>();
  for (const raw of spec.split(',')) {
    const k = raw.trim();
    if (k === 'all') {
      for (const x of ['events', 'onsets', 'groups', 'findings'] as const) if (allowed.includes(x)) out.add(x);
    } else if ((allowed as readonly string[]).includes(k)) out.add(k as RecordKind);
    else throw new Mta550Error('usage', `--records: "${k}" is not one of all, ${allowed.join(', ')}`);
  }
  return out;
}

export class DocWriter {
  constructor(
    private readonly shape: DocShape,
    private readonly redactor: Redactor | null = null,
  ) {}

  private line(doc: Record<string, unknown>): string {
    return `${JSON.stringify(this.shape === 'flat' ? flatten(doc) : doc)}\n`;
  }

  event(e: RejectionEvent): string {
    const x = this.redactor === null ? e : this.redactor.event(e);
    return this.shape === 'records' ? `${JSON.stringify(x)}\n` : this.line(rejectionToEcs(x));
  }

  onset(r: OnsetRecord): string {
    const x = this.redactor === null ? r : this.redactor.onset(r);
    return this.shape === 'records' ? `${JSON.stringify(x)}\n` : this.line(onsetToEcs(x));
  }

  attempt(attempt: DeliveryAttempt, from: { format: Format; path: string }): string {
    // The Message-ID rides along for the re-send finding only: attempt records keep their shape.
    const { messageId: _internal, ...a } = attempt;
    const x = this.redactor === null ? a : this.redactor.attempt(a);
    return this.shape === 'records' ? `${JSON.stringify({ type: 'attempt', format: from.format, file: from.path, ...x })}\n` : this.line(attemptToEcs(x, from.format, from.path));
  }

  /** A tail summary: as an ECS metric document (the tool's health beside its events), else as it is. */
  summary(sm: LiveSummary): string {
    return this.shape === 'records' ? `${JSON.stringify(sm)}\n` : this.line(summaryToEcs(sm));
  }

  /** A finding of a built report (#14), redacted by the caller with the report. */
  finding(f: Finding): string {
    return this.shape === 'records' ? `${JSON.stringify({ type: 'finding', ...f })}\n` : this.line(findingToEcs(f));
  }

  /** A group of a built report: the caller redacts the report once (its text and JSON forms too). */
  group(g: ReportGroup, at: string | null): string {
    return this.shape === 'records' ? `${JSON.stringify({ type: 'group', ...g })}\n` : this.line(groupToEcs(g, at));
  }
}
