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
]);
