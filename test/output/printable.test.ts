/**
 * Log text written to a terminal (text report, trace, live lines) never carries the log's control
 * characters: an escape sequence in a reply would retitle or clear the reader's terminal.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { printable } from '../../src/output/ansi.js';
import { runCli } from '../run-cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mta550-printable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HOSTILE = '\u001b]0;PWNED\u0007\u001b[2J\u009b31m\tx';
const log = path.join(dir, 'mail.log');
writeFileSync(
  log,
  [
    '2024-03-11T08:15:39+00:00 mx1 postfix/cleanup[2240]: 5D0B7F3A19: message-id=<evil' + HOSTILE + '@example.com>',
    '2024-03-11T08:15:39+00:00 mx1 postfix/qmgr[811]: 5D0B7F3A19: from=<a@example.com>, size=100, nrcpt=1 (queue active)',
    '2024-03-11T08:15:41+00:00 mx1 postfix/smtp[2250]: 5D0B7F3A19: to=<carol@example.net>, relay=mx.example.net[198.51.100.25]:25, delay=1, delays=0/0/0/0, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.25] said: 550 5.1.1 <carol@example.net>: unknown ' + HOSTILE + ' (in reply to RCPT TO command))',
    '2024-03-11T08:15:41+00:00 mx1 postfix/qmgr[811]: 5D0B7F3A19: removed',
  ].join('\n') + '\n',
);

const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('terminal output of log text', () => {
  it('turns control characters into U+FFFD, tabs and line ends into spaces', () => {
    expect(printable('a\u001b[2Jb\tc\u009bd\ne')).toBe('a\ufffd[2Jb c\ufffdd e');
  });

  it('the text report and trace print no control character from the log', async () => {
    const report = await runCli(['analyze', log, '--output', 'text', '--color', 'never']);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('unknown');
    expect(report.stdout).not.toMatch(CONTROL);
    const trace = await runCli(['trace', 'carol@example.net', log, '--raw']);
    expect(trace.code).toBe(0);
    expect(trace.stdout).toContain('carol@example.net');
    expect(trace.stdout).not.toMatch(CONTROL);
  });
});
