/**
 * Follows log files like `tail -F`, by polling (fs.watch only hints that a poll is due: it misses
 * events on some file systems and in containers, and a poll never does).
 *
 * Files are tracked by identity, not by name: device + inode while open, plus the hash of the first
 * line (framing/lines.ts) to tell a re-created or rewritten file from the one we knew.
 * - Rename rotation: the renamed file keeps its tracker and is read to its end (before the new file
 *   at the name, in each poll) and closed once it has been idle for `orphanIdleMs`.
 * - copytruncate: a file shorter than our position, or whose first line changed, restarts at 0. If
 *   the copy matches the patterns too (`'mail.log*'`), it is recognised by its first line and read
 *   from where we were, which recovers the lines written between our last read and the truncation.
 * - Deletion and re-creation: the new file is new and read from its start.
 * - Files that appear later and match a pattern are read from their start; files there at startup
 *   start at their end (unless `fromStart`), or where a checkpoint left them.
 * - A partial last line is held until its newline comes.
 * - A file that appears without a complete first line is held open but not read until it has one:
 *   only then can it be told from a copy of a file we read (copytruncate's cp creates the copy
 *   empty, then fills it; read from its start, the copy would repeat its original's lines).
 * Compressed files (already rotated away) are never followed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { LineSplitter, MAX_LINE_LENGTH, sourceIdentity, type Line } from '../framing/lines.js';
import { expandGlob, hasGlob } from './glob.js';

/** Where a followed file was left: what `--state` stores per file. */
export interface FileCheckpoint {
  /** The name the file was followed as (its channel). */
  path: string;
  dev: number;
  ino: number;
  /** Hash of the first line; null while the file has no complete line. */
  identity: string | null;
  /** Byte offset of the first line not yet fully handled, and that line's number - 1. */
  offset: number;
  line: number;
}

export interface FollowOptions {
  /** Read files that exist at startup from their start (default: from their end, like tail -F). */
  fromStart?: boolean;
  /** Checkpoints from a state file: those files continue where they were left. */
  restore?: readonly FileCheckpoint[];
  /** Whether a state file existed: then files not in it appeared while we were stopped (read whole). */
  restored?: boolean;
  /** A renamed or deleted file still open is closed after this long without growing (default 30 s). */
  orphanIdleMs?: number;
  /** Most bytes read from one file per poll (default 8 MiB), so one busy file cannot starve others. */
  maxBytesPerPoll?: number;
  maxLineLength?: number;
  warn: (message: string) => void;
  /** Wall clock (tests pin it). */
  now?: () => number;
}

/** One followed file. */
export interface Tracked {
  /** The name it was first followed as: lines go to this channel even after a rename. */
  readonly name: string;
  /** Its current name (changes on rename), or null once it vanished from every pattern. */
  current: string | null;
  fh: FileHandle;
  dev: number;
  ino: number;
  splitter: LineSplitter;
  /** Bytes read from the file so far. */
  readPos: number;
  lastGrowthMs: number;
  /** The file's identity as last verified (null until it has a first line). */
  identity: string | null;
  /**
   * A copytruncate copy found while its original is still followed and not yet truncated: the
   * original goes on reading these very lines, so the copy waits where the original is and reads
   * only once the original was truncated (from where it stopped), else a line would come twice.
   */
  copyOf?: Tracked;
  /** Where the file stood when it was last truncated or rewritten, and what it was. */
  beforeRestart?: { identity: string | null; offset: number; line: number };
  /** Found without a first line: not read until it has one and is known to be no copy (see poll). */
  unidentified?: boolean;
}

const COMPRESSED = /\.(?:gz|bz2|xz|zst|zip)$/;
const READ_CHUNK = 256 * 1024;

/** The identity of a file from its first bytes, computed as LineSplitter does; null without a first line yet. */
export async function fileIdentity(fh: FileHandle): Promise<string | null> {
  const buf = Buffer.alloc(2048);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  const head = buf.subarray(0, bytesRead);
  const nl = head.indexOf(10);
  if (nl >= 0) {
    let end = nl;
    if (end > 0 && head[end - 1] === 13) end--;
    return sourceIdentity(head.subarray(0, end));
  }
  // A first line longer than the identity's bytes: its first 1 KiB is all the identity uses.
  return bytesRead > 1025 ? sourceIdentity(head.subarray(0, 1024)) : null;
}

/** Counts lines and finds the last line start before `size` (start at the end of an existing file). */
async function endOf(fh: FileHandle, size: number): Promise<{ offset: number; lines: number }> {
  const buf = Buffer.alloc(1024 * 1024);
  let lines = 0;
  let lastStart = 0;
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) {
      lines++;
      lastStart = pos + i + 1;
    }
    pos += bytesRead;
  }
  return { offset: lastStart, lines };
}

export class Follower {
  private readonly tracked = new Map<string, Tracked>();
  /** Read positions by file identity, kept after a file is closed: a copy (copytruncate) continues there. */
  private readonly positions = new Map<string, { offset: number; line: number }>();
  /** Checkpoints not yet matched to a file (a name can have two: the live file and its rotated predecessor). */
  private readonly restore: FileCheckpoint[];
  private readonly orphanIdleMs: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly buf = Buffer.alloc(READ_CHUNK);
  private first = true;
  /** Set by a poll that left unread bytes (the per-poll budget): poll again at once. */
  private more = false;
  private releaseOrphans = false;
  private watchers: FSWatcher[] = [];
  private hint: (() => void) | null = null;
  /** Files that could not be opened, with the message said (said again only when it changes). */
  private readonly failing = new Map<string, string>();
  readonly stats = { rotations: 0, truncations: 0, recreated: 0, opened: 0, closed: 0, copiesResumed: 0 };

  constructor(
    private readonly patterns: readonly string[],
    private readonly options: FollowOptions,
  ) {
    this.restore = [...(options.restore ?? [])];
    this.orphanIdleMs = options.orphanIdleMs ?? 30_000;
    this.maxBytes = options.maxBytesPerPoll ?? 8 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    for (const c of options.restore ?? []) if (c.identity !== null) this.positions.set(c.identity, { offset: c.offset, line: c.line });
  }

  /** Files the patterns match now (plain paths are kept even when missing: they may appear). */
  private async matches(): Promise<string[]> {
    const out: string[] = [];
    for (const p of this.patterns) {
      if (hasGlob(p)) out.push(...(await expandGlob(p)));
      else {
        try {
          const s = await stat(p);
          if (s.isDirectory()) {
            for (const name of (await readdir(p)).sort()) if (!name.startsWith('.')) out.push(path.join(p, name));
            continue;
          }
        } catch {
          // missing now: followed when it appears
        }
        out.push(p);
      }
    }
    // Compressed files are rotated away for good: never followed (analyze reads them), without a note.
    return [...new Set(out)].filter((f) => !COMPRESSED.test(f));
  }

  /** Wakes `waitForHint` early when a watched directory changes. */
  startWatching(): void {
    const dirs = new Set(this.patterns.map((p) => (hasGlob(p) ? path.dirname(p.split(/[*?[]/)[0]! + 'x') : path.dirname(p))));
    for (const d of dirs) {
      try {
        const w = watch(d, { persistent: false }, () => this.hint?.());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // no watch here (missing directory, no inotify): polling alone still sees everything
      }
    }
  }

  /**
   * SIGHUP: rotation is done, let go of renamed and deleted files at the next poll (after reading
   * them to their end) instead of waiting for them to be idle.
   */
  reopen(): void {
    this.releaseOrphans = true;
  }

  /** Ends a `waitForHint` now (a signal). */
  wakeNow(): void {
    this.hint?.();
  }

  /** Resolves after `ms`, or earlier when a watched directory changed. */
  async waitForHint(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.hint = done;
    });
    this.hint = null;
  }

  /**
   * One poll: finds files, notices rotations and truncations, and hands every complete new line to
   * `onLines` (renamed-away files first, so a rotated file is read to its end before its successor).
   * Resolves to true when a file has more to read than one poll takes.
   */
  async poll(onLines: (t: Tracked, lines: Line[]) => Promise<void>): Promise<boolean> {
    if (this.first && this.restore.length > 0) await this.findRotatedWhileStopped();
    this.more = false;
    const seen = new Set<string>();
    const fresh: { file: string; dev: number; ino: number }[] = [];
    for (const file of await this.matches()) {
      let s;
      try {
        s = await stat(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') this.failed(file, err);
        continue;
      }
      if (!s.isFile()) continue;
      const key = `${s.dev}:${s.ino}`;
      seen.add(key);
      const t = this.tracked.get(key);
      if (t !== undefined) {
        if (t.current !== file) {
          if (t.current !== null) this.stats.rotations++;
          t.current = file;
        }
        continue;
      }
      fresh.push({ file, dev: s.dev, ino: s.ino });
    }
    // Trackers whose file left every pattern (renamed away or deleted) are orphans: drained, then closed.
    for (const t of this.tracked.values()) {
      if (!seen.has(`${t.dev}:${t.ino}`) && t.current !== null) {
        t.current = null;
        this.stats.rotations++;
      }
    }
    // A file found without a first line that now has one: a copy of a file we read (copytruncate)
    // is placed by start() like any copy; a new file is read from its start.
    for (const t of [...this.tracked.values()]) {
      if (t.unidentified !== true) continue;
      const id = await fileIdentity(t.fh).catch(() => null);
      if (id === null) continue;
      t.unidentified = false;
      if (t.current !== null && this.positions.has(id)) {
        await this.close(t);
        fresh.unshift({ file: t.current, dev: t.dev, ino: t.ino });
      }
    }
    const orphans = [...this.tracked.values()].filter((t) => t.current === null);
    const live = [...this.tracked.values()].filter((t) => t.current !== null);
    const release = this.releaseOrphans;
    this.releaseOrphans = false;
    for (const t of orphans) {
      await this.read(t, onLines);
      if (release || this.now() - t.lastGrowthMs >= this.orphanIdleMs) await this.close(t);
    }
    for (const f of fresh) {
      const t = await this.start(f.file, f.dev, f.ino);
      if (t === null) continue;
      // A copy of a file we were reading (copytruncate) is read before the truncated original goes on.
      if (t.name !== f.file) await this.read(t, onLines);
      else live.push(t);
    }
    for (const t of live) await this.read(t, onLines);
    this.first = false;
    return this.more;
  }

  /**
   * Restart after a rotation that happened while we were stopped: the file a checkpoint names may
   * now sit under a rotated name (`mail.log.1`, `mail.log-20240301`), same inode, or be a copy of
   * it (copytruncate), same first line. Found, it is read from the checkpoint as an orphan.
   */
  private async findRotatedWhileStopped(): Promise<void> {
    // The files that could hold a checkpoint's lines: its name and the rotated names beside it.
    const candidates = new Map<string, { file: string; dev: number; ino: number; size: number; identity: string | null }>();
    for (const c of this.restore) {
      const dir = path.dirname(c.path);
      const base = path.basename(c.path);
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => n.startsWith(base) && !COMPRESSED.test(n)).sort();
      } catch {
        continue;
      }
      for (const n of names) {
        const file = path.join(dir, n);
        if (candidates.has(file)) continue;
        try {
          const fh = await open(file, 'r');
          try {
            const st = await fh.stat();
            if (st.isFile()) candidates.set(file, { file, dev: st.dev, ino: st.ino, size: st.size, identity: await fileIdentity(fh) });
          } finally {
            await fh.close();
          }
        } catch {
          // gone meanwhile or unreadable: not a candidate
        }
      }
    }
    const inodeOf = (x: { dev: number; ino: number }) => `${x.dev}:${x.ino}`;
    const checkpointed = new Set(this.restore.map(inodeOf));
    const same = (c: FileCheckpoint, f: { identity: string | null; size: number }) => (c.identity === null || f.identity === c.identity) && f.size >= c.offset;
    // 1. The same inode under any name (a rename keeps it). At the checkpoint's own name, start()
    //    continues it; under a rotated name it is read from the checkpoint as an orphan.
    // 2. Only then a copy (copytruncate): same first line, an inode no checkpoint owns. A copy and
    //    its original share their first line, so matching by identity first would read the
    //    original again from its start.
    for (const pass of ['inode', 'copy'] as const) {
      for (const c of [...this.restore]) {
        const f = [...candidates.values()].find((x) =>
          pass === 'inode' ? inodeOf(x) === inodeOf(c) && same(c, x) : c.identity !== null && !checkpointed.has(inodeOf(x)) && same(c, x),
        );
        if (f === undefined) continue;
        candidates.delete(f.file);
        if (pass === 'inode' && f.file === c.path) continue;
        await this.track(f, c, pass === 'copy');
      }
    }
  }

  /** Follows a file found for a checkpoint, from the checkpoint, as an orphan under the checkpoint's name. */
  private async track(f: { file: string; dev: number; ino: number; identity: string | null }, c: FileCheckpoint, copy: boolean): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(f.file, 'r');
    } catch {
      return;
    }
    this.tracked.set(`${f.dev}:${f.ino}`, {
      name: c.path,
      current: null,
      fh,
      dev: f.dev,
      ino: f.ino,
      splitter: new LineSplitter({ offset: c.offset, number: c.line, identity: f.identity }, this.options.maxLineLength ?? MAX_LINE_LENGTH),
      readPos: c.offset,
      lastGrowthMs: this.now(),
      identity: f.identity,
    });
    this.stats.opened++;
    if (copy) this.stats.copiesResumed++;
    this.forget(c);
  }


  private failed(file: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root or as a member of its group, often adm)' : (err as Error).message;
    const message = `tail: cannot read ${file}: ${why}; retrying`;
    if (this.failing.get(file) === message) return;
    this.failing.set(file, message);
    this.options.warn(message);
  }

  /** Opens a file seen for the first time and decides where to start reading it. */
  private async start(file: string, dev: number, ino: number): Promise<Tracked | null> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      this.failed(file, err);
      return null;
    }
    if (this.failing.delete(file)) this.options.warn(`tail: ${file} is readable again`);
    const s = await fh.stat();
    if (s.dev !== dev || s.ino !== ino) {
      // Replaced between stat and open: the next poll sees the new one.
      await fh.close();
      return null;
    }
    const identity = await fileIdentity(fh);
    let offset = 0;
    let line = 0;
    let name = file;
    let copyOf: Tracked | undefined;
    const saved = this.restore.find((c) => c.dev === dev && c.ino === ino && (c.identity === null || c.identity === identity));
    const atName = this.restore.find((c) => c.path === file);
    const known = identity === null ? undefined : this.positions.get(identity);
    if (saved !== undefined && s.size >= saved.offset) {
      ({ offset, line } = saved);
      name = saved.path;
      this.forget(saved);
    } else if (known !== undefined) {
      // The same content under another name or inode: a rotated or copied file we were reading. A
      // copy shorter than our position (the original grew between the copy and its truncation, and
      // we read that growth from the original) holds nothing we have not read: start at its end.
      ({ offset, line } = known);
      if (s.size < offset) offset = s.size;
      const from = this.restore.find((c) => c.identity === identity);
      if (from !== undefined) {
        name = from.path;
        this.forget(from);
      } else {
        const owner = [...this.tracked.values()].find((t) => t.identity === identity);
        if (owner !== undefined) {
          name = owner.name;
          if (owner.current !== null) copyOf = owner;
        }
      }
      this.stats.copiesResumed++;
    } else if (this.first && !this.options.fromStart && !this.options.restored) {
      ({ offset, lines: line } = await endOf(fh, s.size));
    } else if (atName !== undefined) {
      // The checkpoint's name now holds another file: created while we were stopped, read whole.
      this.stats.recreated++;
    }
    if (identity === null && offset > 0) {
      offset = 0;
      line = 0;
    }
    const t: Tracked = {
      name,
      current: file,
      fh,
      dev,
      ino,
      splitter: new LineSplitter({ offset, number: line, identity }, this.options.maxLineLength ?? MAX_LINE_LENGTH),
      readPos: offset,
      lastGrowthMs: this.now(),
      identity,
      ...(copyOf !== undefined ? { copyOf } : {}),
      ...(identity === null && saved === undefined ? { unidentified: true } : {}),
    };
    this.tracked.set(`${dev}:${ino}`, t);
    this.stats.opened++;
    return t;
  }

  /** Reads what is new in a file (up to the per-poll budget), after checking it was not truncated or rewritten. */
  private async read(t: Tracked, onLines: (t: Tracked, lines: Line[]) => Promise<void>): Promise<void> {
    // No first line yet when poll looked: bytes read now could complete one unchecked.
    if (t.unidentified === true) return;
    if (t.copyOf !== undefined) {
      const o = t.copyOf;
      const followed = this.tracked.get(`${o.dev}:${o.ino}`) === o;
      if (followed && o.identity === t.identity) {
        // Is the original truncated (or rewritten) on disk already? Then the copy goes first, as before.
        let truncated: boolean;
        try {
          truncated = (await o.fh.stat()).size < o.readPos || (await fileIdentity(o.fh)) !== o.identity;
        } catch {
          truncated = true;
        }
        await this.moveTo(t, o.splitter.offset, o.splitter.lines);
        if (!truncated) return; // not yet: the original reads these lines; the copy waits where it is
      } else if (followed && o.beforeRestart !== undefined && o.beforeRestart.identity === t.identity) {
        await this.moveTo(t, o.beforeRestart.offset, o.beforeRestart.line);
      }
      t.copyOf = undefined;
    }
    let size: number;
    try {
      size = (await t.fh.stat()).size;
    } catch (err) {
      this.failed(t.current ?? t.name, err);
      return;
    }
    let restart = size < t.readPos;
    if (!restart && t.identity !== null && size !== t.readPos) {
      // Grown (or rewritten to a larger size): the first line tells a rewrite from an append.
      const id = await fileIdentity(t.fh);
      if (id !== null && id !== t.identity) restart = true;
    }
    if (restart) {
      t.beforeRestart = { identity: t.identity, offset: t.splitter.offset, line: t.splitter.lines };
      this.stats.truncations++;
      const dropped = t.splitter.reset(0);
      if (dropped > 0) this.options.warn(`tail: ${t.current ?? t.name} was truncated with ${dropped} bytes of an unfinished line pending; they are lost`);
      t.readPos = 0;
      t.identity = null;
    }
    let budget = this.maxBytes;
    while (budget > 0) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await t.fh.read(this.buf, 0, Math.min(this.buf.length, budget), t.readPos));
      } catch (err) {
        this.failed(t.current ?? t.name, err);
        return;
      }
      if (bytesRead === 0) break;
      // Truncated (copytruncate) and written again past our position since the check above, while
      // the lines before were being handled: these bytes are the new content's. Left unread: the
      // next poll restarts the file, and its copy continues from where we were.
      if (t.identity !== null && (await fileIdentity(t.fh).catch(() => null)) !== t.identity) break;
      t.readPos += bytesRead;
      budget -= bytesRead;
      t.lastGrowthMs = this.now();
      const lines = t.splitter.push(this.buf.subarray(0, bytesRead));
      if (t.identity === null && t.splitter.identity !== null) t.identity = t.splitter.identity;
      if (t.identity !== null) this.positions.set(t.identity, { offset: t.splitter.offset, line: t.splitter.lines });
      if (lines.length > 0) await onLines(t, lines);
    }
    if (budget <= 0) this.more = true;
    if (this.positions.size > 1000) this.positions.delete(this.positions.keys().next().value as string);
  }

  /** Sets where a tracker reads next (a line start), forgetting any partial line it held. */
  private async moveTo(t: Tracked, to: number, line: number): Promise<void> {
    // Not past the copy's end: the original may have read lines written after the copy was made,
    // and a position past the end would look like a truncation of the copy.
    let offset = to;
    try {
      offset = Math.min(to, (await t.fh.stat()).size);
    } catch {
      // unreadable now: the next read says so
    }
    // Only forward: lines before the copy's position were read already (from it or its original).
    if (offset <= t.readPos) return;
    t.splitter = new LineSplitter({ offset, number: line, identity: t.identity }, this.options.maxLineLength ?? MAX_LINE_LENGTH);
    t.readPos = offset;
  }

  private async close(t: Tracked): Promise<void> {
    this.tracked.delete(`${t.dev}:${t.ino}`);
    this.stats.closed++;
    await t.fh.close().catch(() => undefined);
  }

  /** The files being followed now. */
  files(): Tracked[] {
    return [...this.tracked.values()];
  }

  /**
   * Checkpoints of every followed file; `safe` lowers a file's offset to the first line whose
   * events are not all out yet (the pipeline knows).
   */
  checkpoints(safe: (t: Tracked) => { offset: number; line: number }): FileCheckpoint[] {
    const out: FileCheckpoint[] = [];
    for (const t of this.tracked.values()) {
      // Nothing read from it yet, and it may be a copy being written: a restart decides afresh.
      if (t.unidentified === true) continue;
      const { offset, line } = safe(t);
      out.push({ path: t.name, dev: t.dev, ino: t.ino, identity: t.identity, offset, line });
    }
    return out;
  }

  /** Checkpoints from the state that matched no file after the first poll: their unread lines cannot be reached. */
  unmatched(): FileCheckpoint[] {
    const gone = [...this.restore];
    this.restore.length = 0;
    return gone;
  }

  private forget(c: FileCheckpoint): void {
    const i = this.restore.indexOf(c);
    if (i >= 0) this.restore.splice(i, 1);
  }

  async closeAll(): Promise<void> {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    for (const t of [...this.tracked.values()]) await this.close(t);
  }
}
