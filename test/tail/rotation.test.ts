/**
 * `mta550 tail` against a file that is written, rotated, truncated, deleted and re-created for
 * real while mta550 is stopped, restarted and killed (the #8 acceptance test). A writer process
 * appends over 100,000 Postfix lines at a steady rate; every refused recipient it wrote must come
 * out exactly once (by event id), in order within each file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = path.resolve('dist/src/cli.js');
const WRITER = path.resolve('test/tail/writer.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'mta550-rotation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (n: string) => path.join(dir, n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ev {
  id: string;
  recipient: string;
  source: { identity: string; offset: number; file?: string };
}

function readEvents(file: string): Ev[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Ev);
}

function startTail(run: number, pattern: string): { child: ChildProcess; out: string; exited: Promise<number | null> } {
  const out = p(`out-${run}.ndjson`);
  const fd = openSync(out, 'a');
  const errFd = openSync(p(`err-${run}.txt`), 'a');
  const child = spawn(
    process.execPath,
    [CLI, 'tail', pattern, '-o', 'records', '--state', p('state.json'), '--from-beginning', '--records', 'events', '--no-onsets', '--poll-interval', '50ms', '--max-wait', '1s', '--checkpoint-every', '300ms', '--year', '2024'],
    { stdio: ['ignore', fd, errFd], env: { ...process.env, TZ: 'UTC' } },
  );
  closeSync(fd);
  closeSync(errFd);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

/** logrotate's numbering: mail.log.N -> mail.log.N+1, then the live file becomes mail.log.1. */
function shift(): void {
  for (let k = 9; k >= 1; k--) if (existsSync(p(`mail.log.${k}`))) renameSync(p(`mail.log.${k}`), p(`mail.log.${k + 1}`));
}

describe('mta550 tail under real rotation, restarts and a crash', () => {
  it('writes every refusal exactly once over 100,000+ lines (rename, copytruncate, delete+recreate, stop/restart, kill -9)', { timeout: 90_000 }, async () => {
    const log = p('mail.log');
    writeFileSync(log, '');
    const pattern = p('mail.log*');
    const truthFile = p('truth.json');
    const started = Date.now();
    const writer = spawn(process.execPath, [WRITER, log, '100000', '90', '10', truthFile], { stdio: 'inherit' });
    const writerDone = new Promise<void>((resolve) => writer.on('exit', () => resolve()));
    const steps: string[] = [];

    /** Rename rotation, rsyslog style: the writer re-opens the path on SIGHUP. */
    const renameRotation = (label: string) => {
      shift();
      renameSync(log, p('mail.log.1'));
      writer.kill('SIGHUP');
      steps.push(label);
    };
    /** copytruncate, the writer paused for the copy (a slow copy would race it otherwise). */
    const copyTruncate = () => {
      writer.kill('SIGSTOP');
      shift();
      copyFileSync(log, p('mail.log.1'));
      truncateSync(log, 0);
      writer.kill('SIGCONT');
      steps.push('copytruncate');
    };

    let tail = startTail(1, pattern);
    await sleep(1000);
    renameRotation('rename');
    await sleep(1000);
    copyTruncate();
    await sleep(800);
    // 3. A clean stop, a rotation while stopped, a restart from the state file.
    tail.child.kill('SIGTERM');
    expect(await tail.exited).toBe(0);
    steps.push('stop');
    await sleep(300);
    renameRotation('rename while stopped');
    await sleep(400);
    tail = startTail(2, pattern);
    steps.push('restart');
    await sleep(1200);
    // 4. Deletion and re-creation.
    const deleted = openSync(log, 'r'); // to know where the deleted file ends
    const deletedIno = fstatSync(deleted).ino;
    unlinkSync(log);
    await sleep(100);
    writer.kill('SIGHUP');
    steps.push('delete+recreate');
    await sleep(1200);
    // The deleted file's lines are on no disk once the tail holding it open is killed: before the
    // kill, the checkpoint must be past its end (the writer has re-opened: it ends where it is now).
    // On a loaded machine the tail can lag more than the sleep above.
    const lagStart = Date.now();
    const checkpointed = () => {
      try {
        const st = JSON.parse(readFileSync(p('state.json'), 'utf8')) as { files: { ino: number; offset: number }[] };
        return st.files.find((f) => f.ino === deletedIno)?.offset ?? -1;
      } catch {
        return -1; // being replaced
      }
    };
    while (Date.now() - lagStart < 30_000 && !(existsSync(log) && checkpointed() >= fstatSync(deleted).size)) await sleep(100);
    closeSync(deleted);
    if (Date.now() - lagStart > 200) steps.push(`deleted file checkpointed after ${Date.now() - lagStart} ms more`);
    // 5. A crash: lines read after the last checkpoint are read again (at-least-once, same ids).
    tail.child.kill('SIGKILL');
    await tail.exited;
    steps.push('kill -9');
    await sleep(300);
    tail = startTail(3, pattern);
    steps.push('restart');
    await sleep(800);
    copyTruncate();
    await writerDone;
    steps.push(`writer done after ${Date.now() - started} ms`);

    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { lines: number; recipients: string[] };
    expect(truth.lines).toBeGreaterThanOrEqual(100_000);
    // Wait for the last lines to come out, then stop cleanly.
    const writerEnd = Date.now();
    const idsOf = (r: number) => (existsSync(p(`out-${r}.ndjson`)) ? readFileSync(p(`out-${r}.ndjson`), 'utf8').match(/^\{"id":"[0-9a-f]+"/gm) ?? [] : []);
    while (Date.now() - writerEnd < 20_000) {
      if (new Set([1, 2, 3].flatMap(idsOf)).size >= truth.recipients.length) break;
      await sleep(200);
    }
    const caughtUpMs = Date.now() - writerEnd;
    tail.child.kill('SIGTERM');
    expect(await tail.exited).toBe(0);

    const runs = [1, 2, 3].map((r) => readEvents(p(`out-${r}.ndjson`)));
    const all = runs.flat();
    const byId = new Map<string, Ev>();
    for (const e of all) {
      const prev = byId.get(e.id);
      if (prev !== undefined) expect(prev.recipient).toBe(e.recipient); // a re-sent event is the same event
      byId.set(e.id, e);
    }
    const got = [...byId.values()].map((e) => e.recipient).sort();
    const want = [...truth.recipients].sort();
    const gotSet = new Set(got);
    const missing = want.filter((r) => !gotSet.has(r));
    expect(missing).toEqual([]);
    expect(got).toEqual(want); // zero lost, and no recipient under two ids
    // The clean stop/restart wrote nothing twice; only the kill -9 may have (same ids).
    const ids1 = new Set(runs[0]!.map((e) => e.id));
    expect(runs[1]!.filter((e) => ids1.has(e.id))).toEqual([]);
    runs.forEach((run, i) => {
      // Within one run an event must come once; say where the repeats are when they do not.
      const seen = new Map<string, number>();
      const repeats: Ev[] = [];
      run.forEach((e, k) => (seen.has(e.id) ? repeats.push(e) : seen.set(e.id, k)));
      const where = repeats.length === 0 ? '' : `run ${i + 1}: ${repeats.length} repeats, first at output line ${run.indexOf(repeats[0]!)} (first seen at ${seen.get(repeats[0]!.id)}), identities ${[...new Set(repeats.map((e) => e.source.identity))].join(',')}, first read from ${run[seen.get(repeats[0]!.id)!]!.source.file} then ${repeats[0]!.source.file}, all events of that identity in order: ${run.filter((e) => e.source.identity === repeats[0]!.source.identity).map((e, k, a) => (k === 0 || e.source.offset < a[k - 1]!.source.offset ? `[#${run.indexOf(e)} ${e.source.offset}]` : '')).join('')}, offsets ${Math.min(...repeats.map((e) => e.source.offset))}-${Math.max(...repeats.map((e) => e.source.offset))}; steps: ${steps.join(', ')}; stderr: ${readFileSync(p(`err-${i + 1}.txt`), 'utf8').slice(0, 400)}`;
      expect(repeats.length, where).toBe(0);
    });
    // In order within each file (identity), within each run and across the clean restart.
    const inOrder = (evs: Ev[]) => {
      const last = new Map<string, number>();
      let disorder = 0;
      for (const e of evs) {
        if ((last.get(e.source.identity) ?? -1) >= e.source.offset) disorder++;
        last.set(e.source.identity, e.source.offset);
      }
      return disorder;
    };
    expect(inOrder([...runs[0]!, ...runs[1]!])).toBe(0);
    expect(inOrder(runs[2]!)).toBe(0);
    const duplicates = all.length - byId.size;
    console.log(`tail rotation test: ${truth.lines} lines, ${truth.recipients.length} refusals, steps: ${steps.join(', ')}; ` + `runs wrote ${runs.map((r) => r.length).join(' + ')} events, ${duplicates} re-sent after the kill -9; caught up ${caughtUpMs} ms after the writer ended`);
    const err = [1, 2, 3].map((r) => readFileSync(p(`err-${r}.txt`), 'utf8')).join('');
    expect(err).not.toMatch(/internal error/);
  });
});
