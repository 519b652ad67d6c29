/**
 * Minimal glob expansion for quoted patterns (`'/var/log/mail.log*'`): `*`, `?`, `[...]` within a
 * path segment and `**` for any depth. Like a shell, wildcards do not match a leading dot.
 * (Node 20 has no fs.glob; the shell expands unquoted patterns itself.)
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

const GLOB_CHARS = /[*?[]/;

export function hasGlob(s: string): boolean {
  return GLOB_CHARS.test(s);
}

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; c: string } | { kind: 'class'; negated: boolean; ranges: [string, string][] };

function tokens(segment: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') {
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' }); // `**` within a segment = `*`
    } else if (c === '?') out.push({ kind: 'any' });
    else if (c === '[' && segment.indexOf(']', i + 2) > 0) {
      const close = segment.indexOf(']', i + 2);
      let body = segment.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      const ranges: [string, string][] = [];
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          ranges.push([body[k]!, body[k + 2]!]);
          k += 2;
        } else ranges.push([body[k]!, body[k]!]);
      }
      out.push({ kind: 'class', negated, ranges });
      i = close;
    } else out.push({ kind: 'char', c });
  }
  return out;
}

function matchOne(t: Token, c: string): boolean {
  switch (t.kind) {
    case 'any':
      return true;
    case 'char':
      return t.c === c;
    case 'class':
      return t.ranges.some(([a, b]) => c >= a && c <= b) !== t.negated;
    case 'star':
      return false;
  }
}

/**
 * Whether a file name matches one path segment's pattern. A wildcard matcher, not a RegExp: a
 * pattern like `*a*a*a*b` compiled to a regex backtracks polynomially; this walks name and pattern
 * once, going back only to the last `*` (at most name length x pattern length steps).
 */
export function matchSegment(pattern: string, name: string): boolean {
  const p = tokens(pattern);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (i < name.length) {
    const t = p[j];
    if (t !== undefined && t.kind === 'star') {
      star = j++;
      resume = i;
    } else if (t !== undefined && matchOne(t, name[i]!)) {
      i++;
      j++;
    } else if (star >= 0) {
      j = star + 1;
      i = ++resume;
    } else return false;
  }
  while (p[j]?.kind === 'star') j++;
  return j === p.length;
}

async function listDir(dir: string): Promise<{ name: string; isDir: boolean; isFile: boolean }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: { name: string; isDir: boolean; isFile: boolean }[] = [];
  for (const name of names.sort()) {
    try {
      const s = await stat(path.join(dir, name));
      out.push({ name, isDir: s.isDirectory(), isFile: s.isFile() });
    } catch {
      // a dangling link or a file removed meanwhile: not a match
    }
  }
  return out;
}

/** Expands a pattern to the regular files it matches, sorted. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let base = absolute ? '/' : '.';
  let i = absolute ? 1 : 0;
  const fixed: string[] = [];
  while (i < segments.length - 1 && !hasGlob(segments[i]!)) fixed.push(segments[i++]!);
  if (fixed.length > 0) base = absolute ? '/' + fixed.join('/') : fixed.join('/');
  const results: string[] = [];
  /** Directories already walked by `**`, by real path: a symlink loop is walked once. */
  const walked = new Set<string>();
  const join = (dir: string, name: string) => (dir === '.' ? name : dir === '/' ? '/' + name : `${dir}/${name}`);

  async function walk(dir: string, index: number): Promise<void> {
    const seg = segments[index]!;
    const last = index === segments.length - 1;
    if (seg === '**') {
      if (last) return;
      let real: string;
      try {
        real = `${await realpath(dir)}\0${index}`;
      } catch {
        return;
      }
      if (walked.has(real)) return;
      walked.add(real);
      await walk(dir, index + 1);
      for (const e of await listDir(dir)) {
        if (e.isDir && !e.name.startsWith('.')) await walk(join(dir, e.name), index);
      }
      return;
    }
    if (!hasGlob(seg)) {
      const p = join(dir, seg);
      if (last) {
        try {
          if ((await stat(p)).isFile()) results.push(p);
        } catch {
          // no match
        }
      } else await walk(p, index + 1);
      return;
    }

    for (const e of await listDir(dir)) {
      if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
      if (!matchSegment(seg, e.name)) continue;
      if (last && e.isFile) results.push(join(dir, e.name));
      else if (!last && e.isDir) await walk(join(dir, e.name), index + 1);
    }
  }

  await walk(base, i);
  return [...new Set(results)].sort();
}
