/**
 * A private rsyslogd (Debian's, unpacked by setup.sh) that receives Postfix's syslog messages on its
 * own socket, bind-mounted over /dev/log inside the suite's mount namespace, and writes the classic
 * syslog file (BSD timestamps) and the RFC 3339 file of the same run (E2E-NOTES.md). Rate limiting is
 * off: imuxsock's default silently drops Postfix lines.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Syslog {
  traditional: string;
  rfc3339: string;
  stop(): Promise<void>;
}

export async function startSyslog(root: string, dir: string): Promise<Syslog> {
  mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'dev-log');
  const traditional = path.join(dir, 'mail.log');
  const rfc3339 = path.join(dir, 'mail-rfc3339.log');
  const conf = path.join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${dir}" localHostname="mx1")
module(load="imuxsock" SysSock.Name="${socket}" SysSock.RateLimit.Interval="0")
mail.* action(type="omfile" file="${traditional}" template="RSYSLOG_TraditionalFileFormat")
mail.* action(type="omfile" file="${rfc3339}" template="RSYSLOG_FileFormat")
`,
  );
  const env = { ...process.env, LD_LIBRARY_PATH: `${root}/usr/lib/x86_64-linux-gnu` };
  const child: ChildProcess = spawn(
    path.join(root, 'usr/sbin/rsyslogd'),
    ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid'), '-M', path.join(root, 'usr/lib/x86_64-linux-gnu/rsyslog')],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error(`rsyslogd did not create its socket: ${stderr}`);
  // /dev/log is this namespace's: the suite runs under unshare --mount (run.sh checks it).
  if (!existsSync('/dev/log')) writeFileSync('/dev/log', '');
  execFileSync('mount', ['--bind', socket, '/dev/log']);
  return {
    traditional,
    rfc3339,
    async stop() {
      try {
        execFileSync('umount', ['/dev/log']);
      } catch {
        // already unmounted
      }
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
