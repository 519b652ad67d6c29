/**
 * Minimal glob expansion for quoted patterns (`'/var/log/mail.log*'`): `*`, `?`, `[...]` within a
 * path segment and `**` for any depth. Like a shell, wildcards do not match a leading dot.
 * (Node 20 has no fs.glob; the shell expands unquoted patterns itself.)
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const GLOB_CHARS = /[*?[]/;

export function hasGlob(s: string): boolean {
  return GLOB_CHARS.test(s);
}

/** Converts one path segment's pattern to an anchored RegExp (no nested quantifiers: linear). */
export function segmentToRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
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
  const join = (dir: string, name: string) => (dir === '.' ? name : dir === '/' ? '/' + name : `${dir}/${name}`);

  async function walk(dir: string, index: number): Promise<void> {
    const seg = segments[index]!;
    const last = index === segments.length - 1;
    if (seg === '**') {
      if (last) return;
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
    const re = segmentToRegExp(seg);
    for (const e of await listDir(dir)) {
      if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
      if (!re.test(e.name)) continue;
      if (last && e.isFile) results.push(join(dir, e.name));
      else if (!last && e.isDir) await walk(join(dir, e.name), index + 1);
    }
  }

  await walk(base, i);
  return [...new Set(results)].sort();
}
