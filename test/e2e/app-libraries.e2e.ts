/**
 * Issue #6: app logs written by real SMTP client libraries of other ecosystems, read by mta550.
 *
 * Like test/app/libraries.test.ts (whose scripted server and scenario table this reuses), but for the
 * libraries Debian 12 packages (setup-app-libraries.sh installs them; setup.sh calls it):
 *
 *   php-error-log      PHPMailer 6.6 (`new PHPMailer(true)`), the README's
 *                      `error_log("Message could not be sent. Mailer Error: {$mail->ErrorInfo}")`
 *   php-monolog        the same send, real Monolog 2.9: `$logger->error('send failed: ' . $e->getMessage(),
 *                      ['exception' => $e, 'to' => [...]])` (LineFormatter, one line per entry)
 *   php-debug          SMTPDebug = 2 with Debugoutput = 'error_log', then `error_log('Mailer Error: ' .
 *                      $e->getMessage())`
 *   ruby-logger        Net::SMTP (net-smtp 0.3.1, bundled with Ruby 3.1), Logger:
 *                      `logger.error("#{e.class}: #{e.message}")`, `logger.error(e.backtrace.join("\n"))`
 *   ruby-full-message  the same send, `e.full_message(highlight: false)` (what an uncaught exception prints)
 *   java-jakarta       Jakarta Mail 2.0.0 `Transport.send`, a logback-like line then `e.printStackTrace()`
 *   java-javax         the same with JavaMail 1.6.5 (javax.mail)
 *
 * The Java app is one source file run by `java Mailer.java` (source-launch: Debian's JRE module image
 * has jdk.compiler, no JDK needed). Every scenario of the table goes through every style.
 *
 * What each library reports (checked against the server's journal first):
 *  - Net::SMTP raises at the first refused RCPT (the recipients after it are never tried); its message
 *    is the reply's FIRST line only (`550-5.1.1 ...` for a multi-line reply);
 *  - PHPMailer tries every recipient and lists the refused ones; Jakarta/JavaMail (sendpartial off)
 *    tries every recipient and chains one SMTPAddressFailedException per refused one;
 *  - PHPMailer's own messages drop the reply code (`SMTP Error: The following recipients failed:
 *    bob@example.org: <bob@example.org>: ...`, `SMTP Error: data not accepted.`, `SMTP Error: Could not
 *    authenticate.`): with `--codes 5xx` such an entry gives no event (PHPMAILER_CODELESS); where
 *    ErrorInfo carries `SMTP code: 550 Additional SMTP info: 5.7.1`, the code and status are there once
 *    and every line's own `550-5.7.1 ` is gone (replyCodeOnce);
 *  - Net::SMTP's and Java's messages name the refused recipient only when the reply text does.
 *
 * Events are read with `--format app` (so the parsers are tested even when sniffing misses a style);
 * a separate test checks that sniffing alone reads each log as an app log without a malformed line.
 * Logs are kept in $MTA550_APP_FIXTURES_DIR, else <os.tmpdir()>/mta550-app-libraries-e2e.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RejectionEvent } from '../../src/model/event.js';
import type { InputSummary } from '../../src/pipeline.js';
import { SCENARIOS, enhancedOf, refusalsOf, startServer, wireReply, type LineRange, type Refusal, type ReplySpec, type Scenario, type ScriptedServer, type TruthStage } from '../app/harness.js';
import { runCli } from '../run-cli.js';

const KEEP_DIR = process.env.MTA550_APP_FIXTURES_DIR ?? path.join(tmpdir(), 'mta550-app-libraries-e2e');
const SETUP = fileURLToPath(new URL('./setup-app-libraries.sh', import.meta.url));

// ---------------------------------------------------------------------------------- the apps

const PHP_APP = String.raw`<?php
// A small application that sends mail with PHPMailer and logs its failures the way PHP apps do.
//   php app.php PORT SCENARIOS.json OUT_DIR HELO
require '/usr/share/php/libphp-phpmailer/autoload.php';  // Debian's libphp-phpmailer
require '/usr/share/php/Monolog/autoload.php';

use PHPMailer\PHPMailer\PHPMailer;
use PHPMailer\PHPMailer\Exception;

[$_, $port, $table, $out, $helo] = $argv;
$scenarios = json_decode(file_get_contents($table), true);

$paths = [
  'php-error-log' => "$out/php-error-log.log",
  'php-monolog' => "$out/php-monolog.log",
  'php-debug' => "$out/php-debug.log",
];
foreach ($paths as $p) file_put_contents($p, '');
ini_set('log_errors', '1');
$logger = new Monolog\Logger('app');
$logger->pushHandler(new Monolog\Handler\StreamHandler($paths['php-monolog']));

function lines($p) { clearstatcache(); return substr_count(file_get_contents($p), "\n"); }

function mailer($s, $port, $helo) {
  $mail = new PHPMailer(true);
  $mail->isSMTP();
  $mail->Host = '127.0.0.1';
  $mail->Port = (int) $port;
  $mail->Helo = $helo;
  $mail->SMTPAutoTLS = false;
  $mail->SMTPSecure = '';
  $mail->Timeout = 10;
  if (isset($s['auth'])) {
    $mail->SMTPAuth = true;
    $mail->Username = $s['auth']['user'];
    $mail->Password = $s['auth']['pass'];
  }
  $mail->setFrom($s['from']);
  foreach ($s['to'] as $a) $mail->addAddress($a);
  $mail->Subject = '#6 fixture ' . $s['id'];
  $mail->Body = "A test message.\n";
  $mail->MessageID = $s['messageId'];
  return $mail;
}

$ranges = array_fill_keys(array_keys($paths), []);
foreach ($scenarios as $s) {
  $before = array_map('lines', $paths);
  // error_log to a file, PHPMailer's README way: ErrorInfo.
  ini_set('error_log', $paths['php-error-log']);
  $mail = mailer($s, $port, $helo);
  try {
    $mail->send();
    error_log('Message has been sent: ' . $mail->getLastMessageID());
  } catch (Exception $e) {
    error_log("Message could not be sent. Mailer Error: {$mail->ErrorInfo}");
  } finally {
    $mail->smtpClose();
  }
  // Monolog: the exception's message, the exception in the context.
  $mail = mailer($s, $port, $helo);
  try {
    $mail->send();
    $logger->info('message sent', ['messageId' => $mail->getLastMessageID()]);
  } catch (Exception $e) {
    $logger->error('send failed: ' . $e->getMessage(), ['exception' => $e, 'to' => $s['to']]);
  } finally {
    $mail->smtpClose();
  }
  // SMTPDebug 2 through error_log, then the exception's message.
  ini_set('error_log', $paths['php-debug']);
  $mail = mailer($s, $port, $helo);
  $mail->SMTPDebug = 2;
  $mail->Debugoutput = 'error_log';
  try {
    $mail->send();
    error_log('Message has been sent');
  } catch (Exception $e) {
    error_log('Mailer Error: ' . $e->getMessage());
  } finally {
    $mail->smtpClose();
  }
  foreach ($paths as $k => $p) $ranges[$k][] = ['scenario' => $s['id'], 'first' => $before[$k] + 1, 'last' => lines($p)];
}
file_put_contents("$out/php-ranges.json", json_encode($ranges));
`;

const RUBY_APP = String.raw`# A small application that sends mail with Net::SMTP and logs its failures the way Ruby apps do.
#   ruby app.rb PORT SCENARIOS.json OUT_DIR HELO
require 'json'
require 'logger'
require 'net/smtp'

port, table, out, helo = ARGV
scenarios = JSON.parse(File.read(table))
paths = { 'ruby-logger' => File.join(out, 'ruby-logger.log'), 'ruby-full-message' => File.join(out, 'ruby-full-message.log') }
paths.each_value { |p| File.write(p, '') }
logger = Logger.new(paths['ruby-logger'])
uncaught = File.open(paths['ruby-full-message'], 'a')
uncaught.sync = true
lines = ->(p) { File.read(p).count("\n") }

def deliver(s, port, helo)
  msg = "From: #{s['from']}\r\nTo: #{s['to'].join(', ')}\r\nSubject: #6 fixture #{s['id']}\r\nMessage-ID: #{s['messageId']}\r\n\r\nA test message.\r\n"
  smtp = Net::SMTP.new('127.0.0.1', port.to_i)
  smtp.open_timeout = 10
  smtp.read_timeout = 10
  if s['auth']
    smtp.start(helo, s['auth']['user'], s['auth']['pass'], :login) { |c| c.send_message(msg, s['from'], *s['to']) }
  else
    smtp.start(helo) { |c| c.send_message(msg, s['from'], *s['to']) }
  end
end

ranges = paths.keys.to_h { |k| [k, []] }
scenarios.each do |s|
  before = paths.transform_values { |p| lines.(p) }
  begin
    deliver(s, port, helo)
    logger.info("sent #{s['messageId']}")
  rescue => e
    logger.error("#{e.class}: #{e.message}")
    logger.error(e.backtrace.join("\n"))
  end
  begin
    deliver(s, port, helo)
    uncaught.puts("sent #{s['messageId']}")
  rescue => e
    uncaught.write(e.full_message(highlight: false))
  end
  paths.each { |k, p| ranges[k] << { 'scenario' => s['id'], 'first' => before[k] + 1, 'last' => lines.(p) } }
end
File.write(File.join(out, 'ruby-ranges.json'), JSON.generate(ranges))
`;

const JAVA_APP = String.raw`// A small application that sends mail with Jakarta Mail (or javax.mail) and logs its failures the way
// Java apps do: a logback-like line, then e.printStackTrace() into the same log.
//   java -cp MAIL_JAR:ACTIVATION_JAR Mailer.java PORT SCENARIOS.tsv LOG HELO
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.*;
import jakarta.mail.*;
import jakarta.mail.internet.*;

public class Mailer {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    List<String> table = Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8);
    Path log = Paths.get(args[2]);
    String helo = args[3];
    DateTimeFormatter ts = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    long pid = ProcessHandle.current().pid();
    StringBuilder ranges = new StringBuilder();
    try (PrintStream out = new PrintStream(new FileOutputStream(log.toFile()), true, "UTF-8")) {
      for (String row : table) {
        if (row.isEmpty()) continue;
        String[] f = row.split("\t", -1);
        String id = f[0], from = f[1], user = f[3], pass = f[4];
        String[] to = f[2].split(",");
        long before = lines(log);
        Properties p = new Properties();
        p.put("mail.smtp.host", "127.0.0.1");
        p.put("mail.smtp.port", String.valueOf(port));
        p.put("mail.smtp.localhost", helo);
        p.put("mail.smtp.connectiontimeout", "10000");
        p.put("mail.smtp.timeout", "10000");
        if (!user.isEmpty()) p.put("mail.smtp.auth", "true");
        Session session = Session.getInstance(p);
        try {
          MimeMessage msg = new MimeMessage(session);
          msg.setFrom(new InternetAddress(from));
          for (String a : to) msg.addRecipient(Message.RecipientType.TO, new InternetAddress(a));
          msg.setSubject("#6 fixture " + id);
          msg.setText("A test message.\n");
          if (user.isEmpty()) Transport.send(msg); else Transport.send(msg, user, pass);
          out.println(ts.format(LocalDateTime.now()) + "  INFO " + pid + " --- [           main] com.example.app.Mailer                   : message sent: " + id);
        } catch (MessagingException e) {
          out.println(ts.format(LocalDateTime.now()) + " ERROR " + pid + " --- [           main] com.example.app.Mailer                   : send failed: " + id);
          e.printStackTrace(out);
        }
        out.flush();
        ranges.append(id).append('\t').append(before + 1).append('\t').append(lines(log)).append('\n');
      }
    }
    Files.write(Paths.get(args[2] + ".ranges"), ranges.toString().getBytes(StandardCharsets.UTF_8));
  }

  static long lines(Path p) throws IOException {
    byte[] b = Files.readAllBytes(p);
    long n = 0;
    for (byte x : b) if (x == '\n') n++;
    return n;
  }
}
`;

const JAVA_HOME = existsSync('/usr/lib/jvm/default-java/bin/java') ? '/usr/lib/jvm/default-java' : null;
const JAVA = JAVA_HOME === null ? 'java' : path.join(JAVA_HOME, 'bin/java');
/** Debian's jars: Jakarta Mail 2.0.0 (jakarta.mail API, com.sun.mail.smtp provider) and JavaMail 1.6.5. */
const JARS = {
  jakarta: ['/usr/share/java/jakarta-mail.jar', '/usr/share/java/jakarta-activation.jar'],
  javax: ['/usr/share/java/javax.mail.jar', '/usr/share/java/javax.activation.jar'],
} as const;
const NEEDED = ['/usr/bin/php', '/usr/share/php/libphp-phpmailer/autoload.php', '/usr/share/php/Monolog/autoload.php', '/usr/bin/ruby', JAVA, ...JARS.jakarta, ...JARS.javax];

// ---------------------------------------------------------------------------------- the styles

type Lang = 'php' | 'ruby' | 'java-jakarta' | 'java-javax';
type Style = 'php-error-log' | 'php-monolog' | 'php-debug' | 'ruby-logger' | 'ruby-full-message' | 'java-jakarta' | 'java-javax';
const STYLES: readonly Style[] = ['php-error-log', 'php-monolog', 'php-debug', 'ruby-logger', 'ruby-full-message', 'java-jakarta', 'java-javax'];

const LANG_OF: Readonly<Record<Style, Lang>> = {
  'php-error-log': 'php',
  'php-monolog': 'php',
  'php-debug': 'php',
  'ruby-logger': 'ruby',
  'ruby-full-message': 'ruby',
  'java-jakarta': 'java-jakarta',
  'java-javax': 'java-javax',
};
/** The HELO name of each app (the server's journal is kept by client), and how many sends of each scenario it makes. */
const HELO: Readonly<Record<Lang, string>> = { php: 'php-app.test', ruby: 'ruby-app.test', 'java-jakarta': 'jakarta-app.test', 'java-javax': 'javax-app.test' };
const RUNS: Readonly<Record<Lang, number>> = { php: 3, ruby: 2, 'java-jakarta': 1, 'java-javax': 1 };
const APP: Readonly<Record<Lang, { ecosystem: string; library: string }>> = {
  php: { ecosystem: 'php', library: 'PHPMailer' },
  ruby: { ecosystem: 'ruby', library: 'Net::SMTP' },
  'java-jakarta': { ecosystem: 'java', library: 'jakarta.mail' },
  'java-javax': { ecosystem: 'java', library: 'javax.mail' },
};

/** The refusals the library meets: Net::SMTP stops at the first refused recipient, the others try them all. */
function served(s: Scenario, lang: Lang): Refusal[] {
  const all = refusalsOf(s);
  if (lang === 'ruby' && all.length > 1 && all[0]!.stage === 'rcpt') return [all[0]!];
  return all;
}

/** The reply's first line as the server sent it (`550-5.1.1 a` of a multi-line reply): Net::SMTP's message. */
function firstLine(r: ReplySpec): string {
  return `${r.code}${r.lines.length > 1 ? '-' : ' '}${r.lines[0]}`;
}

/**
 * PHPMailer's ErrorInfo (`Detail: <lines without their "550-5.7.26 "> SMTP code: 550 Additional SMTP info:
 * 5.7.26`): the code and the status once, then each line's text, joined with one space.
 */
function replyCodeOnce(r: ReplySpec): string {
  const enh = enhancedOf(r);
  const texts = r.lines.map((l) => (enh !== null && l.startsWith(`${enh} `) ? l.slice(enh.length + 1) : l));
  return [String(r.code), ...(enh === null ? [] : [enh]), ...texts].join(' ');
}

/** Where a log has no code for a refusal (PHPMailer's own messages), `--codes 5xx` cannot select it: no event. */
const PHPMAILER_CODELESS = 'no-event' as const;

/** The recipient a message names: only when the reply text itself carries the address. */
function named(r: Refusal): string | null {
  return r.recipient !== null && r.reply.lines.some((l) => l.includes(`<${r.recipient}>`)) ? r.recipient : null;
}

interface Want {
  recipient: string | null;
  code: number;
  enhancedStatus: string | null;
  stage: TruthStage;
  reply: string;
  direction: 'submission';
  sender?: string;
  app: { ecosystem: string; library: string };
}

/** What mta550 should extract from `style`'s entries for scenario `s`. */
function expectedEvents(s: Scenario, style: Style): Want[] {
  const lang = LANG_OF[style];
  const out: Want[] = [];
  for (const r of served(s, lang)) {
    let recipient: string | null;
    let reply: string;
    switch (style) {
      case 'php-debug':
        // The transcript shows every reply as sent and the RCPT TO it answers.
        recipient = r.recipient;
        reply = wireReply(r.reply);
        break;
      case 'php-error-log':
      case 'php-monolog':
        // ErrorInfo carries the code for MAIL FROM and end of DATA, getMessage() only for MAIL FROM.
        if (r.stage === 'rcpt' || r.stage === 'auth' || (style === 'php-monolog' && r.stage === 'end_of_data')) {
          if (PHPMAILER_CODELESS === 'no-event') continue;
        }
        recipient = null;
        reply = replyCodeOnce(r.reply);
        break;
      case 'ruby-logger':
      case 'ruby-full-message':
        recipient = named(r);
        reply = firstLine(r.reply);
        break;
      case 'java-jakarta':
      case 'java-javax':
        recipient = named(r);
        reply = wireReply(r.reply);
        break;
    }
    const e: Want = {
      recipient,
      code: r.reply.code,
      enhancedStatus: enhancedOf(r.reply),
      stage: r.stage,
      reply,
      direction: 'submission',
      app: APP[lang],
    };
    if (r.stage === 'mail') e.sender = s.from;
    out.push(e);
  }
  return out.sort(byRecipient);
}

function byRecipient(a: { recipient?: unknown; reply?: unknown }, b: { recipient?: unknown; reply?: unknown }): number {
  return String(a.recipient ?? '').localeCompare(String(b.recipient ?? '')) || String(a.reply).localeCompare(String(b.reply));
}

// ---------------------------------------------------------------------------------- running the apps

interface ProducedLog {
  style: Style;
  path: string;
  ranges: LineRange[];
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(JAVA_HOME === null ? {} : { JAVA_HOME }) } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

function table(dir: string, lang: Lang): string {
  const file = path.join(dir, `${lang}-scenarios.json`);
  writeFileSync(file, JSON.stringify(SCENARIOS.map((s) => ({ ...s, messageId: `<${lang}-${s.id}@app.example.com>` }))));
  return file;
}

async function producePhp(dir: string, port: number): Promise<ProducedLog[]> {
  writeFileSync(path.join(dir, 'app.php'), PHP_APP);
  await run('php', ['app.php', String(port), table(dir, 'php'), dir, HELO.php], dir);
  const ranges = JSON.parse(readFileSync(path.join(dir, 'php-ranges.json'), 'utf8')) as Record<string, LineRange[]>;
  return (['php-error-log', 'php-monolog', 'php-debug'] as const).map((style) => ({ style, path: path.join(dir, `${style}.log`), ranges: ranges[style] ?? [] }));
}

async function produceRuby(dir: string, port: number): Promise<ProducedLog[]> {
  writeFileSync(path.join(dir, 'app.rb'), RUBY_APP);
  await run('ruby', ['app.rb', String(port), table(dir, 'ruby'), dir, HELO.ruby], dir);
  const ranges = JSON.parse(readFileSync(path.join(dir, 'ruby-ranges.json'), 'utf8')) as Record<string, LineRange[]>;
  return (['ruby-logger', 'ruby-full-message'] as const).map((style) => ({ style, path: path.join(dir, `${style}.log`), ranges: ranges[style] ?? [] }));
}

async function produceJava(dir: string, port: number, flavour: 'jakarta' | 'javax'): Promise<ProducedLog> {
  const src = path.join(dir, flavour);
  mkdirSync(src, { recursive: true });
  writeFileSync(path.join(src, 'Mailer.java'), flavour === 'jakarta' ? JAVA_APP : JAVA_APP.replaceAll('jakarta.mail', 'javax.mail'));
  const tsv = path.join(dir, 'java-scenarios.tsv');
  writeFileSync(tsv, SCENARIOS.map((s) => [s.id, s.from, s.to.join(','), s.auth?.user ?? '', s.auth?.pass ?? ''].join('\t') + '\n').join(''));
  const style: Style = `java-${flavour}`;
  const log = path.join(dir, `${style}.log`);
  await run(JAVA, ['-cp', JARS[flavour].join(':'), 'Mailer.java', String(port), tsv, log, HELO[style]], src);
  const ranges = readFileSync(`${log}.ranges`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [scenario, first, last] = l.split('\t');
      return { scenario: scenario!, first: Number(first), last: Number(last) };
    });
  return { style, path: log, ranges };
}

// ---------------------------------------------------------------------------------- mta550

interface Analysis {
  log: ProducedLog;
  /** Events of `--format app --codes 5xx --output records --records events`. */
  events: RejectionEvent[];
  /** The input summary of the same run as `--output json`. */
  forced: InputSummary | null;
  /** The input summary of `--codes 5xx --output json` without --format, and its event count. */
  sniffed: InputSummary | null;
  sniffedEvents: number;
  error: string | null;
}

function eventsOf(stdout: string): RejectionEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RejectionEvent)
    .filter((e) => typeof e === 'object' && e !== null && 'direction' in e && 'source' in e);
}

async function analyse(log: ProducedLog): Promise<Analysis> {
  const a: Analysis = { log, events: [], forced: null, sniffed: null, sniffedEvents: -1, error: null };
  try {
    const base = ['analyze', log.path, '--codes', '5xx'];
    a.events = eventsOf((await runCli([...base, '--format', 'app', '--output', 'records', '--records', 'events'])).stdout);
    a.forced = (JSON.parse((await runCli([...base, '--format', 'app', '--output', 'json'])).stdout) as { inputs: InputSummary[] }).inputs[0] ?? null;
    a.sniffed = (JSON.parse((await runCli([...base, '--output', 'json'])).stdout) as { inputs: InputSummary[] }).inputs[0] ?? null;
    a.sniffedEvents = eventsOf((await runCli([...base, '--output', 'records', '--records', 'events'])).stdout).length;
  } catch (e) {
    a.error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  }
  return a;
}

// ---------------------------------------------------------------------------------- the run

let server: ScriptedServer | null = null;
let dir = '';
const analyses = new Map<Style, Analysis>();

beforeAll(async () => {
  if (NEEDED.some((f) => !existsSync(f))) await run('bash', [SETUP], process.cwd());
  const missing = NEEDED.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`missing after ${SETUP}: ${missing.join(', ')}`);
  dir = mkdtempSync(path.join(tmpdir(), 'mta550-app-libs-e2e-'));
  server = await startServer();
  const port = server.port;
  const logs = (await Promise.all([producePhp(dir, port), produceRuby(dir, port), produceJava(dir, port, 'jakarta'), produceJava(dir, port, 'javax')])).flat();
  mkdirSync(KEEP_DIR, { recursive: true });
  cpSync(dir, KEEP_DIR, { recursive: true });
  for (const log of logs) analyses.set(log.style, await analyse(log));
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function analysis(style: Style): Analysis {
  const a = analyses.get(style);
  if (a === undefined) throw new Error(`no ${style} log was produced`);
  return a;
}

function project(e: RejectionEvent, like: Want | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    recipient: e.recipient,
    code: e.code,
    enhancedStatus: e.enhancedStatus,
    stage: e.stage,
    reply: e.reply,
    direction: e.direction,
    app: e.app === undefined ? undefined : { ecosystem: e.app.ecosystem, library: e.app.library },
  };
  if (like?.sender !== undefined) out.sender = e.sender;
  return out;
}

describe('the apps (independent of mta550)', () => {
  it.each(Object.keys(HELO) as Lang[])('%s met exactly the refusals its library stops at, once per run', (lang) => {
    const got = server!.journal.filter((j) => j.client === HELO[lang]).map((j) => JSON.stringify([j.scenario, j.stage, j.recipient, j.code, j.lines]));
    const want = SCENARIOS.flatMap((s) =>
      served(s, lang).flatMap((r) => Array.from({ length: RUNS[lang] }, () => JSON.stringify([s.id, r.stage, r.recipient, r.reply.code, r.reply.lines]))),
    );
    expect(got.sort()).toEqual(want.sort());
  });

  it.each(STYLES)('%s: every scenario wrote lines of its own', (style) => {
    const a = analysis(style);
    expect(a.log.ranges.map((r) => r.scenario)).toEqual(SCENARIOS.map((s) => s.id));
    for (const r of a.log.ranges) expect(r.last, `${style} ${r.scenario}`).toBeGreaterThanOrEqual(r.first);
  });
});

describe.each(STYLES)('mta550 on the %s log', (style) => {
  it('reads it as an app log without a malformed line (--format app)', () => {
    const a = analysis(style);
    expect(a.error).toBeNull();
    expect({ format: a.forced?.format, malformed: a.forced?.malformed, examples: a.forced?.malformedExamples }).toEqual({ format: 'app', malformed: 0, examples: [] });
  });

  it('sniffs it as an app log without a malformed line, with the same events (no --format)', () => {
    const a = analysis(style);
    expect(a.error).toBeNull();
    expect({ format: a.sniffed?.format, malformed: a.sniffed?.malformed, examples: a.sniffed?.malformedExamples.slice(0, 3) }).toEqual({ format: 'app', malformed: 0, examples: [] });
    expect(a.sniffedEvents).toBe(a.events.length);
  });

  it('writes exactly the expected number of events, each within the lines of a scenario', () => {
    const a = analysis(style);
    const stray = a.events.filter((e) => !a.log.ranges.some((r) => e.source.line >= r.first && e.source.line <= r.last));
    expect(stray.map((e) => ({ line: e.source.line, reply: e.reply }))).toEqual([]);
    expect(a.events.length).toBe(SCENARIOS.reduce((n, s) => n + expectedEvents(s, style).length, 0));
  });

  it.each(SCENARIOS.map((s) => [s.id, s] as const))('%s: the events field by field', (_id, s) => {
    const a = analysis(style);
    expect(a.error).toBeNull();
    const want = expectedEvents(s, style);
    const r = a.log.ranges.find((x) => x.scenario === s.id);
    const got = a.events
      .filter((e) => r !== undefined && e.source.line >= r.first && e.source.line <= r.last)
      .map((e) => project(e, want.find((w) => w.sender !== undefined)))
      .sort(byRecipient);
    expect(got).toEqual(want);
  });
});
