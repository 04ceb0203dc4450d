import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    // Retry tests wait real (short) backoffs; keep the default generous enough for a loaded CI box.
    testTimeout: 15_000,
  },
});
