/**
 * Turns the command line's inputs (files, globs, directories, `-`) into an ordered list of sources.
 * Rotated sets are read oldest first (`mail.log.2.gz`, `mail.log.1`, `mail.log`;
 * `mail.log-20240301.gz`, `mail.log-20240308`, `mail.log`) so messages that cross a rotation stay
 * correlated and BSD years step forward correctly. Every named input is checked before any is read,
 * so a typo fails at once with one message.
 */
import { access, constants, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Mta550Error, readError } from '../errors.js';
import { expandGlob, hasGlob } from './glob.js';

export type InputSource = { kind: 'file'; path: string } | { kind: 'stdin'; path: '-' };

const COMPRESSION_SUFFIX = /\.(?:gz|bz2|xz|zst)$/;
const NUMBERED = /^(.*)\.(\d{1,4})$/;
const DATED = /^(.*)[-.](\d{8}(?:\d{2})?|\d{4}-\d{2}-\d{2})$/;

/**
 * Where a file sits in its rotated set: the base name it rotates from and an order key (older
 * sorts first, the live file last).
 */
export function rotationKey(file: string): { base: string; order: [number, number] } {
  const dir = path.dirname(file);
  let name = path.basename(file).replace(COMPRESSION_SUFFIX, '');
  const n = NUMBERED.exec(name);
  if (n !== null) return { base: path.join(dir, n[1]!), order: [1, -Number(n[2])] };
  const d = DATED.exec(name);
  if (d !== null) return { base: path.join(dir, d[1]!), order: [0, Number(d[2]!.replace(/-/g, ''))] };
  name = path.join(dir, name);
  return { base: name, order: [2, 0] };
}

export function sortRotated(files: string[]): string[] {
  const keyed = files.map((f) => ({ f, k: rotationKey(f) }));
  keyed.sort((a, b) => {
    if (a.k.base !== b.k.base) return a.k.base < b.k.base ? -1 : 1;
    return a.k.order[0] - b.k.order[0] || a.k.order[1] - b.k.order[1];
  });
  return keyed.map((x) => x.f);
}

async function filesOfDirectory(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue;
    const p = path.join(dir, name);
    try {
      if ((await stat(p)).isFile()) out.push(p);
    } catch {
      // removed meanwhile or dangling link
    }
  }
  return out;
}

export async function resolveInputs(args: readonly string[]): Promise<InputSource[]> {
  const files: string[] = [];
  let stdin = false;
  for (const arg of args) {
    if (arg === '-') {
      stdin = true;
      continue;
    }
    let st;
    try {
      st = await stat(arg);
    } catch (err) {
      if (hasGlob(arg)) {
        const matched = await expandGlob(arg);
        if (matched.length === 0) throw new Mta550Error('input_no_match', `no file matches ${arg}`);
        files.push(...matched);
        continue;
      }
      throw readError(arg, err);
    }
    if (st.isDirectory()) {
      let inDir: string[];
      try {
        inDir = await filesOfDirectory(arg);
      } catch (err) {
        throw readError(arg, err);
      }
      if (inDir.length === 0) throw new Mta550Error('input_no_match', `no file in directory ${arg}`);
      files.push(...inDir);
    } else {
      files.push(arg);
    }
  }
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const f of files) {
    try {
      await access(f, constants.R_OK);
    } catch (err) {
      throw readError(f, err);
    }
    const real = await realpath(f);
    if (seen.has(real)) continue;
    seen.add(real);
    unique.push(f);
  }
  const sources: InputSource[] = sortRotated(unique).map((p) => ({ kind: 'file', path: p }));
  if (stdin) sources.push({ kind: 'stdin', path: '-' });
  return sources;
}
