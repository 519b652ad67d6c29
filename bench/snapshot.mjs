/**
 * A private copy of the built CLI for one benchmark run: dist/ and package.json copied into
 * bench/out/<name>/, so that a rebuild of dist/ while a long benchmark runs (`npm test` builds
 * first) does not change the program under measurement halfway. Node finds the dependencies from
 * there in the project's node_modules, and the CLI its package root in the copied package.json.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Copies dist/ into bench/out/<name>/; returns the copy's CLI and the commit it was built from. */
export function snapshot(root, name) {
  if (!existsSync(path.join(root, 'dist/src/cli.js'))) throw new Error('dist/src/cli.js is missing: npm run build first');
  const dir = path.join(root, 'bench', 'out', name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const rev = git('rev-parse', '--short', 'HEAD') || '?';
  const dirty = git('status', '--porcelain', '--', 'src', 'parsers') !== '';
  return { cli: path.join(dir, 'dist/src/cli.js'), commit: `${rev}${dirty ? ' + uncommitted changes in src/ or parsers/' : ''}` };
}
