import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// End-to-end tests of the built CLI (dist/cli.cjs), run as a process against the emulator:
// `npm run test:cli`, after `npm run build`.
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/cli/**/*.e2e.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/cli.json' },
    testTimeout: 60_000,
    // Real redis-server and PostgreSQL for `--ledger` (the fleet tests' servers).
    globalSetup: ['test/fleet/servers.setup.ts'],
  },
});
