/**
 * BSD timestamps read from the last minute's prefix without the pattern (issue 11) read as the
 * pattern does: the second, no fraction, and where the timestamp ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../../parsers/syslog/envelope.js';

describe('timestamps after one of the same minute', () => {
  it('read as the pattern reads them', () => {
    const tail = fc.constantFrom('07 x', '59 x', '5 x', '07.123 x', '07.5x', '077 x', '0a x', '07', '07\tx', 'xx x');
    const minute = fc.constantFrom('Mar 11 06:00:', 'Feb  7 14:22:', 'Nov 8 23:59:', 'Mär 14 09:12:', 'févr. 03 10:00:');
    fc.assert(
      fc.property(minute, fc.array(tail, { minLength: 1, maxLength: 4 }), (m, tails) => {
        for (const t of tails) {
          const line = m + t;
          const read = parseTimestamp(line);
          const bsd = /^(\p{L}{3,5})\.? {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? /u.exec(line);
          if (bsd === null) expect(read).toBeNull();
          else {
            expect(read?.length).toBe(bsd[0].length);
            expect(read?.time).toMatchObject({ kind: 'bsd', hour: Number(bsd[3]), minute: Number(bsd[4]), second: Number(bsd[5]), ms: bsd[6] === undefined ? 0 : Number((bsd[6] + '00').slice(0, 3)) });
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
