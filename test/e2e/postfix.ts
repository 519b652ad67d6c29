/**
 * A private real Postfix (Debian's, unpacked by setup.sh) with its own configuration, queue and
 * logs, run as root inside the suite's network and mount namespaces (E2E-NOTES.md). Logs go both to
 * Postfix's own maillog_file and, through syslog, to a private rsyslogd (see syslog.ts).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeClock } from './clock.js';
import { LOCAL_USERS } from './scenario.js';

export interface PostfixInstance {
  dir: string;
  conf: string;
  maillog: string;
  /** Routes a recipient domain to an MX host (transport map) and reloads. */
  route(domain: string, host: string): void;
  reload(): void;
  /** Messages still in the queue (files under incoming, active, deferred). */
  queued(): number;
  stop(): void;
}

const MASTER_CF = `
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

/**
 * Starts a private Postfix. With `maillog` it logs through postlogd to its own maillog_file;
 * without, through syslog(3) to /dev/log (Postfix does one or the other, never both).
 */
export function startPostfix(
  root: string,
  dir: string,
  routes: Record<string, string>,
  options: { maillog: boolean; /** Every Postfix process reads its clock from this FakeClock. */ clock?: FakeClock },
): PostfixInstance {
  const conf = path.join(dir, 'conf');
  const log = path.join(dir, 'log');
  for (const d of [conf, path.join(dir, 'spool'), path.join(dir, 'data'), log]) mkdirSync(d, { recursive: true });
  // The daemons run as the postfix user: the run's directories must be traversable.
  chmodSync(dir, 0o755);
  chownSync(path.join(dir, 'data'), Number(execFileSync('id', ['-u', 'postfix']).toString().trim()), 0);
  copyFileSync(path.join(root, 'usr/share/postfix/dynamicmaps.cf'), path.join(conf, 'dynamicmaps.cf'));
  copyFileSync(path.join(root, 'etc/postfix/postfix-files'), path.join(conf, 'postfix-files'));
  const maillog = path.join(log, 'maillog');
  writeFileSync(
    path.join(conf, 'main.cf'),
    `compatibility_level = 3.6
myhostname = mx1.example.com
mydomain = example.com
myorigin = example.com
mydestination = example.com, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
queue_directory = ${dir}/spool
data_directory = ${dir}/data
daemon_directory = ${root}/usr/lib/postfix/sbin
command_directory = ${root}/usr/sbin
shlib_directory = ${root}/usr/lib/postfix
meta_directory = ${conf}
mail_owner = postfix
setgid_group = postdrop
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH${options.clock ? ' ' + Object.keys(options.clock.env).join(' ') : ''}
smtp_host_lookup = native
smtp_dns_support_level = disabled
transport_maps = texthash:${conf}/transport
alias_maps = texthash:${conf}/aliases
alias_database =
${options.maillog ? `maillog_file = ${maillog}\nmaillog_file_prefixes = ${dir}` : 'syslog_facility = mail'}
relay_domains_reject_code = 550
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
biff = no
smtputf8_enable = no
smtp_tls_security_level = none
smtpd_tls_security_level = none
# Retry quickly and expire quickly so deferrals and expiry happen within the run.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
maximal_queue_lifetime = 25s
bounce_queue_lifetime = 25s
smtp_connect_timeout = 5s
delay_warning_time = 0
`,
  );
  writeFileSync(path.join(conf, 'master.cf'), MASTER_CF);
  // The workload's senders live here: their non-delivery notifications go to /dev/null (alerts@ is
  // not one of them, so its notifications bounce too).
  writeFileSync(path.join(conf, 'aliases'), LOCAL_USERS.map((u) => `${u} /dev/null\n`).join(''));
  const env = { ...process.env, LD_LIBRARY_PATH: `${root}/usr/lib/postfix:${root}/usr/lib/x86_64-linux-gnu`, ...options.clock?.env };
  const postfix = (...args: string[]) => {
    try {
      return execFileSync(path.join(root, 'usr/sbin/postfix'), ['-c', conf, ...args], { env, stdio: 'pipe' });
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(`postfix ${args.join(' ')} failed: ${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}${e.message}`);
    }
  };
  const table = { ...routes };
  const writeRoutes = () =>
    writeFileSync(path.join(conf, 'transport'), Object.entries(table).map(([d, h]) => `${d} smtp:[${h}]:25\n`).join(''));
  writeRoutes();
  postfix('start');
  return {
    dir,
    conf,
    maillog,
    route(domain, host) {
      table[domain] = host;
      writeRoutes();
      postfix('reload');
    },
    reload: () => postfix('reload'),
    queued() {
      let n = 0;
      for (const q of ['incoming', 'active', 'deferred', 'maildrop']) {
        const walk = (d: string) => {
          let entries: import('node:fs').Dirent[];
          try {
            entries = readdirSync(d, { withFileTypes: true });
          } catch {
            return;
          }
          for (const e of entries) {
            if (e.isDirectory()) walk(path.join(d, e.name));
            else n++;
          }
        };
        walk(path.join(dir, 'spool', q));
      }
      return n;
    },
    stop() {
      try {
        postfix('stop');
      } catch {
        // already stopped
      }
    },
  };
}
