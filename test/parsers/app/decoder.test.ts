/**
 * The app-log decoder around the ecosystem parsers (parsers/app/index.ts): prefixes, JSON entries,
 * the per-input state (transcript commands, PHPMailer's repeats), and hostile structured input.
 */
import { describe, expect, it } from 'vitest';
import { appParser, decodeUnit, readPrefix } from '../../../parsers/app/index.js';
import type { AppErrorRecord, Decoded } from '../../../src/model/records.js';
import { runCli } from '../../run-cli.js';

const record = (d: Decoded): AppErrorRecord => {
  if (d.type !== 'record' || d.record.kind !== 'app.error') throw new Error(`not an app record: ${d.type}`);
  return d.record;
};

describe('app decoder', () => {
  it.each([
    ['2024-11-03 08:12:55,104 ERROR app.mail: send failed', Date.UTC(2024, 10, 3, 8, 12, 55, 104), 'send failed'],
    ['2024-11-03T08:12:55.104Z ERROR [main] c.e.Mailer - send failed', Date.UTC(2024, 10, 3, 8, 12, 55, 104), 'send failed'],
    ['[2024-11-03 08:12:55] production.ERROR: Expected response code', Date.UTC(2024, 10, 3, 8, 12, 55), 'Expected response code'],
    ['[28-Nov-2026 02:54:09 UTC] Mailer Error: x', Date.UTC(2026, 10, 28, 2, 54, 9), 'Mailer Error: x'],
    ['2024/07/30 12:03:44 gomail: could not send email 1: 550 x', Date.UTC(2024, 6, 30, 12, 3, 44), 'gomail: could not send email 1: 550 x'],
    ['E, [2024-11-03T08:12:55.104392 #1234] ERROR -- app: Net::SMTPFatalError', Date.UTC(2024, 10, 3, 8, 12, 55, 104), 'Net::SMTPFatalError'],
  ])('reads the prefix of %s', (line, epochMs, body) => {
    const p = readPrefix(line);
    expect(p.time).toEqual({ kind: 'absolute', epochMs });
    expect(p.body).toBe(body);
  });

  it('keeps a JSON log time no Date can hold from breaking the run (no time instead)', async () => {
    const line = JSON.stringify({ time: 1e20, level: 50, msg: 'send failed', err: { message: 'Message failed: 550 5.7.1 rejected', code: 'EMESSAGE', responseCode: 550, response: '550 5.7.1 rejected', command: 'DATA' } });
    const r = await runCli(['analyze', '-', '--format', 'app', '--output', 'records', '--records', 'events'], line + '\n');
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout.trim()) as { time: string | null; code: number };
    expect(e).toMatchObject({ time: null, code: 550 });
  });

  it('takes `__proto__` in a logged error object as data, never as the prototype of its fields', () => {
    const line = '{"level":50,"msg":"send failed","err":{"__proto__":{"to":"spoof@evil.example"},"message":"Message failed: 550 5.7.1 rejected","code":"EMESSAGE","responseCode":550,"response":"550 5.7.1 rejected","command":"DATA"}}';
    const r = record(decodeUnit(line));
    expect(r.recipients).toEqual([]);
  });

  it("fills a PHPMailer refusal's recipient from the transcript command logged just before it, and only that one", () => {
    const dec = appParser.newDecoder!();
    const t = (s: string) => `[28-Nov-2026 02:57:38 UTC] ${s}`;
    dec.decode(t('CLIENT -> SERVER: RCPT TO:<dave@example.com>'));
    expect(dec.decode(t('SERVER -> CLIENT: 550 5.1.1 The account does not exist')).type).toBe('other');
    const r = record(dec.decode(t('SMTP ERROR: RCPT TO command failed: 550 5.1.1 The account does not exist')));
    expect(r.recipients.map((x) => x.address)).toEqual(['dave@example.com']);
    // A later refusal naming nobody does not inherit the address.
    for (let i = 0; i < 4; i++) dec.decode(t(`INFO job ${i} done`));
    const later = record(dec.decode(t('SMTP ERROR: RCPT TO command failed: 550 5.1.1 The account does not exist')));
    expect(later.recipients).toEqual([]);
  });

  it("counts PHPMailer's repeats of one refusal once, but not refusals with other lines between them", () => {
    const dec = appParser.newDecoder!();
    const a = '[28-Nov-2026 02:57:38 UTC] SMTP ERROR: DATA END command failed: 550 5.7.1 Message rejected as spam';
    const echo = '[28-Nov-2026 02:57:38 UTC] Mailer Error: SMTP Error: data not accepted.SMTP server error: DATA END command failed Detail: Message rejected as spam\n SMTP code: 550 Additional SMTP info: 5.7.1';
    expect(dec.decode(a).type).toBe('record');
    expect(dec.decode(echo).type).toBe('continuation');
    expect(dec.notes!()).toEqual([expect.stringContaining('1 PHPMailer report(s) repeating')]);
    const other = appParser.newDecoder!();
    const noTime = 'Mailer Error: SMTP Error: data not accepted.SMTP server error: DATA END command failed Detail: Message rejected as spam\n SMTP code: 550 Additional SMTP info: 5.7.1';
    expect(other.decode(noTime).type).toBe('record');
    expect(other.decode('order 17 done').type).toBe('other');
    expect(other.decode(noTime).type).toBe('record');
  });
});
