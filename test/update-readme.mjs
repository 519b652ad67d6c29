// npm run readme:update: rewrites every ```text block that follows a ```sh block in README.md with
// the real output of that block's last command (mta550 = the built CLI, TZ=UTC). Review the diff.
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const lines = readFileSync('README.md', 'utf8').split('\n');
const out = [];
for (let i = 0; i < lines.length; i++) {
  out.push(lines[i]);
  if (lines[i] !== '```sh') continue;
  const block = [];
  for (i++; lines[i] !== '```'; i++) {
    block.push(lines[i]);
    out.push(lines[i]);
  }
  out.push(lines[i]);
  if (lines[i + 1] === '' && lines[i + 2] === '```text') {
    const command = block.filter((l) => l.trim() !== '').at(-1).replace(/(^|\|\s*)mta550 /g, '$1node dist/src/cli.js ');
    const result = execSync(command, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, shell: '/bin/bash' });
    out.push('', '```text', ...result.replace(/\n$/, '').split('\n'), '```');
    i += 3;
    while (lines[i] !== '```') i++;
  }
}
writeFileSync('README.md', out.join('\n'));
