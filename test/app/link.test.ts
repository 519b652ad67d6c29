/**
 * #6 item 4: `mta550 analyze app.log mail.log` joins an app's refusal with the MTA's record of the
 * same message: by Message-ID when both logged it (exact), else by recipient within two minutes
 * (marked inferred). Inputs in either order give the same joins.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceLinker } from '../../src/correlate/link.js';
import type { RejectionEvent } from '../../src/model/event.js';
import { runCli } from '../run-cli.js';

const APP = [
  // End-of-DATA refusal, the app logged the Message-ID it set.
  JSON.stringify({
    level: 50,
    time: Date.parse('2024-11-03T08:12:55.300Z'),
    hostname: 'app01',
    name: 'mailer',
    messageId: '<20241103081255.a1@app.example.com>',
    to: 'carol@example.org',
    err: { type: 'Error', message: 'Message failed: 550 5.7.1 Spam message rejected', code: 'EMESSAGE', response: '550 5.7.1 Spam message rejected', responseCode: 550, command: 'DATA' },
    msg: 'send failed',
  }),
  // RCPT refusal, no Message-ID on either side: joined by recipient and time.
  JSON.stringify({
    level: 50,
    time: Date.parse('2024-11-03T08:14:10.000Z'),
    hostname: 'app01',
    name: 'mailer',
    err: {
      type: 'Error',
      message: "Can't send mail - all recipients were rejected: 550 5.1.1 <dan@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
      code: 'EENVELOPE',
      response: '550 5.1.1 <dan@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      responseCode: 550,
      command: 'RCPT TO',
      rejected: ['dan@example.org'],
    },
    msg: 'send failed',
  }),
  // The same recipient refused again ten minutes later: the MTA's refusal is outside the window.
  JSON.stringify({
    level: 50,
    time: Date.parse('2024-11-03T08:24:10.000Z'),
    hostname: 'app01',
    name: 'mailer',
    err: { type: 'Error', message: "Can't send mail - all recipients were rejected: 550 5.1.1 <dan@example.org>: Recipient address rejected", code: 'EENVELOPE', response: '550 5.1.1 <dan@example.org>: Recipient address rejected', responseCode: 550, command: 'RCPT TO', rejected: ['dan@example.org'] },
    msg: 'send failed',
  }),
].join('\n');

const MTA = [
  '2024-11-03T08:12:54.100000+00:00 mx1 postfix/smtpd[2231]: connect from app01.example.com[192.0.2.50]',
  '2024-11-03T08:12:54.200000+00:00 mx1 postfix/smtpd[2231]: 4F1A2B3C4D: client=app01.example.com[192.0.2.50]',
  '2024-11-03T08:12:54.900000+00:00 mx1 postfix/cleanup[2240]: 4F1A2B3C4D: message-id=<20241103081255.a1@app.example.com>',
  '2024-11-03T08:12:55.200000+00:00 mx1 postfix/cleanup[2240]: 4F1A2B3C4D: milter-reject: END-OF-MESSAGE from app01.example.com[192.0.2.50]: 5.7.1 Spam message rejected; from=<noreply@app.example.com> to=<carol@example.org> proto=ESMTP helo=<app01.example.com>',
  '2024-11-03T08:12:55.300000+00:00 mx1 postfix/smtpd[2231]: disconnect from app01.example.com[192.0.2.50]',
  '2024-11-03T08:14:09.400000+00:00 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from app01.example.com[192.0.2.50]: 550 5.1.1 <dan@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<noreply@app.example.com> to=<dan@example.org> proto=ESMTP helo=<app01.example.com>',
].join('\n');

let dir: string;
let app: string;
let mta: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mta550-link-'));
  app = path.join(dir, 'app.log');
  mta = path.join(dir, 'mail.log');
  writeFileSync(app, APP + '\n');
  writeFileSync(mta, MTA + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function events(inputs: string[]): Promise<RejectionEvent[]> {
  const r = await runCli(['analyze', ...inputs, '--output', 'records', '--records', 'events']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RejectionEvent);
}

describe('joining app events with the MTA log', () => {
  it.each([
    ['app log first', () => [app, mta]],
    ['MTA log first', () => [mta, app]],
  ])('joins by Message-ID, then by recipient within the window (%s)', async (_name, inputs) => {
    const all = await events(inputs());
    const apps = all.filter((e) => e.direction === 'submission').sort((a, b) => a.source.line - b.source.line);
    const mtaEvents = all.filter((e) => e.direction === 'inbound');
    expect(apps).toHaveLength(3);
    expect(mtaEvents).toHaveLength(2);
    const milter = mtaEvents.find((e) => e.stage === 'end_of_data')!;
    const noqueue = mtaEvents.find((e) => e.stage === 'rcpt')!;

    expect(apps[0]!.recipient).toBe('carol@example.org');
    expect(apps[0]!.app!.link).toEqual({
      by: 'message-id',
      inferred: false,
      eventId: milter.id,
      source: milter.source,
      mtaHost: 'mx1',
      queueId: '4F1A2B3C4D',
      reply: milter.reply,
      offsetSeconds: 0.1,
    });
    expect(apps[1]!.app!.link).toEqual({
      by: 'recipient-time',
      inferred: true,
      eventId: noqueue.id,
      source: noqueue.source,
      mtaHost: 'mx1',
      queueId: null,
      reply: noqueue.reply,
      offsetSeconds: 0.6,
    });
    expect(apps[2]!.app!.link).toBeNull();
  });
});

describe('SourceLinker', () => {
  const ev = (over: Partial<RejectionEvent>): RejectionEvent =>
    ({
      id: over.id ?? 'x',
      time: null,
      source: { format: 'postfix', file: 'f', line: 1, offset: 0, identity: 'i' },
      mta: { host: 'mx1', program: null, daemon: 'smtpd' },
      direction: 'inbound',
      queueId: null,
      messageId: null,
      recipient: null,
      reply: '',
      ...over,
    }) as RejectionEvent;

  it('prefers our own refusal (inbound) and then the nearest in time', () => {
    const l = new SourceLinker();
    l.index(ev({ id: 'far', recipient: 'a@example.org', time: '2024-01-01T00:00:00.000Z' }));
    l.index(ev({ id: 'out', direction: 'outbound', recipient: 'a@example.org', time: '2024-01-01T00:01:00.000Z' }));
    l.index(ev({ id: 'near', recipient: 'A@example.org', time: '2024-01-01T00:01:30.000Z' }));
    const app = ev({ id: 'app', direction: 'submission', recipient: 'a@example.org', time: '2024-01-01T00:01:00.500Z' });
    app.app = { ecosystem: 'nodemailer', library: 'nodemailer', exception: null, codeCandidates: null, accepted: [], link: null };
    l.hold(app);
    const [out] = l.releaseAll();
    expect(out!.app!.link!.eventId).toBe('near');
  });

  it('forgets the oldest MTA refusals past its bound, and releases the oldest held events past its own', () => {
    const l = new SourceLinker({ maxIndexed: 2, maxHeld: 1 });
    for (const id of ['1', '2', '3']) l.index(ev({ id, messageId: `m${id}` }));
    const mk = (id: string, messageId: string) => {
      const e = ev({ id, direction: 'submission', messageId });
      e.app = { ecosystem: 'python', library: 'smtplib', exception: null, codeCandidates: null, accepted: [], link: null };
      return e;
    };
    expect(l.hold(mk('a', 'm1'))).toEqual([]);
    const early = l.hold(mk('b', 'm3'));
    expect(early.map((e) => [e.id, e.app!.link])).toEqual([['a', null]]);
    const [b] = l.releaseAll();
    expect(b!.app!.link!.eventId).toBe('3');
  });

  it('in live runs releases only events the window has passed', () => {
    const l = new SourceLinker({ windowMs: 60_000 });
    const e = ev({ id: 'a', direction: 'submission', time: '2024-01-01T00:00:00.000Z' });
    e.app = { ecosystem: 'go', library: 'gomail', exception: null, codeCandidates: null, accepted: [], link: null };
    l.hold(e);
    expect(l.releaseBefore(Date.parse('2024-01-01T00:00:59.000Z'))).toEqual([]);
    expect(l.heldFrom().get('i')).toEqual({ offset: 0, line: 0 });
    expect(l.releaseBefore(Date.parse('2024-01-01T00:01:00.000Z')).map((x) => x.id)).toEqual(['a']);
  });
});
