import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// .ci/run sets MTA550_TEST_JSON to read the counts from vitest's JSON reporter.
const jsonOut = process.env.MTA550_TEST_JSON;

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    // BSD syslog timestamps are read as local time: pin the zone so goldens are the same everywhere.
    env: { TZ: 'UTC' },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
