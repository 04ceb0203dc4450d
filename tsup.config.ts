import { defineConfig } from 'tsup';

const entry = {
  index: 'src/index.ts',
  affixo: 'src/providers/affixo/index.ts',
  affonso: 'src/providers/affonso/index.ts',
  refcampaign: 'src/providers/refcampaign/index.ts',
  firstpromoter: 'src/providers/firstpromoter/index.ts',
};

export default defineConfig([
  {
    // clawback/testing is ESM only: msw 3, which it builds on, ships ESM only.
    entry: { ...entry, testing: 'src/testing/index.ts' },
    format: ['esm'],
    target: 'es2022',
    platform: 'neutral',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
  },
  {
    entry,
    format: ['cjs'],
    target: 'es2022',
    platform: 'neutral',
    dts: true,
    sourcemap: true,
    splitting: false,
    treeshake: true,
  },
  {
    // `npx clawback`: CommonJS, so the CommonJS libraries it bundles (cli-progress) can require
    // Node's built-ins. Its own dependencies are bundled in; zod stays the package's dependency.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['cjs'],
    target: 'node22',
    platform: 'node',
    dts: false,
    sourcemap: false, // 650 kB of map, mostly of the bundled libraries
    splitting: false,
    noExternal: ['commander', 'csv-parse', 'cli-progress'],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
