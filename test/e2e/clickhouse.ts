/**
 * A private real ClickHouse (Debian bookworm's 18.16, unpacked by setup.sh) for SQL checks of
 * mta550's NDJSON: a plain child process with its own configuration, data and logs under `dir`,
 * listening on 127.0.0.1 only, spoken to over the HTTP interface. It runs as root (18.16 does not
 * refuse to) and starts in well under a second.
 *
 * What 18.16's JSONEachRow accepts (checked with mta550's own rows by clickhouse.e2e.ts, all but
 * null array elements, which mta550 never writes):
 * - dotted keys (`event.code`, `@timestamp`) map to back-quoted columns of exactly that name;
 * - DateTime parses ISO 8601 with `T`, fraction and `Z`/offset only with date_time_input_format =
 *   best_effort (the default, basic, stops at the fraction or the `Z`); there is no DateTime64, so
 *   milliseconds need a column of their own (e.g. MATERIALIZED from a String copy);
 * - Array columns named `prefix.name` (one dot) that share the prefix (`related.hosts`, `related.ip`)
 *   are one Nested structure: every row must give them arrays of equal length (a missing key counts
 *   as []); names with two dots (`email.from.address`, `email.to.address`) are not;
 * - a nested object is an unknown field (refused; skipped with input_format_skip_unknown_fields = 1;
 *   one level is flattened into dotted columns with input_format_import_nested_json = 1);
 * - null only into Nullable columns (Array(Nullable(String)) for null elements); a missing key takes
 *   the type's default, NULL for Nullable (not a DEFAULT expression);
 * - a JSON number is not a String; a quoted number is a UInt32.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

/** ClickHouse settings, passed as URL parameters of one request or in the server's default profile. */
export type Settings = Record<string, string | number>;

export interface ClickHouse {
  /** Base URL of the HTTP interface, e.g. http://127.0.0.1:8123 */
  http: string;
  dir: string;
  /** The server's log (information level) and its error log. */
  log: string;
  errorLog: string;
  /** Runs one statement; returns the response body (choose the FORMAT in the SQL). Throws on an error reply. */
  query(sql: string, settings?: Settings): Promise<string>;
  /** INSERT INTO <table> FORMAT JSONEachRow (table as given: back-quote it if needed), the lines as the body. Throws on an error reply. */
  insertJsonEachRow(table: string, ndjson: string, settings?: Settings): Promise<void>;
  /** SIGTERM to the server's PID, then waits for it to exit (SIGKILL after 20 s). */
  stop(): Promise<void>;
}

export interface ClickHouseOptions {
  httpPort?: number;
  tcpPort?: number;
  /** Extra settings for the `default` profile (every query of the run). */
  profile?: Settings;
  /** How long to wait for `SELECT 1` to answer. */
  startTimeoutMs?: number;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function configXml(dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${xmlEscape(path.join(dir, 'log/clickhouse-server.log'))}</log>
    <errorlog>${xmlEscape(path.join(dir, 'log/clickhouse-server.err.log'))}</errorlog>
    <size>50M</size>
    <count>1</count>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${xmlEscape(path.join(dir, 'data'))}/</path>
  <tmp_path>${xmlEscape(path.join(dir, 'tmp'))}/</tmp_path>
  <user_files_path>${xmlEscape(path.join(dir, 'user_files'))}/</user_files_path>
  <format_schema_path>${xmlEscape(path.join(dir, 'format_schemas'))}/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <max_connections>64</max_connections>
  <max_concurrent_queries>8</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>67108864</mark_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

function usersXml(profile: Settings): string {
  const settings: Settings = {
    max_memory_usage: 1_000_000_000,
    max_threads: 2,
    background_pool_size: 2,
    background_schedule_pool_size: 2,
    ...profile,
  };
  const lines = Object.entries(settings).map(([k, v]) => `      <${k}>${xmlEscape(String(v))}</${k}>`);
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
${lines.join('\n')}
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks>
        <ip>127.0.0.1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`;
}

/** One HTTP POST on a fresh connection (no pooled sockets outlive the server). */
function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body, 'utf8');
  });
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
}

/** Whether something already accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startClickHouse(root: string, dir: string, options: ClickHouseOptions = {}): Promise<ClickHouse> {
  const httpPort = options.httpPort ?? 8123;
  const tcpPort = options.tcpPort ?? 9000;
  for (const d of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(path.join(dir, d), { recursive: true });
  const conf = path.join(dir, 'config.xml');
  writeFileSync(conf, configXml(dir, httpPort, tcpPort));
  writeFileSync(path.join(dir, 'users.xml'), usersXml(options.profile ?? {}));
  const log = path.join(dir, 'log/clickhouse-server.log');
  const errorLog = path.join(dir, 'log/clickhouse-server.err.log');
  const base = `http://127.0.0.1:${httpPort}`;
  // Another server there would answer our SELECT 1.
  for (const port of [httpPort, tcpPort]) {
    if (await listening(port)) throw new Error(`127.0.0.1:${port} is already in use (another ClickHouse not stopped?)`);
  }

  // libpcre3 unpacks under lib/, the rest under usr/lib/.
  const env = { ...process.env, LD_LIBRARY_PATH: `${root}/usr/lib/x86_64-linux-gnu:${root}/lib/x86_64-linux-gnu`, TZ: 'UTC' };
  const child: ChildProcess = spawn(path.join(root, 'usr/sbin/clickhouse-server'), [`--config-file=${conf}`], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  const stop = async () => {
    if (exited === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        if (exited === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }, 20_000);
      await exit;
      clearTimeout(timer);
    }
  };

  const request = async (sql: string | null, body: string, settings: Settings = {}) => {
    const params = new URLSearchParams();
    if (sql !== null) params.set('query', sql);
    for (const [k, v] of Object.entries(settings)) params.set(k, String(v));
    const qs = params.toString();
    const res = await post(`${base}/${qs === '' ? '' : `?${qs}`}`, body);
    if (res.status !== 200) throw new Error(`ClickHouse HTTP ${res.status}: ${res.body.trim()}\n(in: ${(sql ?? body).slice(0, 300)})`);
    return res.body;
  };

  const started = Date.now();
  const timeout = options.startTimeoutMs ?? 30_000;
  let last = '';
  for (;;) {
    if (exited !== null) {
      const e = exited as { code: number | null; signal: NodeJS.Signals | null };
      throw new Error(
        `clickhouse-server exited during start-up (code ${e.code}, signal ${e.signal}${spawnError ? `, ${String(spawnError)}` : ''}):\n${output}\n--- ${errorLog}:\n${tail(errorLog, 20)}\n--- ${log}:\n${tail(log, 20)}`,
      );
    }
    try {
      // The log is ours: the answer comes from this server, not from one left on the port.
      if ((await request(null, 'SELECT 1')).trim() === '1' && readFileSync(log, 'utf8').includes('Ready for connections')) break;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() - started > timeout) {
      await stop();
      throw new Error(`clickhouse-server did not answer SELECT 1 within ${timeout} ms (${last}):\n${output}\n--- ${errorLog}:\n${tail(errorLog, 20)}\n--- ${log}:\n${tail(log, 30)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    http: base,
    dir,
    log,
    errorLog,
    query: (sql, settings) => request(null, sql, settings),
    async insertJsonEachRow(table, ndjson, settings) {
      await request(`INSERT INTO ${table} FORMAT JSONEachRow`, ndjson, settings);
    },
    stop,
  };
}
