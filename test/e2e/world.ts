/**
 * A scripted remote world on loopback: SMTP servers (the npm `smtp-server` package) that play
 * receiving providers and answer by the recipient's local part, keeping a journal of every reply
 * they gave: the truth the end-to-end assertions compare mta550's events with.
 *
 * Local-part conventions (the part before the first `-`):
 *   nouser   550 at RCPT (the provider's "no such user" reply)
 *   full     552 5.2.2 at RCPT
 *   stale    550 5.1.10 at RCPT at the Microsoft-like server only (a mailbox left behind by a migration)
 *   dmarc    550 at end of DATA (the provider's DMARC/authentication refusal)
 *   spam     554 5.7.1 at end of DATA
 *   grey     450 4.2.0 at RCPT the first time for a (sender, recipient), then accepted
 *   anything else: accepted
 * A sender whose local part starts with `blocked` is refused at MAIL FROM with 550 5.7.1.
 * A server with `refuseConnect` answers every connection with a 550 greeting.
 */
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

export type Stage = 'connect' | 'mail' | 'rcpt' | 'end_of_data';

export interface JournalEntry {
  server: string;
  stage: Stage;
  sender: string | null;
  recipient: string | null;
  code: number;
  /** The reply lines after the code (multi-line replies have several). */
  lines: string[];
  messageId: string | null;
  at: number;
}

export interface Persona {
  /** The MX host name (resolved through the run's private /etc/hosts). */
  host: string;
  ip: string;
  /** Refusal texts: each a list of reply lines, enhanced code included. */
  nouser: string[];
  dmarc: string[];
  refuseConnect?: string[];
}

export const PERSONAS: readonly Persona[] = [
  {
    host: 'gmail-smtp-in.l.google.com',
    ip: '127.0.0.2',
    nouser: [
      '5.1.1 The email account that you tried to reach does not exist. Please try',
      "5.1.1 double-checking the recipient's email address for typos or",
      '5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser e2e1si - gsmtp',
    ],
    dmarc: [
      '5.7.26 Unauthenticated email from example.com is not accepted due to',
      "5.7.26 domain's DMARC policy. Please contact the administrator of",
      '5.7.26 example.com domain if this was a legitimate mail. e2e2si - gsmtp',
    ],
  },
  {
    host: 'example-net.mail.protection.outlook.com',
    ip: '127.0.0.3',
    nouser: ['5.4.1 Recipient address rejected: Access denied. AS(201806281) [BN8NAM12FT045.eop-nam12.prod.protection.outlook.com]'],
    dmarc: ['5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a DMARC policy of reject.'],
  },
  {
    host: 'mta5.am0.yahoodns.net',
    ip: '127.0.0.4',
    nouser: ["5.1.1 <RCPT>: Recipient address rejected: dd This user doesn't have a yahoo.com account"],
    dmarc: ['5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.'],
  },
  {
    host: 'mx.corp.example.org',
    ip: '127.0.0.5',
    nouser: ['5.1.1 <RCPT>: Recipient address rejected: User unknown in virtual mailbox table'],
    dmarc: ['5.7.1 <RCPT>: Message rejected: DMARC policy of example.com is reject'],
  },
  {
    host: 'mx.refusing.example.net',
    ip: '127.0.0.6',
    nouser: ['5.1.1 unused'],
    dmarc: ['5.7.1 unused'],
    refuseConnect: ['5.7.1 Service refused; client 127.0.0.1 blocked'],
  },
];

function address(a: SMTPServerAddress | false | undefined): string | null {
  return a ? a.address : null;
}

function fail(code: number, lines: string[]): Error & { responseCode: number } {
  const err = new Error(lines.join(' ')) as Error & { responseCode: number; message: unknown };
  err.responseCode = code;
  // smtp-server sends an array as a multi-line reply, one `550-` prefix per line.
  (err as { message: unknown }).message = lines.length > 1 ? lines : lines[0];
  return err;
}

function kind(addr: string | null): string {
  return (addr ?? '').split('@')[0]!.split('-')[0]!;
}

export interface World {
  journal: JournalEntry[];
  close(): Promise<void>;
}

export async function startWorld(personas: readonly Persona[] = PERSONAS): Promise<World> {
  const journal: JournalEntry[] = [];
  const greylisted = new Set<string>();
  const servers: SMTPServer[] = [];
  for (const p of personas) {
    const note = (stage: Stage, session: SMTPServerSession | null, recipient: string | null, code: number, lines: string[], messageId: string | null = null, sender?: string) => {
      journal.push({
        server: p.host,
        stage,
        sender: sender ?? (session === null ? null : address(session.envelope.mailFrom)),
        recipient,
        code,
        lines,
        messageId,
        at: Date.now(),
      });
    };
    const server = new SMTPServer({
      name: p.host,
      banner: 'ESMTP ready',
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      hideSTARTTLS: true,
      hideENHANCEDSTATUSCODES: true,
      hideSMTPUTF8: true,
      hideDSN: true,
      logger: false,
      size: 50 * 1024 * 1024,
      onConnect(session, callback) {
        if (p.refuseConnect !== undefined) {
          note('connect', null, null, 550, p.refuseConnect);
          callback(fail(550, p.refuseConnect));
          return;
        }
        callback();
      },
      onMailFrom(from, session, callback) {
        if (kind(from.address).startsWith('blocked')) {
          const lines = [`5.7.1 <${from.address}>: Sender address rejected: Access denied`];
          note('mail', session, null, 550, lines, null, from.address);
          callback(fail(550, lines));
          return;
        }
        callback();
      },
      onRcptTo(to, session, callback) {
        const rcpt = to.address;
        const sub = (lines: string[]) => lines.map((l) => l.replace('RCPT', rcpt));
        switch (kind(rcpt)) {
          case 'nouser': {
            const lines = sub(p.nouser);
            note('rcpt', session, rcpt, 550, lines);
            callback(fail(550, lines));
            return;
          }
          case 'full': {
            const lines = [`5.2.2 <${rcpt}>: Mailbox full`];
            note('rcpt', session, rcpt, 552, lines);
            callback(fail(552, lines));
            return;
          }
          case 'stale':
            if (p.host.endsWith('outlook.com')) {
              const lines = [`5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ${rcpt} not found by SMTP address lookup`];
              note('rcpt', session, rcpt, 550, lines);
              callback(fail(550, lines));
              return;
            }
            break;
          case 'grey': {
            const key = `${address(session.envelope.mailFrom)}>${rcpt}`;
            if (!greylisted.has(key)) {
              greylisted.add(key);
              const lines = [`4.2.0 <${rcpt}>: Recipient address rejected: Greylisted, try again later`];
              note('rcpt', session, rcpt, 450, lines);
              callback(fail(450, lines));
              return;
            }
            break;
          }
          default:
            break;
        }
        note('rcpt', session, rcpt, 250, ['2.1.5 Ok']);
        callback();
      },
      onData(stream, session, callback) {
        let head = '';
        stream.on('data', (chunk: Buffer) => {
          if (head.length < 8192) head += chunk.toString('latin1');
        });
        stream.on('end', () => {
          const mid = /^Message-ID:\s*<([^>]+)>/im.exec(head)?.[1] ?? null;
          const rcpts = session.envelope.rcptTo.map((r) => r.address);
          const refusing = rcpts.find((r) => kind(r) === 'dmarc' || kind(r) === 'spam');
          if (refusing !== undefined) {
            const isSpam = kind(refusing) === 'spam';
            const code = isSpam ? 554 : 550;
            const lines = isSpam ? ['5.7.1 Message rejected as spam by content filter'] : p.dmarc.map((l) => l.replace('RCPT', refusing));
            // A refusal at end of DATA refuses the whole transaction: every accepted recipient.
            for (const r of rcpts) note('end_of_data', session, r, code, lines, mid);
            callback(fail(code, lines));
            return;
          }
          for (const r of rcpts) note('end_of_data', session, r, 250, ['2.0.0 Ok: queued'], mid);
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.on('error', reject);
      server.listen(25, p.ip, () => resolve());
    });
    servers.push(server);
  }
  return {
    journal,
    close: () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined),
  };
}
