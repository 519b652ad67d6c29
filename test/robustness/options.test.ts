/**
 * Bad options and help (#12 point 5): every option of every command is in its --help with its
 * default (or says why it has none) and in the README's tables; a bad value names the option and
 * what it accepts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = path.resolve('dist/src/cli.js');
const README = readFileSync('README.md', 'utf8');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: '' });

/** `--name` options listed in --help, without help and version. */
function helpOptions(command: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = run([command, '--help']).stdout.split('\n');
  lines.forEach((line, i) => {
    // `-o, --output`, and an alias after the name (`--top, --max-rows`).
    const m = /^\s+(?:-\w, )?--([\w-]+)(?:, --[\w-]+)?\s/.exec(line);
    if (m === null || m[1] === 'help' || m[1] === 'version') return;
    // An option's text runs until the next option line.
    let text = line;
    for (let k = i + 1; k < lines.length && !/^\s+(?:-\w, )?--[\w-]+(?:, --[\w-]+)?\s/.test(lines[k]!) && lines[k]!.trim() !== ''; k++) text += lines[k];
    out.set(m[1]!, text);
  });
  return out;
}

/** Options in the README table that follows the line naming the command. */
function readmeOptions(heading: RegExp): string[] {
  const at = README.search(heading);
  const table = README.slice(at).split('\n\n').find((b) => b.startsWith('| option |'))!;
  return [...table.matchAll(/^\| `--([\w-]+)`/gm)].map((m) => m[1]!).filter((o) => o !== 'help');
}

describe.each([
  ['analyze', /^`mta550 analyze \[inputs\.\.\]`$/m],
  ['tail', /^`tail` takes the options of `analyze`/m],
  ['explain', /^`mta550 explain \[reply\]`$/m],
  ['trace', /^`mta550 trace <query> \[inputs\.\.\]`$/m],
])('mta550 %s', (command, heading) => {
  const help = helpOptions(command);

  it('lists every option in --help, each with its default or none by design', () => {
    expect(help.size).toBeGreaterThan(3);
    for (const [name, text] of help) {
      const hasDefault = /\[default: /.test(text);
      const optional = /\[(?:string|number)\]|\[choices: /.test(text);
      expect(hasDefault || optional, `--${name}: ${text}`).toBe(true);
    }
  });

  it('documents every option of --help in the README, and nothing more', () => {
    const documented = new Set(readmeOptions(heading));
    // The analyze options the README names as tail's too ("`tail` takes the options of `analyze` ... (`--codes`, ...)").
    const sentence = /^`tail` takes the options of `analyze`[^(]*\(([^)]*)\)/m.exec(README)![1]!;
    const shared = [...sentence.matchAll(/`--([\w-]+)`/g)].map((m) => m[1]!);
    for (const name of help.keys()) {
      const inTable = documented.has(name) || (command === 'tail' && shared.includes(name));
      expect(inTable, `--${name} of ${command} is not in the README`).toBe(true);
    }
    for (const name of documented) expect(help.has(name), `README --${name} is not an option of ${command}`).toBe(true);
  });
});

describe('bad values name the option and what it accepts', () => {
  it.each([
    [['analyze', '--output', 'xml'], /Argument: output, Given: "xml", Choices: "text", "json", "html", "ndjson"/],
    [['analyze', '--codes', 'abc'], /--codes/],
    [['analyze', '--year', '12'], /--year: "12" is not a year/],
    [['analyze', '--idle-timeout', 'soon'], /--idle-timeout: "soon" is not a duration \(examples: /],
    [['tail', 'x.log', '--max-wait', 'later'], /--max-wait: "later" is not a duration/],
    [['tail', 'x.log', '--output', 'json'], /Argument: output, Given: "json", Choices: "ndjson", "records", "text"/],
    [['explain', 'x', '--stage', 'quit'], /Argument: stage, Given: "quit", Choices: /],
    [['analyze', '--bogus'], /Unknown argument: bogus/],
  ])('%j', (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^mta550: /);
  });
});
