import { describe, expect, it } from 'vitest';
import { normaliseReply } from '../../src/classify/normalise.js';

describe('normaliseReply', () => {
  it.each([
    [
      'Postfix wrapper with stage',
      'host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@example.net>: User unknown (in reply to RCPT TO command)',
      { text: '<dave@example.net>: User unknown', code: 550, enhanced: '5.1.1', stage: 'rcpt', remoteHost: 'mx.example.net' },
    ],
    [
      'flattened multi-line reply',
      "550-5.7.26 Unauthenticated email from example.org is not accepted due to 550-5.7.26 domain's DMARC policy. 550 5.7.26 - gsmtp",
      { text: "Unauthenticated email from example.org is not accepted due to domain's DMARC policy. - gsmtp", code: 550, enhanced: '5.7.26' },
    ],
    ['multi-line without enhanced codes', '550-Requested action not taken: 550 mailbox unavailable', { text: 'Requested action not taken: mailbox unavailable', code: 550, enhanced: null }],
    ['refused to talk to me', 'host mx.example.net[198.51.100.60] refused to talk to me: 550 5.7.1 Service refused', { stage: 'connect', code: 550, text: 'Service refused' }],
    [
      'Exim wrapper, 4.97 layout',
      'H=mx.example.org [198.51.100.40] : SMTP error from remote mail server after RCPT TO:<carol@example.org>: 550 5.1.1 No such user',
      { stage: 'rcpt', code: 550, enhanced: '5.1.1', text: 'No such user' },
    ],
    [
      'Exim 4.92 layout with the host after the stage',
      'SMTP error from remote mail server after MAIL FROM:<a@example.com> SIZE=1234: host mx1.example.com [192.0.2.55]: 550 5.7.1 Rejected',
      { stage: 'mail', remoteHost: 'mx1.example.com', code: 550, text: 'Rejected' },
    ],
    ['Exim end of data', 'SMTP error from remote mail server after end of data: 554 5.7.1 spam', { stage: 'end_of_data', code: 554 }],
    ['Exim literal \\n multi-line', 'SMTP error from remote mail server after RCPT TO:<x@example.org>: 550-First line\\n550 Second line', { text: 'First line Second line', code: 550 }],
    ['Exchange NDR', "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'", { code: 550, enhanced: '5.1.10', text: 'RESOLVER.ADR.RecipientNotFound; not found' }],
    ['enhanced status only', '5.7.1 Spam message rejected', { code: null, enhanced: '5.7.1', text: 'Spam message rejected' }],
    ['code only', '554 Transaction failed', { code: 554, enhanced: null, text: 'Transaction failed' }],
    ['no code at all', 'relay not permitted', { code: null, enhanced: null, text: 'relay not permitted' }],
    ['LMTP error', 'LMTP error after DATA: 550 5.1.1 User unknown', { stage: 'data', enhanced: '5.1.1' }],
    ['qmail #code', '550 #5.1.0 Address rejected.', { enhanced: '5.1.0', text: 'Address rejected.' }],
  ])('%s', (_name, input, expected) => {
    expect(normaliseReply(input)).toMatchObject(expected);
  });

  it('flags a reply cut with an ellipsis', () => {
    expect(normaliseReply('550 5.7.1 Our system has detected that this message is...').truncated).toBe(true);
  });
});
