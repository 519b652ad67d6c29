/**
 * The `tail --state FILE` checkpoint: per followed file its identity (device, inode, first-line
 * hash) and the offset of the first line not yet fully handled, plus the ids of events already
 * written from lines after that offset (so a restart after a crash does not write them twice).
 * Written atomically (a temporary file in the same directory, fsync, rename): a crash leaves the old
 * checkpoint or the new one, never half of one.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { FileCheckpoint } from './follow.js';

export interface TailState {
  version: 1;
  savedAt: string;
  files: FileCheckpoint[];
  /** Ids of events written from lines at or after their file's checkpoint offset. */
  emitted: string[];
}

export type LoadedState = { kind: 'missing' } | { kind: 'loaded'; state: TailState } | { kind: 'corrupt'; reason: string };

function isCheckpoint(x: unknown): x is FileCheckpoint {
  if (x === null || typeof x !== 'object') return false;
  const c = x as Record<string, unknown>;
  return (
    typeof c['path'] === 'string' &&
    Number.isInteger(c['dev']) &&
    Number.isInteger(c['ino']) &&
    (c['identity'] === null || typeof c['identity'] === 'string') &&
    Number.isInteger(c['offset']) &&
    (c['offset'] as number) >= 0 &&
    Number.isInteger(c['line']) &&
    (c['line'] as number) >= 0
  );
}

export async function loadState(file: string): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', reason: (err as Error).message };
  }
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return { kind: 'corrupt', reason: 'not valid JSON' };
  }
  const r = o as Partial<TailState> | null;
  if (r === null || typeof r !== 'object' || r.version !== 1 || !Array.isArray(r.files) || !r.files.every(isCheckpoint)) {
    return { kind: 'corrupt', reason: 'not an mta550 state (version 1)' };
  }
  const emitted = Array.isArray(r.emitted) ? r.emitted.filter((x): x is string => typeof x === 'string') : [];
  return { kind: 'loaded', state: { version: 1, savedAt: String(r.savedAt ?? ''), files: r.files, emitted } };
}

/** Writes the state atomically; throws on failure (the caller warns and keeps running). */
export async function saveState(file: string, state: TailState): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(state) + '\n');
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
}
