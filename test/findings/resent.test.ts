import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/correlate/messages.js';
import { ResentDetector } from '../../src/findings/resent.js';
import type { DeliveryAttempt, RejectionEvent } from '../../src/model/event.js';

const obs = (host: string, queueId: string, messageId: string): Observation =>
  ({
    record: { kind: 'postfix.cleanup.message_id', queueId, messageId },
    envelope: { time: { kind: 'none' }, host, program: 'postfix/cleanup', pid: 1, container: null, message: '' },
    daemon: 'cleanup',
    timeMs: null,
    yearSource: 'none',
    source: { format: 'postfix', file: 'relay.log', line: 1, offset: 0, identity: 'r' },
    raw: '',
  }) as Observation;

const refusal = (over: Partial<RejectionEvent>): RejectionEvent =>
  ({
    id: 'e1',
    time: '2024-11-03T08:12:55.000Z',
    source: { format: 'app', file: 'app.log', line: 7, offset: 100, identity: 'a' },
    mta: { host: 'app01', program: 'mailer', daemon: 'nodemailer' },
    direction: 'submission',
    messageId: 'm1@app.example.com',
    recipient: 'carol@example.net',
    code: 550,
    reply: '550 5.7.1 Message rejected',
    remote: { name: 'smtp.esp.example', ip: null, port: null },
    relay: 'smtp.esp.example',
    ...over,
  }) as RejectionEvent;

const sent = (over: Partial<DeliveryAttempt>): DeliveryAttempt => ({
  timeMs: Date.parse('2024-11-03T08:20:00Z'),
  mtaHost: 'mx1',
  messageKey: 'ABC123',
  recipient: 'carol@example.net',
  recipientDomain: 'example.net',
  status: 'sent',
  code: 250,
  enhancedStatus: '2.0.0',
  reply: '250 ok',
  stage: 'end_of_data',
  remoteHost: 'mx.example.net',
  remoteIp: '198.51.100.25',
  sender: 'orders@example.com',
  clientIp: null,
  ...over,
});

describe('resent through another path', () => {
  it("finds an app's refused message delivered later by our relay, in either order of the inputs", () => {
    for (const order of ['refusal first', 'delivery first']) {
      const d = new ResentDetector();
      const steps = [() => d.event(refusal({})), () => (d.record(obs('mx1', 'ABC123', 'm1@app.example.com')), d.attempt(sent({})))];
      if (order === 'delivery first') steps.reverse();
      for (const s of steps) s();
      const [f, ...rest] = d.build();
      expect(rest).toEqual([]);
      expect(f).toMatchObject({
        kind: 'resent_other_path',
        subject: { messageId: 'm1@app.example.com', refusedPath: 'app app01 via smtp.esp.example', deliveredPath: 'mx1 via mx.example.net', recipient: 'carol@example.net' },
        counts: { deliveries: 1, refusedAt: '2024-11-03T08:12:55.000Z', deliveredAt: '2024-11-03T08:20:00.000Z' },
        examples: [{ file: 'app.log', line: 7 }],
      });
      expect(f!.id).toMatch(/^resent_other_path:[0-9a-f]{12}$/);
    }
  });

  it('finds nothing for a delivery before the refusal, through the same path, of another message, or after an inbound refusal', () => {
    const cases: [Partial<RejectionEvent>, Partial<DeliveryAttempt>][] = [
      [{}, { timeMs: Date.parse('2024-11-03T08:00:00Z') }],
      [{ direction: 'outbound', mta: { host: 'mx1', program: null, daemon: 'smtp' }, remote: { name: 'mx.example.net', ip: null, port: null } }, {}],
      [{ messageId: 'other@app.example.com' }, {}],
      [{ direction: 'inbound' }, {}],
      [{ code: 450 }, {}],
      // Another recipient of the same message delivered elsewhere: not a re-send of the refused one.
      [{}, { recipient: 'dave@example.net' }],
      // A content filter's hand-off on loopback, and a hop in the same instant as the refusal.
      [{}, { remoteHost: null, remoteIp: '127.0.0.1' }],
      [{}, { timeMs: Date.parse('2024-11-03T08:12:55Z') }],
    ];
    for (const [e, a] of cases) {
      const d = new ResentDetector();
      d.record(obs('mx1', 'ABC123', 'm1@app.example.com'));
      d.event(refusal(e));
      d.attempt(sent(a));
      expect(d.build()).toEqual([]);
    }
  });

  it('stays within its bounds (the oldest keys leave)', () => {
    const d = new ResentDetector({ maxKeys: 2, maxMessages: 2 });
    d.record(obs('mx1', 'K1', 'm1@app.example.com'));
    d.record(obs('mx1', 'K2', 'm2@app.example.com'));
    d.record(obs('mx1', 'K3', 'm3@app.example.com'));
    d.event(refusal({}));
    d.attempt(sent({ messageKey: 'K1' }));
    expect(d.build()).toEqual([]);
  });
});
