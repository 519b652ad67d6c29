/**
 * The README's examples are executable (STYLE.md habit 6): the quick start's two lines, every
 * command in its `sh` blocks, and the output it shows.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watch } from './run-cli.js';

const ROOT = path.resolve('.');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const SAMPLE = path.join(ROOT, 'samples/postfix/001-remote-550-providers.log');

interface Block {
  lang: string;
  lines: string[];
  /** The heading the block sits under. */
  section: string;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  let section = '';
  let current: Block | null = null;
  for (const line of markdown.split('\n')) {
    if (current !== null) {
      if (line.startsWith('```')) {
        out.push(current);
        current = null;
      } else current.lines.push(line);
      continue;
    }
    if (line.startsWith('#')) section = line.replace(/^#+\s*/, '');
    const open = /^```(\w*)/.exec(line);
    if (open !== null) current = { lang: open[1]!, lines: [], section };
  }
  return out;
}

const all = blocks(README);
const shellBlocks = all.filter((b) => b.lang === 'sh' && b.section !== 'Quick start');
const commands = shellBlocks.flatMap((b) => b.lines.filter((l) => l.trim() !== ''));

let sandbox: string;
let shims: string;

/** A README command as a shell line: `mta550` is the built CLI, /var/log/ and /var/lib/ are in the sandbox. */
function shellLine(command: string, cwd: 'sandbox' | 'root'): string {
  const cli = `node ${JSON.stringify(CLI)}`;
  let shell = command
    .replace(/(^|\|\s*)(?:\/usr\/local\/bin\/)?mta550 /g, `$1${cli} `)
    .replace(/\/var\/log\//g, `${sandbox}/log/`)
    .replace(/\/var\/lib\//g, `${sandbox}/lib/`);
  if (cwd === 'sandbox') shell = shell.replace(/(^|\s)samples\//g, `$1${ROOT}/samples/`);
  return shell;
}

/**
 * `mta550 tail` on files runs until stopped: new lines are appended (again every half second until
 * output comes: on a loaded machine the first append can come before it follows the file), then it
 * gets SIGTERM.
 */
function isLongRunning(command: string): boolean {
  return /(^|\|\s*)(?:\/usr\/local\/bin\/)?mta550 tail (?!-( |$))/.test(command);
}

async function runLongRunning(command: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', shellLine(command, 'sandbox')], {
    cwd: sandbox,
    detached: true,
    env: { ...process.env, PATH: `${shims}:${process.env.PATH ?? ''}`, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w = watch(child);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(1000);
  const deadline = Date.now() + 15_000;
  do {
    appendFileSync(path.join(sandbox, 'log', 'mail.log'), readFileSync(SAMPLE));
    await sleep(500);
  } while (w.out() === '' && Date.now() < deadline);
  // The rest of the appended lines' output.
  await sleep(1000);
  // SIGTERM to mta550 itself (as systemd or Ctrl-C would), not to the shell or the pipe's reader.
  const pids = spawnSync('pgrep', ['-g', String(child.pid), '-f', 'cli.js tail'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  for (const pid of pids) process.kill(Number(pid), 'SIGTERM');
  return { status: await w.exited, stdout: w.out(), stderr: w.err() };
}

/** Runs a README command with `mta550` as the built CLI, /var/log/ as a sandbox, and shims for journalctl, docker and vector. */
function runReadmeCommand(command: string, cwd: 'sandbox' | 'root' = 'sandbox') {
  const shell = shellLine(command, cwd);
  return spawnSync('bash', ['-o', 'pipefail', '-c', shell], {
    cwd: cwd === 'sandbox' ? sandbox : ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${shims}:${process.env.PATH ?? ''}`, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

beforeAll(() => {
  sandbox = mkdtempSync(path.join(tmpdir(), 'mta550-readme-'));
  mkdirSync(path.join(sandbox, 'log'));
  mkdirSync(path.join(sandbox, 'lib', 'mta550'), { recursive: true });
  shims = path.join(sandbox, 'bin');
  mkdirSync(shims);
  copyFileSync(SAMPLE, path.join(sandbox, 'log', 'mail.log'));
  copyFileSync(SAMPLE, path.join(sandbox, 'log', 'mail.log.1'));
  writeFileSync(path.join(sandbox, 'log', 'mail.log.2.gz'), gzipSync(readFileSync(SAMPLE)));
  for (const tool of ['journalctl', 'docker']) {
    writeFileSync(path.join(shims, tool), `#!/bin/sh\ncat ${JSON.stringify(SAMPLE)}\n`);
    chmodSync(path.join(shims, tool), 0o755);
  }
  // A pipeline's reader (vector) passes what it reads through.
  writeFileSync(path.join(shims, 'vector'), '#!/bin/sh\ncat\n');
  chmodSync(path.join(shims, 'vector'), 0o755);
});

afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

describe('README quick start', () => {
  it('is exactly the two copy-paste lines', () => {
    const quick = all.filter((b) => b.section === 'Quick start');
    expect(quick).toHaveLength(1);
    expect(quick[0]!.lines).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('npm test is the vitest suite (CI runs that README line itself)', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toMatch(/^vitest run/);
    expect(readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toContain('README.md');
  });

  it('npm ci && npm start works on a fresh copy and prints the report of the bundled samples', () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'mta550-fresh-'));
    try {
      // The files a clone would have: tracked plus untracked-but-not-ignored (work in progress).
      const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
        .split('\0')
        // Never a node_modules (a symlinked one in a git worktree is "untracked"): `npm ci` in the
        // copy would empty the link's target, the real tree's packages.
        .filter((f) => f !== '' && f.split('/')[0] !== 'node_modules');
      for (const f of listed) {
        try {
          cpSync(path.join(ROOT, f), path.join(fresh, f), { recursive: true });
        } catch {
          // deleted in the work tree but still in the index
        }
      }
      const r = spawnSync('bash', ['-c', 'npm ci --no-audit --no-fund --loglevel=error && npm start'], {
        cwd: fresh,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TZ: 'UTC' },
      });
      expect(r.stderr).toContain('no input given: analysing the bundled samples');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/mta550: \d+ rejections \(550\) in \d+ inputs/);
      expect(r.stdout).toContain('Refused by remote servers (outbound)');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('README commands', () => {
  it('shows commands to run', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
  });

  it.each(commands)('%s', async (command) => {
    const r = isLongRunning(command) ? await runLongRunning(command) : runReadmeCommand(command);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('mta550:') && !l.includes('event(s) written'))).toEqual([]);
    expect(r.status).toBe(0);
    if (command.includes('> report.json')) {
      const report = JSON.parse(readFileSync(path.join(sandbox, 'report.json'), 'utf8')) as { inputs: unknown[] };
      expect(report.inputs).toHaveLength(3);
    } else {
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  });

  it('shows real output: each sh block followed by a text block is the output of its last command', () => {
    const pairs = all.flatMap((b, i) => (b.lang === 'sh' && all[i + 1]?.lang === 'text' ? [[b, all[i + 1]!] as const] : []));
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    for (const [sh, text] of pairs) {
      const command = sh.lines.filter((l) => l.trim() !== '').at(-1)!;
      const r = runReadmeCommand(command, 'root');
      expect(r.stdout, command).toBe(text.lines.join('\n') + '\n');
    }
  });

  it('the systemd unit starts mta550 with options that work, and it stops cleanly on SIGTERM', async () => {
    const unit = all.find((b) => b.lang === 'ini' && b.lines.some((l) => l.startsWith('ExecStart=')));
    expect(unit).toBeDefined();
    const exec = unit!.lines.find((l) => l.startsWith('ExecStart='))!.slice('ExecStart='.length);
    expect(exec).toMatch(/^\/usr\/local\/bin\/mta550 tail /);
    const r = await runLongRunning(exec);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('mta550:') && !l.includes('event(s) written'))).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"to":{"address":["dave.lee@example.org"]}');
    expect(r.stdout).toMatch(/"type":"summary"/);
    expect(readFileSync(path.join(sandbox, 'lib', 'mta550', 'state.json'), 'utf8')).toContain('"version":1');
  }, 30_000);

  it('names only npm scripts that exist', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const named = [...README.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const s of named) expect(Object.keys(pkg.scripts)).toContain(s);
  });
});
