import { defineConfig } from 'tsup';

const entry = {
  index: 'src/index.ts',
  affixo: 'src/providers/affixo/index.ts',
  affonso: 'src/providers/affonso/index.ts',
  refcampaign: 'src/providers/refcampaign/index.ts',
  firstpromoter: 'src/providers/firstpromoter/index.ts',
  schemas: 'src/schemas.ts',
  'compat/affonso': 'src/compat/affonso.ts',
  'compat/refcampaign': 'src/compat/refcampaign.ts',
  stripe: 'src/stripe/index.ts',
  webhooks: 'src/webhooks/index.ts',
  redis: 'src/redis/index.ts',
  postgres: 'src/postgres/index.ts',
};

export default defineConfig([
  {
    // clawback/testing (and its msw handlers) is ESM only, as msw 3 is.
    entry: { ...entry, testing: 'src/testing/index.ts', 'testing/msw': 'src/testing/msw.ts' },
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
    // ky 2 ships ESM only. `require('ky')` works through require(esm), but on Node 22.12 (the
    // engines floor) every load then prints an ExperimentalWarning: the CJS build carries its
    // own copy of ky instead (and of @noble/hashes, ESM only too). The ESM build imports the packages.
    noExternal: ['ky', '@noble/hashes'],
  },
  {
    // `npx clawback`: CommonJS, so the CommonJS libraries it bundles (cli-progress) can require
    // Node's built-ins. Its own dependencies are bundled in, and ky (ESM only, see above); zod
    // stays the package's dependency.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['cjs'],
    target: 'node22',
    platform: 'node',
    dts: false,
    sourcemap: false, // 650 kB of map, mostly of the bundled libraries
    splitting: false,
    noExternal: ['commander', 'csv-parse', 'cli-progress', 'ky'],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
