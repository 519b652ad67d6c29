/**
 * The follower, poll by poll (no timers): every rotation style, late files, partial lines and
 * restarts from a checkpoint. Each test checks the exact lines handed on, in order.
 */
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Follower, type FileCheckpoint, type FollowOptions } from '../../src/input/follow.js';

let dir: string;
let clock = 0;
const warnings: string[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mta550-follow-'));
  clock = 0;
  warnings.length = 0;
});
const open: Follower[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

const p = (name: string) => path.join(dir, name);

function follower(patterns: string[], options: Partial<FollowOptions> = {}) {
  const f = new Follower(patterns, { warn: (m) => warnings.push(m), now: () => clock, ...options });
  open.push(f);
  const got: { name: string; text: string; offset: number }[] = [];
  const poll = async () => {
    await f.poll(async (t, lines) => {
      for (const l of lines) got.push({ name: path.basename(t.name), text: l.text, offset: l.offset });
    });
  };
  const texts = () => got.map((g) => g.text);
  return { f, got, poll, texts };
}

describe('Follower', () => {
  it('starts existing files at their end (like tail -F), then reads what is appended, holding a partial line', async () => {
    writeFileSync(p('mail.log'), 'old 1\nold 2\n');
    const { poll, texts, got } = follower([p('mail.log')]);
    await poll();
    expect(texts()).toEqual([]);
    appendFileSync(p('mail.log'), 'new 1\nnew 2 part');
    await poll();
    expect(texts()).toEqual(['new 1']);
    appendFileSync(p('mail.log'), 'ial\n');
    await poll();
    expect(texts()).toEqual(['new 1', 'new 2 partial']);
    expect(got.map((g) => g.offset)).toEqual([12, 18]);
  });

  it('reads existing files from the start with fromStart, and files that appear later from their start', async () => {
    writeFileSync(p('a.log'), 'a1\n');
    const { poll, texts } = follower([p('*.log')], { fromStart: true });
    await poll();
    writeFileSync(p('b.log'), 'b1\n');
    await poll();
    expect(texts()).toEqual(['a1', 'b1']);
    const later = follower([p('*.log')]);
    await later.poll();
    writeFileSync(p('c.log'), 'c1\n');
    await later.poll();
    expect(later.texts()).toEqual(['c1']);
  });

  it('rename rotation: reads the renamed file to its end before the new file, under the same name', async () => {
    writeFileSync(p('mail.log'), '');
    const { f, poll, texts, got } = follower([p('mail.log')]);
    await poll();
    appendFileSync(p('mail.log'), 'one\n');
    await poll();
    appendFileSync(p('mail.log'), 'two\n'); // written, not yet read, when the file is renamed
    renameSync(p('mail.log'), p('mail.log.1'));
    appendFileSync(p('mail.log.1'), 'three (the writer still had the old file open)\n');
    writeFileSync(p('mail.log'), 'four\n');
    await poll();
    expect(texts()).toEqual(['one', 'two', 'three (the writer still had the old file open)', 'four']);
    expect(new Set(got.map((g) => g.name))).toEqual(new Set(['mail.log']));
    expect(f.stats.rotations).toBe(1);
    clock += 31_000; // idle orphans are closed
    await poll();
    expect(f.files()).toHaveLength(1);
    expect(f.stats.closed).toBe(1);
  });

  it('closes rotated files at once after reading them to their end when told to re-open (SIGHUP)', async () => {
    writeFileSync(p('mail.log'), '');
    const { f, poll, texts } = follower([p('mail.log')]);
    await poll();
    renameSync(p('mail.log'), p('mail.log.1'));
    appendFileSync(p('mail.log.1'), 'last words\n');
    writeFileSync(p('mail.log'), 'new\n');
    f.reopen();
    await poll();
    expect(texts()).toEqual(['last words', 'new']);
    expect(f.files().map((t) => t.current)).toEqual([p('mail.log')]);
  });

  it('copytruncate: a file shorter than our position restarts at 0', async () => {
    writeFileSync(p('mail.log'), '');
    const { f, poll, texts } = follower([p('mail.log')]);
    await poll();
    appendFileSync(p('mail.log'), 'first line of the old content\nsecond\n');
    await poll();
    truncateSync(p('mail.log'), 0);
    appendFileSync(p('mail.log'), 'after\n');
    await poll();
    expect(texts()).toEqual(['first line of the old content', 'second', 'after']);
    expect(f.stats.truncations).toBe(1);
  });

  it('copytruncate: a rewrite that grew past our position is told by its first line', async () => {
    writeFileSync(p('mail.log'), '');
    const { poll, texts } = follower([p('mail.log')]);
    await poll();
    appendFileSync(p('mail.log'), 'a\n');
    await poll();
    truncateSync(p('mail.log'), 0);
    appendFileSync(p('mail.log'), 'a completely different first line\nb\n');
    await poll();
    expect(texts()).toEqual(['a', 'a completely different first line', 'b']);
  });

  it('copytruncate with the copy matched by the glob: the lines between our last read and the truncation are recovered from the copy', async () => {
    writeFileSync(p('mail.log'), '');
    const { f, poll, texts, got } = follower([p('mail.log*')]);
    await poll();
    appendFileSync(p('mail.log'), 'one\n');
    await poll();
    appendFileSync(p('mail.log'), 'two (written just before the copy)\n');
    copyFileSync(p('mail.log'), p('mail.log.1'));
    truncateSync(p('mail.log'), 0);
    appendFileSync(p('mail.log'), 'three\n');
    await poll();
    expect(texts()).toEqual(['one', 'two (written just before the copy)', 'three']);
    expect(got.every((g) => g.name === 'mail.log')).toBe(true);
    expect(f.stats.copiesResumed).toBe(1);
  });

  it('copytruncate seen between the copy and the truncation: each line once (the copy waits while the original goes on)', async () => {
    writeFileSync(p('mail.log'), '');
    const { poll, texts } = follower([p('mail.log*')]);
    await poll();
    appendFileSync(p('mail.log'), 'one\n');
    await poll();
    appendFileSync(p('mail.log'), 'two\n');
    copyFileSync(p('mail.log'), p('mail.log.1'));
    await poll(); // the copy is there, the original not truncated yet: 'two' is read once, from either
    appendFileSync(p('mail.log'), 'three (after the copy: lost by copytruncate itself, read here before the truncation)\n');
    await poll();
    truncateSync(p('mail.log'), 0);
    appendFileSync(p('mail.log'), 'four\n');
    await poll();
    await poll();
    expect(texts()).toEqual(['one', 'two', 'three (after the copy: lost by copytruncate itself, read here before the truncation)', 'four']);
  });

  it('copytruncate whose copy is shorter than our position (we read the original\'s growth before the truncation): nothing read twice', async () => {
    writeFileSync(p('mail.log'), '');
    const { poll, texts } = follower([p('mail.log*')]);
    await poll();
    appendFileSync(p('mail.log'), 'one\ntwo\n');
    copyFileSync(p('mail.log'), p('copy-in-progress')); // not a followed name yet
    appendFileSync(p('mail.log'), 'three (after the copy)\n');
    await poll(); // one, two, three from the original
    truncateSync(p('mail.log'), 0);
    appendFileSync(p('mail.log'), 'four\n');
    renameSync(p('copy-in-progress'), p('mail.log.1')); // the copy shows up under a followed name
    await poll();
    await poll();
    expect(texts()).toEqual(['one', 'two', 'three (after the copy)', 'four']);
  });

  it('copytruncate whose copy is polled while still empty or holding part of its first line (cp has created it, not filled it): nothing read twice', async () => {
    for (const early of ['', 'l']) {
      writeFileSync(p('mail.log'), '');
      const { poll, texts, got } = follower([p('mail.log*')]);
      await poll();
      appendFileSync(p('mail.log'), 'l1\nl2\n');
      await poll();
      appendFileSync(p('mail.log'), 'l3\n');
      writeFileSync(p('mail.log.1'), early); // the copy, created but not yet (fully) written
      await poll(); // l3 from the original; the copy cannot be told from a new file yet
      appendFileSync(p('mail.log.1'), 'l1\nl2\nl3\n'.slice(early.length)); // the copy done
      truncateSync(p('mail.log'), 0);
      appendFileSync(p('mail.log'), 'n1\n');
      await poll();
      await poll();
      expect(texts(), JSON.stringify(early)).toEqual(['l1', 'l2', 'l3', 'n1']);
      expect(got.every((g) => g.name === 'mail.log')).toBe(true);
      for (const f of open.splice(0)) await f.closeAll();
      rmSync(p('mail.log.1'));
    }
  });

  it('copytruncate while a long read is being handled (between two chunks): the new content is not read as the old one\'s continuation', async () => {
    const old = Array.from({ length: 3000 }, (_, i) => `old ${i} `.padEnd(99, 'x'));
    const fresh = Array.from({ length: 4000 }, (_, i) => `new ${i} `.padEnd(99, 'y'));
    writeFileSync(p('mail.log'), old.join('\n') + '\n'); // 300,000 bytes: two reads of 256 KiB
    const f = new Follower([p('mail.log*')], { warn: (m) => warnings.push(m), now: () => clock, fromStart: true });
    open.push(f);
    const got: string[] = [];
    let rotated = false;
    const onLines = async (_t: unknown, lines: { text: string }[]) => {
      got.push(...lines.map((l) => l.text));
      if (rotated) return;
      rotated = true; // logrotate runs while the first chunk's lines are handled
      copyFileSync(p('mail.log'), p('mail.log.1'));
      truncateSync(p('mail.log'), 0);
      appendFileSync(p('mail.log'), fresh.join('\n') + '\n'); // past where we were
    };
    await f.poll(onLines);
    await f.poll(onLines);
    await f.poll(onLines);
    expect(got.length).toBe(old.length + fresh.length);
    expect(got).toEqual([...old, ...fresh]);
  });

  it('a file created empty is read from its start once it has lines', async () => {
    writeFileSync(p('mail.log'), 'a\n');
    const { f, poll, texts } = follower([p('*.log')]);
    await poll();
    writeFileSync(p('b.log'), '');
    await poll();
    appendFileSync(p('b.log'), 'b partial');
    await poll();
    // Not in a checkpoint before it has a first line (it may be a copy being written).
    expect(f.checkpoints((t) => ({ offset: t.splitter.offset, line: t.splitter.lines })).map((c) => path.basename(c.path))).toEqual(['mail.log']);
    appendFileSync(p('b.log'), ' line\nb2\n');
    await poll();
    expect(texts()).toEqual(['b partial line', 'b2']);
  });

  it('deletion and re-creation: the new file is read from its start', async () => {
    writeFileSync(p('mail.log'), '');
    const { poll, texts } = follower([p('mail.log')]);
    await poll();
    appendFileSync(p('mail.log'), 'before\n');
    await poll();
    unlinkSync(p('mail.log'));
    await poll();
    writeFileSync(p('mail.log'), 'after 1\nafter 2\n');
    await poll();
    expect(texts()).toEqual(['before', 'after 1', 'after 2']);
  });

  it('a missing file is followed once it appears, without a warning while it is missing', async () => {
    const { poll, texts } = follower([p('late.log')]);
    await poll();
    writeFileSync(p('late.log'), 'x\n');
    await poll();
    expect(texts()).toEqual(['x']);
    expect(warnings).toEqual([]);
  });

  it('never follows compressed rotated files', async () => {
    writeFileSync(p('mail.log.2.gz'), 'not really gzip\n');
    writeFileSync(p('mail.log'), 'live\n');
    const { poll, texts, f } = follower([p('mail.log*')], { fromStart: true });
    await poll();
    expect(texts()).toEqual(['live']);
    expect(f.files().map((t) => path.basename(t.name))).toEqual(['mail.log']);
  });

  describe('restart from checkpoints', () => {
    async function runUntil(patterns: string[], options: Partial<FollowOptions>, act: () => void) {
      const h = follower(patterns, options);
      await h.poll();
      act();
      await h.poll();
      const cps = h.f.checkpoints((t) => ({ offset: t.splitter.offset, line: t.splitter.lines }));
      await h.f.closeAll();
      return { texts: h.texts(), cps };
    }

    it('continues exactly where it stopped, with line numbers', async () => {
      writeFileSync(p('mail.log'), 'l1\n');
      const a = await runUntil([p('mail.log')], { fromStart: true }, () => appendFileSync(p('mail.log'), 'l2\n'));
      expect(a.texts).toEqual(['l1', 'l2']);
      appendFileSync(p('mail.log'), 'l3\n');
      const b = follower([p('mail.log')], { restore: a.cps, restored: true });
      const lines: number[] = [];
      await b.f.poll(async (_t, ls) => void lines.push(...ls.map((l) => l.number)));
      expect(lines).toEqual([3]);
    });

    it('finds the file under its rotated name after a rotation while stopped, then reads the new file whole', async () => {
      writeFileSync(p('mail.log'), 'l1\n');
      const a = await runUntil([p('mail.log')], { fromStart: true }, () => appendFileSync(p('mail.log'), 'l2\n'));
      appendFileSync(p('mail.log'), 'l3 (written after the stop)\n');
      renameSync(p('mail.log'), p('mail.log.1'));
      writeFileSync(p('mail.log'), 'n1\n');
      const b = follower([p('mail.log')], { restore: a.cps, restored: true });
      await b.poll();
      expect(b.texts()).toEqual(['l3 (written after the stop)', 'n1']);
      expect(warnings).toEqual([]);
    });

    it('finds a copytruncate copy by its first line after a rotation while stopped', async () => {
      writeFileSync(p('mail.log'), 'l1\n');
      const a = await runUntil([p('mail.log')], { fromStart: true }, () => appendFileSync(p('mail.log'), 'l2\n'));
      appendFileSync(p('mail.log'), 'l3\n');
      copyFileSync(p('mail.log'), p('mail.log-20240301'));
      truncateSync(p('mail.log'), 0);
      appendFileSync(p('mail.log'), 'n1\n');
      const b = follower([p('mail.log')], { restore: a.cps, restored: true });
      await b.poll();
      expect(b.texts()).toEqual(['l3', 'n1']);
    });

    it('keeps a renamed original and its copy apart on restart (they share their first line)', async () => {
      writeFileSync(p('mail.log'), 'l1\nl2\n');
      const a = follower([p('mail.log*')], { fromStart: true });
      await a.poll();
      copyFileSync(p('mail.log'), p('mail.log.1')); // a copy, recognised by its first line
      await a.poll();
      renameSync(p('mail.log'), p('mail.log.2')); // and the original renamed
      writeFileSync(p('mail.log'), 'n1\n');
      appendFileSync(p('mail.log.2'), 'l3\n');
      await a.poll();
      expect(a.texts()).toEqual(['l1', 'l2', 'l3', 'n1']);
      const cps = a.f.checkpoints((t) => ({ offset: t.splitter.offset, line: t.splitter.lines }));
      await a.f.closeAll();
      appendFileSync(p('mail.log.2'), 'l4\n');
      const b = follower([p('mail.log*')], { restore: cps, restored: true });
      await b.poll();
      expect(b.texts()).toEqual(['l4']);
    });

    it('says once that a checkpointed file is gone without a rotated copy', async () => {
      const cps: FileCheckpoint[] = [{ path: p('gone.log'), dev: 1, ino: 2, identity: 'abc', offset: 10, line: 1 }];
      const b = follower([p('gone.log')], { restore: cps, restored: true });
      await b.poll();
      expect(b.f.unmatched()).toHaveLength(1);
      expect(b.f.unmatched()).toHaveLength(0);
    });
  });
});
