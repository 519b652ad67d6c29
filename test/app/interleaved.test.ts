/**
 * #6 "done when": a 50,000-line app log with interleaved traces streams in bounded memory, and no
 * trace is split or merged wrongly. Six processes (three JVMs, three Python workers) write through
 * journald, so every line carries its own header and their lines interleave at random; each process
 * writes ordinary lines and SMTP error traces, every trace naming a recipient of its own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultilineFramer } from '../../src/framing/multiline.js';
import type { Line } from '../../src/framing/lines.js';
import type { RejectionEvent } from '../../src/model/event.js';
import { rng } from '../random.js';
import { runCli } from '../run-cli.js';

interface Injected {
  recipient: string;
  ecosystem: 'java' | 'python';
  /** 1-based line of the trace's first line in the file. */
  line: number;
}

function javaTrace(r: string): string[] {
  return [
    'ERROR c.e.mail.Mailer - send failed',
    'jakarta.mail.SendFailedException: Invalid Addresses;',
    '  nested exception is:',
    `\torg.eclipse.angus.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <${r}>: Recipient address rejected: User unknown in virtual mailbox table`,
    '\tat org.eclipse.angus.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2076)',
    '\tat org.eclipse.angus.mail.smtp.SMTPTransport.sendMessage(SMTPTransport.java:1337)',
    '\tat jakarta.mail.Transport.send0(Transport.java:255)',
    '\tat com.example.mail.Mailer.send(Mailer.java:88)',
  ];
}

function pythonTrace(r: string): string[] {
  return [
    'ERROR worker.mail: send failed',
    'Traceback (most recent call last):',
    '  File "/srv/worker/mail.py", line 41, in send',
    '    server.sendmail(sender, [rcpt], body)',
    '  File "/usr/lib/python3.11/smtplib.py", line 901, in sendmail',
    '    raise SMTPRecipientsRefused(senderrs)',
    `smtplib.SMTPRecipientsRefused: {'${r}': (550, b'5.1.1 <${r}>: Recipient address rejected: User unknown in virtual mailbox table')}`,
  ];
}

/** Builds the interleaved log; returns its text and the traces it holds. */
function build(totalLines: number, seed: number): { text: string; injected: Injected[] } {
  const random = rng(seed);
  const procs = [
    { tag: 'java[4101]', eco: 'java' as const },
    { tag: 'java[4102]', eco: 'java' as const },
    { tag: 'java[4103]', eco: 'java' as const },
    { tag: 'python3[5201]', eco: 'python' as const },
    { tag: 'python3[5202]', eco: 'python' as const },
    { tag: 'python3[5203]', eco: 'python' as const },
  ].map((p) => ({ ...p, pending: [] as { text: string; start: Injected | null }[] }));
  const lines: string[] = [];
  const injected: Injected[] = [];
  let n = 0;
  let t = Date.UTC(2024, 10, 3, 8, 0, 0);
  // Past `totalLines` only the traces already started are finished (no trace is cut by the end).
  while (lines.length < totalLines || procs.some((p) => p.pending.length > 0)) {
    const open = lines.length < totalLines ? procs : procs.filter((p) => p.pending.length > 0);
    const p = open[Math.floor(random() * open.length)]!;
    if (p.pending.length === 0) {
      if (random() < 0.15) {
        const r = `user${++n}@d${n % 97}.example.org`;
        const trace = p.eco === 'java' ? javaTrace(r) : pythonTrace(r);
        const inj: Injected = { recipient: r, ecosystem: p.eco, line: 0 };
        trace.forEach((text, i) => p.pending.push({ text, start: i === 0 ? inj : null }));
      } else {
        p.pending.push({ text: p.eco === 'java' ? `INFO c.e.jobs.Runner - job ${lines.length} done in 550 ms` : `INFO worker.jobs: job ${lines.length} done`, start: null });
      }
    }
    const next = p.pending.shift()!;
    t += Math.floor(random() * 40);
    if (next.start !== null) {
      next.start.line = lines.length + 1;
      injected.push(next.start);
    }
    lines.push(`${new Date(t).toISOString()} app01 ${p.tag}: ${next.text}`);
  }
  return { text: lines.join('\n') + '\n', injected };
}

let dir: string;
let log: string;
let truth: Injected[];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mta550-interleaved-'));
  log = path.join(dir, 'app.log');
  const b = build(50_000, 6);
  writeFileSync(log, b.text);
  truth = b.injected;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('interleaved traces in a 50,000-line app log', () => {
  it('gives every trace once, whole, at its first line, and nothing else', async () => {
    const r = await runCli(['analyze', log, '--output', 'records', '--records', 'events']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RejectionEvent);
    expect(truth.length).toBeGreaterThan(900);
    const got = events.map((e) => [e.recipient, e.app?.ecosystem, e.source.line, e.code, e.enhancedStatus, e.stage]).sort();
    const want = truth.map((i) => [i.recipient, i.ecosystem, i.line, 550, '5.1.1', 'rcpt']).sort();
    expect(got).toEqual(want);
    for (const e of events) expect(e.reply).toBe(`550 5.1.1 <${e.recipient}>: Recipient address rejected: User unknown in virtual mailbox table`);
  });

  it('holds at most one unit per process at a time, none longer than its trace', () => {
    const framer = new MultilineFramer();
    const text = build(50_000, 6).text.split('\n');
    let maxOpen = 0;
    let maxLines = 0;
    let offset = 0;
    text.forEach((t, i) => {
      const line = { text: t, number: i + 1, offset, end: offset + t.length + 1, truncated: false } as Line;
      offset = line.end;
      const { units } = framer.push(line, t);
      for (const u of units) maxLines = Math.max(maxLines, u.lines);
      maxOpen = Math.max(maxOpen, (framer as unknown as { open: Map<string, unknown> }).open.size);
    });
    expect(maxOpen).toBeLessThanOrEqual(6);
    expect(maxLines).toBeLessThanOrEqual(8);
  });
});
