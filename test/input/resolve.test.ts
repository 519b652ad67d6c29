import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readError } from '../../src/errors.js';
import { expandGlob, matchSegment } from '../../src/input/glob.js';
import { resolveInputs, rotationKey, sortRotated } from '../../src/input/resolve.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mta550-resolve-'));
  await mkdir(path.join(dir, 'logs', 'sub'), { recursive: true });
  for (const f of ['mail.log', 'mail.log.1', 'mail.log.2.gz', 'mail.log.10.gz', 'mail.err', '.hidden.log', 'sub/deep.log']) {
    await writeFile(path.join(dir, 'logs', f), '');
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rotated sets', () => {
  it('orders numbered rotations oldest first, the live file last', () => {
    expect(sortRotated(['mail.log', 'mail.log.1', 'mail.log.2.gz', 'mail.log.10.gz'])).toEqual([
      'mail.log.10.gz',
      'mail.log.2.gz',
      'mail.log.1',
      'mail.log',
    ]);
  });

  it('orders dated rotations by date, the live file last', () => {
    expect(sortRotated(['maillog', 'maillog-20240308', 'maillog-20240301.gz'])).toEqual([
      'maillog-20240301.gz',
      'maillog-20240308',
      'maillog',
    ]);
  });

  it('keeps different logs apart', () => {
    expect(rotationKey('/var/log/mail.err.1').base).toBe('/var/log/mail.err');
    expect(rotationKey('/var/log/mail.log.1').base).toBe('/var/log/mail.log');
  });
});

describe('globs', () => {
  it.each([
    ['*', 'mail.log', true],
    ['*.log', 'mail.err', false],
    ['mail.log.?', 'mail.log.1', true],
    ['mail.log.[0-9]*', 'mail.log.10.gz', true],
    ['mail.log.[!0-9]', 'mail.log.x', true],
    ['a+b(c)', 'a+b(c)', true],
  ])('%s matches %s: %s', (pattern, name, ok) => {
    expect(matchSegment(pattern, name)).toBe(ok);
  });

  it('expands a pattern, skipping dot files', async () => {
    const files = await expandGlob(path.join(dir, 'logs', '*.log'));
    expect(files.map((f) => path.basename(f))).toEqual(['mail.log']);
  });

  it('expands ** to any depth', async () => {
    const files = await expandGlob(path.join(dir, '**', '*.log'));
    expect(files.map((f) => path.relative(dir, f))).toEqual(['logs/mail.log', 'logs/sub/deep.log']);
  });
});

describe('resolveInputs', () => {
  it('reads a directory (not recursively, no dot files) in rotation order', async () => {
    const sources = await resolveInputs([path.join(dir, 'logs')]);
    expect(sources.map((s) => path.basename(s.path))).toEqual(['mail.err', 'mail.log.10.gz', 'mail.log.2.gz', 'mail.log.1', 'mail.log']);
  });

  it('reorders a shell-expanded rotated set and removes duplicates', async () => {
    const l = (f: string) => path.join(dir, 'logs', f);
    const sources = await resolveInputs([l('mail.log'), l('mail.log.1'), l('mail.log.2.gz'), l('mail.log')]);
    expect(sources.map((s) => path.basename(s.path))).toEqual(['mail.log.2.gz', 'mail.log.1', 'mail.log']);
  });

  it('puts - (standard input) last', async () => {
    const sources = await resolveInputs(['-', path.join(dir, 'logs', 'mail.log')]);
    expect(sources.map((s) => s.kind)).toEqual(['file', 'stdin']);
  });

  it('fails with one message for a missing file', async () => {
    await expect(resolveInputs([path.join(dir, 'nope.log')])).rejects.toMatchObject({
      code: 'input_not_found',
      message: `cannot read ${path.join(dir, 'nope.log')}: no such file or directory`,
    });
  });

  it('fails for a glob without a match', async () => {
    await expect(resolveInputs([path.join(dir, '*.nothing')])).rejects.toMatchObject({ code: 'input_no_match' });
  });

  it('explains permission denied with a hint', () => {
    const e = readError('/var/log/mail.log', Object.assign(new Error('x'), { code: 'EACCES' }));
    expect(e.message).toBe('cannot read /var/log/mail.log: permission denied (run as root or as a member of the group that owns it, often adm)');
    expect(e.exitCode).toBe(1);
  });
});
