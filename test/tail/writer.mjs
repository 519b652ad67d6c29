/**
 * A log writer for the tail tests, behaving like a syslog daemon: appends Postfix lines to a file
 * at a steady rate through an O_APPEND descriptor, re-opens the path on SIGHUP (as rsyslog does
 * after logrotate), pauses on SIGSTOP like any process. Writes the truth (one refused recipient per
 * line) to a JSON file when done.
 *
 *   node writer.mjs <log> <lines> <lines-per-tick> <tick-ms> <truth.json>
 *
 * Line mix: a NOQUEUE 550 reject (one event) every 4th line, a whole five-line delivery transaction
 * ending in a remote 550 (one event, correlated by queue ID) every 25th, connection noise otherwise.
 */
import { closeSync, openSync, writeSync, writeFileSync } from 'node:fs';

const [file, total, perTick, tickMs, truthFile] = process.argv.slice(2);
const N = Number(total);
let fd = openSync(file, 'a');
process.on('SIGHUP', () => {
  closeSync(fd);
  fd = openSync(file, 'a');
});

const truth = [];
const pad = (n) => String(n).padStart(2, '0');
function stamp(i) {
  // One simulated second per 20 lines, from Jun 04 09:00:00.
  const s = Math.floor(i / 20);
  return `Jun 04 ${pad(9 + Math.floor(s / 3600) % 15)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}
function lines(i) {
  const t = stamp(i);
  if (i % 25 === 0) {
    const q = (0x10000000 + i).toString(16).toUpperCase();
    const rcpt = `remote-${i}@example.org`;
    truth.push(rcpt);
    return [
      `${t} mx1 postfix/smtpd[2001]: ${q}: client=app.example.com[192.0.2.10]`,
      `${t} mx1 postfix/cleanup[2002]: ${q}: message-id=<m${i}@example.com>`,
      `${t} mx1 postfix/qmgr[2003]: ${q}: from=<app@example.com>, size=1200, nrcpt=1 (queue active)`,
      `${t} mx1 postfix/smtp[2004]: ${q}: to=<${rcpt}>, relay=mx.example.org[198.51.100.7]:25, delay=0.4, delays=0.1/0/0.2/0.1, dsn=5.1.1, status=bounced (host mx.example.org[198.51.100.7] said: 550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown (in reply to RCPT TO command))`,
      `${t} mx1 postfix/qmgr[2003]: ${q}: removed`,
    ];
  }
  if (i % 4 === 0) {
    const rcpt = `local-${i}@example.com`;
    truth.push(rcpt);
    return [`${t} mx1 postfix/smtpd[2001]: NOQUEUE: reject: RCPT from unknown[203.0.113.${i % 250}]: 550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<${rcpt}> proto=ESMTP helo=<h${i}>`];
  }
  return [`${t} mx1 postfix/smtpd[2001]: connect from unknown[203.0.113.${i % 250}]`];
}

let i = 0;
let written = 0;
function tick() {
  let out = '';
  for (let k = 0; k < Number(perTick) && written < N; k++, i++) {
    const ls = lines(i);
    written += ls.length;
    out += ls.join('\n') + '\n';
  }
  if (out) writeSync(fd, out);
  if (written >= N) {
    closeSync(fd);
    writeFileSync(truthFile, JSON.stringify({ lines: written, recipients: truth }));
    process.exit(0);
  }
  setTimeout(tick, Number(tickMs));
}
tick();
