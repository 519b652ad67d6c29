import { describe, expect, it } from 'vitest';
import { detectProvider } from '../../src/classify/providers.js';

const out = { direction: 'outbound' as const, text: '', recipientDomain: null };

describe('detectProvider', () => {
  it.each([
    ['gmail-smtp-in.l.google.com', 'google'],
    ['alt1.aspmx.l.google.com', 'google'],
    ['example-com.mail.protection.outlook.com', 'microsoft'],
    ['mta6.am0.yahoodns.net', 'yahoo'],
    ['mx01.mail.icloud.com', 'apple'],
    ['mx0a-001b2d01.pphosted.com', 'proofpoint'],
    ['eu-smtp-inbound-1.mimecast.com', 'mimecast'],
    ['d123456a.ess.barracudanetworks.com', 'barracuda'],
    ['esa1.example.iphmx.com', 'cisco'],
    ['example.in.tmes.trendmicro.com', 'trendmicro'],
    ['cluster1.eu.messagelabs.com', 'messagelabs'],
    ['mx1.secureserver.net', 'godaddy'],
    ['mx.charter.net', 'cox'],
    ['smtp-in.orange.fr', 'orange'],
    ['mx00.emig.gmx.net', 'gmx'],
    ['mx.zoho.com', 'zoho'],
    ['mx1.qq.com', 'qq'],
    ['mxs.mail.ru', 'mailru'],
    ['mx.yandex.ru', 'yandex'],
    ['inbound-smtp.us-east-1.amazonaws.com', 'amazonses'],
    ['mx.example.org', 'other'],
    ['notgoogle.com.example.org', 'other'],
  ])('host %s -> %s', (remoteHost, provider) => {
    expect(detectProvider({ ...out, remoteHost }).provider).toBe(provider);
  });

  it('falls back to text tokens, then to the recipient domain (weak)', () => {
    expect(detectProvider({ ...out, remoteHost: null, text: 'The account does not exist. a1b2c3 - gsmtp' })).toMatchObject({ provider: 'google', via: 'text' });
    expect(detectProvider({ ...out, remoteHost: 'mx.example.org', text: '[TSS04] Messages from 203.0.113.7 deferred' })).toMatchObject({ provider: 'yahoo', via: 'text' });
    expect(detectProvider({ ...out, remoteHost: null, recipientDomain: 'gmail.com' })).toMatchObject({ provider: 'google', via: 'recipient_domain' });
  });

  it('does not take a provider from an address inside the text', () => {
    expect(detectProvider({ ...out, remoteHost: 'mx.example.org', text: '<bob@yahoo.com>: Recipient address rejected' }).provider).toBe('other');
  });

  it('calls our own refusals self', () => {
    expect(detectProvider({ direction: 'inbound', remoteHost: 'gmail-smtp-in.l.google.com', text: '', recipientDomain: null })).toMatchObject({ provider: 'self', via: 'self' });
  });
});
