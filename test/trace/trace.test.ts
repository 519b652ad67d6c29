/**
 * #13 item 1: `mta550 trace` finds a message by each kind of key across a Postfix log, an app log and
 * an Exchange Online trace, and tells its story in time order with the refusals' causes.
 *
 * Inputs: the bundled app sample 014 (a Nodemailer app's pino log) and its relay's Postfix log, plus
 * an Exchange Online trace of the recipient's side written here: the relay handed message
 * <20241103081244.b1f3c2e0@app01.example.com> to example.net, whose Exchange Online then failed it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceResult } from '../../src/trace/trace.js';
import { runCli } from '../run-cli.js';

const APP = 'samples/app/014-nodemailer-pino-relay.log';
const RELAY = 'samples/app/relay/014-relay-postfix.log';
const MID = '20241103081244.b1f3c2e0@app01.example.com';
const TRACE_ID = '3f1c2a9e-5b7d-4e21-8c3a-08dcfb7a1e55';

let dir: string;
let exo: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mta550-trace-'));
  exo = path.join(dir, 'exchange-online.json');
  writeFileSync(
    exo,
    JSON.stringify(
      {
        value: [
          {
            Organization: 'examplenet.onmicrosoft.com',
            MessageId: `<${MID}>`,
            Received: '2024-11-03T08:12:46.1234567Z',
            SenderAddress: 'orders@example.com',
            RecipientAddress: 'carol@example.net',
            Subject: 'Your order',
            Status: 'Failed',
            ToIP: null,
            FromIP: '198.51.100.61',
            Size: 6120,
            MessageTraceId: TRACE_ID,
            Index: 0,
          },
        ],
      },
      null,
      2,
    ),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function traceJson(query: string, ...extra: string[]): Promise<TraceResult> {
  const r = await runCli(['trace', query, APP, RELAY, exo, '--output', 'json', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as TraceResult;
}

const formats = (t: TraceResult) => [...new Set(t.messages.flatMap((m) => m.records.map((r) => r.format)))].sort();

describe('mta550 trace', () => {
  it.each([
    ['its Message-ID (with angle brackets)', `<${MID}>`],
    ['its Message-ID (without)', MID],
    ['its Postfix queue ID', '3A5F2C1D88'],
    ['its Exchange Online message trace id', TRACE_ID],
  ])('finds the relayed message by %s, with the Exchange side joined by Message-ID', async (_what, query) => {
    const t = await traceJson(query);
    expect(t.messages).toHaveLength(1);
    const m = t.messages[0]!;
    expect(m.messageId).toBe(MID);
    expect(formats(t)).toEqual(['app', 'exchange', 'postfix'].filter((f) => m.records.some((r) => r.format === f)));
    expect(m.records.map((r) => [r.format, r.line])).toEqual([
      ['postfix', 3],
      ['postfix', 4],
      ['postfix', 5],
      ['postfix', 7],
      ['postfix', 8],
      ['exchange', expect.any(Number)],
    ]);
    // Time order across sources.
    const times = m.records.map((r) => r.time!);
    expect([...times].sort()).toEqual(times);
    expect(m.records.at(-1)!.text).toContain('<carol@example.net> Failed');
    expect(m.events.map((e) => [e.direction, e.recipient, e.code, e.codeInferred])).toEqual([['outbound', 'carol@example.net', 550, true]]);
  });

  it("finds an app's refusal by its recipient, joined with the relay's refusal of the same message", async () => {
    const t = await traceJson('pat@example.org');
    expect(t.messages).toHaveLength(1);
    const m = t.messages[0]!;
    expect(m.messageId).toBe('20241103081254.5e0a9c3d@app01.example.com');
    expect(formats(t)).toEqual(['app', 'postfix']);
    const refusals = m.events.map((e) => [e.direction, e.stage, e.classification?.subtype]).sort();
    expect(refusals).toHaveLength(2);
    expect(refusals.map((r) => r[0])).toEqual(['inbound', 'submission']);
    const app = m.events.find((e) => e.direction === 'submission')!;
    expect(app.app?.link?.by).toBe('message-id');
  });

  it('finds a refusal before queueing (no queue ID, no Message-ID) by its recipient, in the app log and the relay log', async () => {
    const t = await traceJson('xavier@example.org');
    expect(formats(t)).toEqual(['app', 'postfix']);
    expect(t.messages.flatMap((m) => m.events.map((e) => e.direction)).sort()).toEqual(['inbound', 'submission']);
  });

  it('finds every message of a sender, and every message to a domain; --since/--until narrow them', async () => {
    const bySender = await traceJson('orders@example.com');
    expect(bySender.messages.length).toBeGreaterThanOrEqual(2);
    const byDomain = await traceJson('example.net');
    expect(byDomain.messages.some((m) => m.messageId === MID)).toBe(true);
    const none = await traceJson('example.net', '--until', '2024-11-03T08:00:00Z');
    expect(none.messages).toEqual([]);
  });

  it('keeps two messages that shared a reused Postfix queue ID apart, and follows an Exim bounce from its parent', async () => {
    const pf = await runCli(['trace', 'dan@example.org', 'samples/postfix/004-queue-id-reuse.log', '--year', '2024', '--output', 'json']);
    const t = JSON.parse(pf.stdout) as TraceResult;
    expect(t.messages.map((m) => m.messageId)).toEqual(['0c9e7a5b-2468-4f1d-8b3a-5c7e9f1a3b5d@example.com', '20240909122250.6D04F1B9A5@mx1.example.com']);
    expect(t.messages[0]!.records.every((r) => r.line >= 27)).toBe(true);
    const ex = await runCli(['trace', '1rjaou-000CXb-DI', 'samples/exim/001-remote-550.log', '--year', '2024', '--output', 'json']);
    const e = JSON.parse(ex.stdout) as TraceResult;
    expect(e.messages.flatMap((m) => m.keys).sort()).toEqual(['exim||1rjaou-000CXb-DI', 'exim||1rjaov-000CXf-Nf']);
  });

  it('follows at most --limit messages and says how many more matched', async () => {
    const r = await runCli(['trace', 'example.org', 'samples/postfix/004-queue-id-reuse.log', '--year', '2024', '--limit', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/more line\(s\) matched messages past --limit/);
  });

  it('prints a story as text, and refuses standard input with a usage error', async () => {
    const text = await runCli(['trace', 'pat@example.org', APP, RELAY]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('mta550 trace pat@example.org: 1 message');
    expect(text.stdout).toMatch(/-> submission refusal 550 5\.7\.1 of pat@example\.org at end_of_data: \w+/);
    expect(text.stdout).toContain('next move:');
    expect(text.stdout).toContain('joined with mx1');
    const stdin = await runCli(['trace', 'pat@example.org', '-'], 'x\n');
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toContain('not standard input');
  });
});
