/**
 * A private real Exim 4.96 (Debian's exim4-daemon-light, unpacked by setup.sh) with its own
 * configuration file, spool and logs, run as root inside the suite's network, mount and PID
 * namespaces (E2E-NOTES.md). The daemon runs in the foreground (`-bdf -q2s`) so we own its PID.
 *
 * Exim re-executes itself (exim_path) to deliver what it received, from a process that has already
 * become Debian-exim: that exec of the setuid binary is a secure one, so LD_LIBRARY_PATH does not
 * reach it (and keep_environment empties the environment anyway), and the Debian build only keeps
 * root for `-C` configurations listed in /etc/exim4/trusted_configs. Both need files in /etc, which
 * is the host's: the run gets a private /etc instead, a read-only overlay whose top layer holds
 * exim4/trusted_configs, an ld.so.cache that also lists the unpacked libidn.so.12, and the run's
 * hosts file. Unmounted on stop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeClock } from './clock.js';

export interface EximInstance {
  dir: string;
  config: string;
  mainlog: string;
  rejectlog: string;
  paniclog: string;
  pid: number;
  /** Routes a recipient domain to an MX host: rewrites the lsearch file, which Exim reads per lookup. */
  route(domain: string, host: string): void;
  /** Messages on the spool (header files in input/). */
  queued(): number;
  stop(): Promise<void>;
}

export interface EximOptions {
  localUsers: readonly string[];
  /** The run's /etc/hosts. */
  hosts: string;
  /** Also log to syslog(3) (`log_file_path = file : syslog`), for a private rsyslogd on /dev/log. */
  syslog: boolean;
  /**
   * Every Exim process reads its clock from this FakeClock. Exim's deliveries are secure executions
   * (a setuid binary re-executed by Debian-exim), which ignore LD_PRELOAD paths: libfaketime is
   * preloaded through the private /etc's ld.so.preload instead (every process started while Exim
   * runs loads it; only those with the clock's variables, kept by keep_environment, are moved).
   */
  clock?: FakeClock;
}

function config(root: string, dir: string, routes: string, options: EximOptions): string {
  return `# mta550 end-to-end: a private Exim 4.96 on 127.0.0.1:25
exim_path = ${root}/usr/sbin/exim4
spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog${options.syslog ? ' : syslog' : ''}
pid_file_path = ${dir}/exim.pid
primary_hostname = mx1.example.com
qualify_domain = example.com
domainlist local_domains = example.com : localhost
hostlist relay_from_hosts = 127.0.0.1
daemon_smtp_ports = 25
local_interfaces = 127.0.0.1
disable_ipv6 = true
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
keep_environment =${options.clock ? ` ${Object.keys(options.clock.env).filter((k) => k !== 'LD_PRELOAD').join(' : ')}` : ''}
# Deliver at once whatever the number of messages on one connection (the default queues after 10).
smtp_accept_queue_per_connection = 0
smtp_accept_max = 50
tls_advertise_hosts =
rfc1413_hosts =
# A notification that cannot be delivered (to alerts@) is given up at once instead of frozen.
ignore_bounce_errors_after = 0s
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl

acl_check_rcpt:
  accept  hosts = :
  accept  hosts = +relay_from_hosts
          domains = ! +local_domains
  require message = relay not permitted
          domains = +local_domains
  require verify = recipient
  accept

acl_check_data:
  deny    message = 550 5.7.1 Message refused by content policy
          condition = \${if def:h_X-E2E-Refuse:}
  accept

begin routers

remote:
  driver = manualroute
  domains = ! +local_domains
  route_data = \${lookup{$domain}lsearch{${routes}}}
  transport = remote_smtp
  no_more

local_users:
  driver = redirect
  domains = +local_domains
  local_parts = ${options.localUsers.join(' : ')}
  data = :blackhole:

begin transports

remote_smtp:
  driver = smtp
  hosts_avoid_tls = *
  connect_timeout = 5s

begin retry

# Greylisting is retried by the next queue run (-q2s). Nothing waits for the cutoff: a 5xx greeting
# is a permanent error to Exim, so the refusing server's recipients fail at once.
*   *   F,10m,2s

begin rewrite

begin authenticators
`;
}

/** The private /etc layer: trusted_configs, an ld.so.cache that knows the unpacked libraries, hosts. */
function privateEtc(root: string, dir: string, conf: string, hosts: string, clock: FakeClock | undefined): string {
  const etc = path.join(dir, 'etc');
  mkdirSync(path.join(etc, 'exim4'), { recursive: true });
  // Exim checks that the list is root's and not writable by anyone else.
  writeFileSync(path.join(etc, 'exim4', 'trusted_configs'), `${conf}\n`, { mode: 0o644 });
  writeFileSync(path.join(etc, 'hosts'), hosts, { mode: 0o644 });
  if (clock !== undefined) writeFileSync(path.join(etc, 'ld.so.preload'), `${clock.env.LD_PRELOAD}\n`, { mode: 0o644 });
  const ldConf = path.join(dir, 'ld.so.conf');
  writeFileSync(ldConf, `${readFileSync('/etc/ld.so.conf', 'utf8')}\n${root}/usr/lib/x86_64-linux-gnu\n`);
  // -X: build the cache only, touch no symlink in any library directory.
  execFileSync('ldconfig', ['-X', '-C', path.join(etc, 'ld.so.cache'), '-f', ldConf]);
  for (const d of [etc, path.join(etc, 'exim4')]) chmodSync(d, 0o755);
  return etc;
}

export async function startExim(root: string, dir: string, routes: Record<string, string>, options: EximOptions): Promise<EximInstance> {
  const spool = path.join(dir, 'spool');
  const log = path.join(dir, 'log');
  for (const d of [spool, log]) mkdirSync(d, { recursive: true });
  // Exim's receiving and delivery processes run as Debian-exim: the run's directories must be traversable.
  chmodSync(dir, 0o755);
  const uid = Number(execFileSync('id', ['-u', 'Debian-exim']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'Debian-exim']).toString().trim());
  for (const d of [spool, log]) chownSync(d, uid, gid);

  const routeFile = path.join(dir, 'routes');
  const table = { ...routes };
  const writeRoutes = () => {
    // Atomically: a delivery process may be reading the file while it changes.
    const tmp = `${routeFile}.new`;
    writeFileSync(tmp, Object.entries(table).map(([d, h]) => `${d}: ${h} byname\n`).join(''), { mode: 0o644 });
    renameSync(tmp, routeFile);
  };
  writeRoutes();
  const conf = path.join(dir, 'exim.conf');
  writeFileSync(conf, config(root, dir, routeFile, options), { mode: 0o644 });

  const etc = privateEtc(root, dir, conf, options.hosts, options.clock);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${etc}:/etc`, '/etc']);

  const exim = path.join(root, 'usr/sbin/exim4');
  const check = (args: string[]) => {
    try {
      return execFileSync(exim, ['-C', conf, ...args], { stdio: 'pipe' }).toString();
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(`exim ${args.join(' ')} failed: ${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}${e.message}`);
    }
  };
  check(['-bV']);
  // Its own process group, so stop() reaches the queue runners and deliveries it forked too.
  const env = options.clock === undefined ? process.env : { ...process.env, ...options.clock.env, LD_PRELOAD: '' };
  const child: ChildProcess = spawn(exim, ['-C', conf, '-bdf', '-q2s'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const mainlog = path.join(log, 'mainlog');
  for (let i = 0; i < 100 && !(existsSync(mainlog) && readFileSync(mainlog, 'utf8').includes('daemon started')); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.exitCode !== null || child.pid === undefined) throw new Error(`exim did not start: ${stderr}`);
  const pid = child.pid;

  return {
    dir,
    config: conf,
    mainlog,
    rejectlog: path.join(log, 'rejectlog'),
    paniclog: path.join(log, 'paniclog'),
    pid,
    route(domain, host) {
      table[domain] = host;
      writeRoutes();
    },
    queued() {
      try {
        return readdirSync(path.join(spool, 'input')).filter((f) => f.endsWith('-H')).length;
      } catch {
        return 0;
      }
    },
    async stop() {
      if (child.exitCode === null) {
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          // already gone
        }
        await exited;
      }
      try {
        // Lazily: a child of the daemon may still be on its way out.
        execFileSync('umount', ['--lazy', '/etc']);
      } catch {
        // not mounted
      }
    },
  };
}
