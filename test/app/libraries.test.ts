/**
 * Issue #6, item 3: app logs produced by the real client libraries, read by mta550.
 *
 * harness.ts starts a scripted SMTP server, sends every scenario of its table through real
 * Nodemailer and real Python smtplib, and writes five logs (three Node styles, two Python ones).
 * Each log is analysed with `analyze <log> --codes 5xx --output records --records events --strict`
 * and the events of each scenario (attributed by `source.line` to the lines the scenario wrote) are
 * compared field by field with what the table says (expectedEvents in harness.ts).
 *
 * The logs are kept in $MTA550_APP_FIXTURES_DIR, else <os.tmpdir()>/mta550-app-fixtures, for a human
 * to look at (the repository has no artifacts directory).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RejectionEvent } from '../../src/model/event.js';
import type { InputSummary } from '../../src/pipeline.js';
import {
  SCENARIOS,
  STYLES,
  NODE_HELO,
  PYTHON_HELO,
  expectedEvents,
  produceNodeLogs,
  producePythonLogs,
  refusalsOf,
  startServer,
  type ExpectedEvent,
  type ProducedLog,
  type Scenario,
  type ScriptedServer,
  type Style,
} from './harness.js';

const KEEP_DIR = process.env.MTA550_APP_FIXTURES_DIR ?? path.join(tmpdir(), 'mta550-app-fixtures');

interface Analysis {
  log: ProducedLog;
  /** Exit code of the records run (`--strict`: 3 when any line is malformed). */
  code: number;
  stderr: string;
  events: RejectionEvent[];
  /** The input summaries of the `--output json` run, null when that run failed. */
  inputs: InputSummary[] | null;
  /** A thrown error of either run. */
  error: string | null;
}

let server: ScriptedServer | null = null;
let dir = '';
const analyses = new Map<Style, Analysis>();

async function analyse(log: ProducedLog): Promise<Analysis> {
  const a: Analysis = { log, code: -1, stderr: '', events: [], inputs: null, error: null };
  try {
    // Imported here, not at the top: a CLI that does not load fails these assertions, not the harness's.
    const { runCli } = await import('../run-cli.js');
    const r = await runCli(['analyze', log.path, '--codes', '5xx', '--output', 'records', '--records', 'events', '--strict']);
    a.code = r.code;
    a.stderr = r.stderr;
    a.events = r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as RejectionEvent)
      .filter((e) => typeof e === 'object' && e !== null && 'direction' in e && 'source' in e);
    const j = await runCli(['analyze', log.path, '--codes', '5xx', '--output', 'json']);
    a.inputs = (JSON.parse(j.stdout) as { inputs: InputSummary[] }).inputs;
  } catch (e) {
    a.error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  }
  return a;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mta550-app-libs-'));
  server = await startServer();
  const logs = [...(await produceNodeLogs(dir, server.port)), ...(await producePythonLogs(dir, server.port))];
  mkdirSync(KEEP_DIR, { recursive: true });
  cpSync(dir, KEEP_DIR, { recursive: true });
  for (const log of logs) analyses.set(log.style, await analyse(log));
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function analysis(style: Style): Analysis {
  const a = analyses.get(style);
  if (a === undefined) throw new Error(`no ${style} log was produced`);
  return a;
}

/** The fields of an event that `expected` names (RejectionEvent projected onto ExpectedEvent). */
function project(e: RejectionEvent, like: ExpectedEvent | undefined): Record<string, unknown> {
  const app = e.app;
  const out: Record<string, unknown> = {
    recipient: e.recipient,
    recipientDomain: e.recipientDomain,
    code: e.code,
    enhancedStatus: e.enhancedStatus,
    stage: e.stage,
    reply: e.reply,
    direction: e.direction,
    messageId: e.messageId,
    app: app === undefined ? undefined : { ecosystem: app.ecosystem, library: app.library, accepted: app.accepted },
  };
  if (like?.sender !== undefined) out.sender = e.sender;
  if (like?.app.exception !== undefined && app !== undefined) (out.app as Record<string, unknown>).exception = app.exception;
  return out;
}

function eventsOf(a: Analysis, s: Scenario): RejectionEvent[] {
  const r = a.log.ranges.find((x) => x.scenario === s.id);
  if (r === undefined) return [];
  return a.events.filter((e) => e.source.line >= r.first && e.source.line <= r.last);
}

describe('the harness (independent of the parser)', () => {
  it('the server gave every scripted refusal to both clients', () => {
    for (const client of [NODE_HELO, PYTHON_HELO]) {
      const seen = new Set(
        server!.journal.filter((j) => j.client === client).map((j) => JSON.stringify([j.scenario, j.stage, j.recipient, j.code, j.lines])),
      );
      const want = new Set(SCENARIOS.flatMap((s) => refusalsOf(s).map((r) => JSON.stringify([s.id, r.stage, r.recipient, r.reply.code, r.reply.lines]))));
      expect([...seen].sort(), client).toEqual([...want].sort());
    }
  });

  it.each(STYLES)('%s: every scenario wrote lines of its own', (style) => {
    const a = analysis(style);
    expect(a.log.ranges.map((r) => r.scenario)).toEqual(SCENARIOS.map((s) => s.id));
    for (const r of a.log.ranges) expect(r.last, `${style} ${r.scenario}`).toBeGreaterThanOrEqual(r.first);
  });
});

describe.each(STYLES)('mta550 on the %s log', (style) => {
  it('reads it as an app log, without a malformed line', () => {
    const a = analysis(style);
    expect(a.error).toBeNull();
    const input = a.inputs?.[0];
    expect({ format: input?.format, malformed: input?.malformed, examples: input?.malformedExamples }).toEqual({ format: 'app', malformed: 0, examples: [] });
    expect(a.code, a.stderr).toBe(0);
  });

  it('writes exactly the expected number of events, each within the lines of a scenario', () => {
    const a = analysis(style);
    const total = SCENARIOS.reduce((n, s) => n + expectedEvents(s, style).length, 0);
    const stray = a.events.filter((e) => !a.log.ranges.some((r) => e.source.line >= r.first && e.source.line <= r.last));
    expect(stray.map((e) => ({ line: e.source.line, reply: e.reply }))).toEqual([]);
    expect(a.events.length).toBe(total);
  });

  it.each(SCENARIOS.map((s) => [s.id, s] as const))('%s: the events field by field', (_id, s) => {
    const want = expectedEvents(s, style);
    const a = analysis(style);
    expect(a.error).toBeNull();
    const got = eventsOf(a, s)
      .map((e) => project(e, want[0]))
      .sort((x, y) => String(x.recipient ?? '').localeCompare(String(y.recipient ?? '')));
    expect(got).toEqual(want);
  });
});
