import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The end-to-end suite (npm run test:e2e): run by test/e2e/run.sh inside its own namespaces.
const jsonOut = process.env.MTA550_TEST_JSON;

/** The MTA worlds in a fixed order: Postfix, then Exim (each stops its MTA before the next starts). */
const ORDER = ['postfix.e2e.ts', 'exim.e2e.ts', 'onset.e2e.ts', 'clickhouse.e2e.ts'];
class MtaOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = ORDER.findIndex((name) => f.moduleId.endsWith(`/${name}`));
      return i < 0 ? ORDER.length : i;
    };
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/e2e/**/*.e2e.ts'],
    // One MTA world at a time: the suites share port 25 on loopback addresses.
    fileParallelism: false,
    sequence: { sequencer: MtaOrder },
    testTimeout: 60_000,
    hookTimeout: 300_000,
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
