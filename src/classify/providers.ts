/**
 * Who answered (TAXONOMY.md 5): from the remote host's name (suffix tables), else from tokens in the
 * reply text, else, weakly, from the recipient domain. Inbound refusals come from our own MTA: `self`.
 */

export type ProviderId =
  | 'google'
  | 'microsoft'
  | 'yahoo'
  | 'apple'
  | 'proofpoint'
  | 'mimecast'
  | 'barracuda'
  | 'cisco'
  | 'trendmicro'
  | 'messagelabs'
  | 'godaddy'
  | 'cox'
  | 'orange'
  | 'gmx'
  | 'zoho'
  | 'qq'
  | 'mailru'
  | 'yandex'
  | 'amazonses'
  | 'other'
  | 'self';

export type ProviderSource = 'host' | 'text' | 'recipient_domain' | 'self' | 'none';

export interface ProviderMatch {
  provider: ProviderId;
  via: ProviderSource;
  /** What matched: the host suffix, the token, or the domain. */
  value: string | null;
}

/** Host suffixes, most specific first within a provider. A suffix matches the whole name or after a dot. */
const HOST_SUFFIXES: readonly [string, ProviderId][] = [
  ['aspmx.l.google.com', 'google'],
  ['gmail-smtp-in.l.google.com', 'google'],
  ['google.com', 'google'],
  ['googlemail.com', 'google'],
  ['mail.protection.outlook.com', 'microsoft'],
  ['olc.protection.outlook.com', 'microsoft'],
  ['prod.outlook.com', 'microsoft'],
  ['protection.outlook.com', 'microsoft'],
  ['onmicrosoft.com', 'microsoft'],
  ['hotmail.com', 'microsoft'],
  ['outlook.com', 'microsoft'],
  ['yahoodns.net', 'yahoo'],
  ['yahoo.com', 'yahoo'],
  ['mx.aol.com', 'yahoo'],
  ['aol.com', 'yahoo'],
  ['mail.icloud.com', 'apple'],
  ['icloud.com', 'apple'],
  ['me.com', 'apple'],
  ['privaterelay.appleid.com', 'apple'],
  ['pphosted.com', 'proofpoint'],
  ['ppe-hosted.com', 'proofpoint'],
  ['mimecast.com', 'mimecast'],
  ['mimecast.co.za', 'mimecast'],
  ['barracudanetworks.com', 'barracuda'],
  ['iphmx.com', 'cisco'],
  ['tmes.trendmicro.com', 'trendmicro'],
  ['trendmicro.com', 'trendmicro'],
  ['trendmicro.eu', 'trendmicro'],
  ['messagelabs.com', 'messagelabs'],
  ['secureserver.net', 'godaddy'],
  ['cox.net', 'cox'],
  ['charter.net', 'cox'],
  ['comcast.net', 'cox'],
  ['att.net', 'cox'],
  ['prodigy.net', 'cox'],
  ['orange.fr', 'orange'],
  ['wanadoo.fr', 'orange'],
  ['laposte.net', 'orange'],
  ['free.fr', 'orange'],
  ['gmx.net', 'gmx'],
  ['gmx.de', 'gmx'],
  ['web.de', 'gmx'],
  ['kundenserver.de', 'gmx'],
  ['ionos.de', 'gmx'],
  ['ionos.com', 'gmx'],
  ['zoho.com', 'zoho'],
  ['zoho.eu', 'zoho'],
  ['qq.com', 'qq'],
  ['mail.ru', 'mailru'],
  ['yandex.ru', 'yandex'],
  ['yandex.net', 'yandex'],
  ['yandex.com', 'yandex'],
];

/**
 * Text tokens. Order matters only where tokens could overlap; each row names the provider whose
 * software prints it (TAXONOMY.md 5).
 */
const TEXT_TOKENS: readonly [RegExp, ProviderId][] = [
  [/ - gsmtp$|\bgsmtp\b|support\.google\.com\/mail|\bgcdp\b/i, 'google'],
  [/\.prod\.protection\.outlook\.com\]|\bAS\(\d{6,}\)|\(AS\d{6,}\)|\(S3150\)|\bRESOLVER\.(?:ADR|RST)\.|\bSTOREDRV\b|sender\.office\.com|go\.microsoft\.com\/fwlink|postmaster\.live\.com|\bTRANSPORT\.RULES\b|\boutlook\.com\b/i, 'microsoft'],
  [/\[(?:TSS|PH|BL|TS)\d{2}\]|postmaster\.yahooinc\.com|postmaster\.yahoo\.com|dd this user doesn't have a|\(554\.30\)|\byahoo\b/i, 'yahoo'],
  [/\[(?:CS01|HM08|BS01|HME1)\]|support\.apple\.com\/(?:en-us\/)?ht204137|\bicloud\b/i, 'apple'],
  [/envelope blocked|rejected by header[- ]based|mcspamsignature|local ct ip reputation|sender invalid - envelope rejected|community\.mimecast\.com|\bmimecast\b/i, 'mimecast'],
  [/prs\.proofpoint\.com|ipcheck\.proofpoint\.com|user email address is marked as invalid|\bproofpoint\b/i, 'proofpoint'],
  [/\bcuda_nsu\b|barracuda reputation|barracudacentral\.org|\bbarracuda\b/i, 'barracuda'],
  [/\bmessagelabs\b/i, 'messagelabs'],
  [/\bBLOCK-SEND-ER\b|\bBLOCK-RCPT\b|\bERS-\w+|trendmicro|\btrend micro\b/i, 'trendmicro'],
  [/\bAUP#(?:CX|\d)|postmaster\.comcast\.net|\bcomcast\b|\bcox\.net\b|\bCXBL\b|\bCXDNS\b/i, 'cox'],
  [/\bIB[1-7]\d\d\b|x\.co\/rlbounce|secureserver/i, 'godaddy'],
  [/\b(?:OFR|LPN|OUK)\w*_\d{3}\b/, 'orange'],
  [/\bmxin\d*\b|\bgmx\b|\bweb\.de\b|\bionos\b|kundenserver/i, 'gmx'],
  [/\bzoho\b/i, 'zoho'],
  [/\bqq\.com\b|mail\.qq\.com|\bqq mail\b/i, 'qq'],
  [/\bmail\.ru\b/i, 'mailru'],
  [/\byandex\b/i, 'yandex'],
  [/\bamazonses\b|\bamazon ses\b|inbound-smtp\.[\w-]+\.amazonaws\.com/i, 'amazonses'],
];

/** Big mailbox providers' own domains: weak evidence when nothing else tells (custom domains exist). */
const RECIPIENT_DOMAINS: ReadonlyMap<string, ProviderId> = new Map<string, ProviderId>([
  ['gmail.com', 'google'],
  ['googlemail.com', 'google'],
  ['outlook.com', 'microsoft'],
  ['hotmail.com', 'microsoft'],
  ['live.com', 'microsoft'],
  ['msn.com', 'microsoft'],
  ['yahoo.com', 'yahoo'],
  ['ymail.com', 'yahoo'],
  ['aol.com', 'yahoo'],
  ['icloud.com', 'apple'],
  ['me.com', 'apple'],
  ['mac.com', 'apple'],
  ['cox.net', 'cox'],
  ['charter.net', 'cox'],
  ['comcast.net', 'cox'],
  ['att.net', 'cox'],
  ['orange.fr', 'orange'],
  ['wanadoo.fr', 'orange'],
  ['laposte.net', 'orange'],
  ['free.fr', 'orange'],
  ['gmx.net', 'gmx'],
  ['gmx.de', 'gmx'],
  ['web.de', 'gmx'],
  ['zohomail.com', 'zoho'],
  ['qq.com', 'qq'],
  ['mail.ru', 'mailru'],
  ['yandex.ru', 'yandex'],
]);

const SUFFIX_MAP: ReadonlyMap<string, ProviderId> = new Map(HOST_SUFFIXES);

function bySuffix(host: string): [string, ProviderId] | null {
  const h = host.toLowerCase().replace(/\.$/, '');
  // Try the name and each parent domain, longest first: a few map lookups instead of a table scan.
  for (let i = -1; i < h.length; i = h.indexOf('.', i + 1)) {
    const suffix = h.slice(i + 1);
    const p = SUFFIX_MAP.get(suffix);
    if (p !== undefined) return [suffix, p];
    if (h.indexOf('.', i + 1) < 0) break;
  }
  // SES inbound endpoints: inbound-smtp.<region>.amazonaws.com (not smtp-out.*.amazonses.com: the sender's ESP).
  if (/^inbound-smtp\.[a-z0-9-]+\.amazonaws\.com$/.test(h)) return ['amazonaws.com', 'amazonses'];
  if (/^email-smtp\.[a-z0-9-]+\.amazonaws\.com$/.test(h)) return ['amazonaws.com', 'amazonses'];
  if (/(?:^|\.)yandex\.[a-z]{2,3}$/.test(h)) return ['yandex', 'yandex'];
  return null;
}

/** The provider that answered, and how we know. */
export function detectProvider(input: {
  direction: 'inbound' | 'outbound' | 'submission';
  remoteHost: string | null;
  text: string;
  recipientDomain: string | null;
}): ProviderMatch {
  if (input.direction === 'inbound') return { provider: 'self', via: 'self', value: null };
  if (input.remoteHost !== null) {
    const s = bySuffix(input.remoteHost);
    if (s !== null) return { provider: s[1], via: 'host', value: s[0] };
  }
  // Addresses name domains, not the software that answered (`<bob@yahoo.com>` in a generic reply).
  // The lookbehind starts a match only at the start of a run of address characters: linear.
  const text = input.text.includes('@') ? input.text.replace(/(?<![\w.+=%'-])[\w.+=%'-]*@[\w.-]+/g, ' ') : input.text;
  for (const [re, provider] of TEXT_TOKENS) {
    const m = re.exec(text);
    if (m !== null) return { provider, via: 'text', value: m[0] };
  }
  if (input.recipientDomain !== null) {
    const p = RECIPIENT_DOMAINS.get(input.recipientDomain);
    if (p !== undefined) return { provider: p, via: 'recipient_domain', value: input.recipientDomain };
  }
  return { provider: 'other', via: input.remoteHost !== null ? 'host' : 'none', value: input.remoteHost };
}
