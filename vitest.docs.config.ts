import { defineConfig } from 'vitest/config';

// The docs' code blocks, against the build (test/docs/docs.e2e.ts): `npm run test:docs`, after
// `npm run build`.
export default defineConfig({
  test: {
    include: ['test/docs/**/*.e2e.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/docs.json' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
