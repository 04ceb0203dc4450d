import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The JSON report feeds the "N passed, N failed" line that .ci/run ends with.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    // Retry tests wait real (short) backoffs; keep the default generous enough for a loaded CI box.
    testTimeout: 15_000,
  },
});
