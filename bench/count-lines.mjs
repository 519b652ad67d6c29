/**
 * The baseline of `npm run bench`: a bare split2 line count of a file, the least any Node line
 * reader can do. Run as its own process (bench/run.mjs times it and takes its peak RSS like the
 * other contenders'); prints the count.
 *
 *   node bench/count-lines.mjs FILE
 */
import { createReadStream } from 'node:fs';
import split2 from 'split2';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/count-lines.mjs FILE');
  process.exit(2);
}
let n = 0;
for await (const _ of createReadStream(file).pipe(split2())) n++;
process.stdout.write(`${n}\n`);
