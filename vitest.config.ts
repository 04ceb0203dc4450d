import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // Tests written as a user would ("import … from 'clawback/testing'") run against src/.
  resolve: {
    alias: [
      { find: /^clawback$/, replacement: src('index.ts') },
      { find: /^clawback\/testing$/, replacement: src('testing/index.ts') },
      { find: /^clawback\/testing\/msw$/, replacement: src('testing/msw.ts') },
      { find: /^clawback\/schemas$/, replacement: src('schemas.ts') },
      { find: /^clawback\/(stripe|webhooks|redis|postgres)$/, replacement: src('$1/index.ts') },
      { find: /^clawback\/compat\/(affonso|refcampaign)$/, replacement: src('compat/$1.ts') },
      { find: /^clawback\/(affixo|affonso|refcampaign|firstpromoter)$/, replacement: src('providers/$1/index.ts') },
    ],
  },
  test: {
    // The JSON report feeds the "N passed, N failed" line that .ci/run ends with.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    // Retry tests wait real (short) backoffs; keep the default generous enough for a loaded CI box.
    testTimeout: 15_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/fleet/**'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        // Real redis-server and PostgreSQL, started once for these files (test/fleet/servers.setup.ts).
        extends: true,
        test: {
          name: 'fleet',
          include: ['test/fleet/**/*.test.ts'],
          globalSetup: ['test/fleet/servers.setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
