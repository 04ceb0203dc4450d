// Runs one of this repository's TypeScript programs (the demo, an example) straight from src/:
// esbuild bundles it, resolving `clawback` and `clawback/testing` through tsconfig.json paths,
// and Node runs the bundle. No build of dist/ needed, so `npm run demo` starts in well under a second.
// Usage: node scripts/run-ts.mjs <file.ts> [args…]
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function runTypeScript(file, args = []) {
  const outfile = fileURLToPath(new URL(`../node_modules/.cache/clawback-run/${basename(file, '.ts')}.mjs`, import.meta.url));
  await build({
    entryPoints: [file],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)),
    // The runtime and test dependencies load from node_modules, as they would for a user.
    // Packages with CommonJS dynamic requires (ioredis, pg, esbuild) load as they are, from node_modules.
    external: ['ky', 'msw', 'msw/*', 'ioredis', 'pg', 'bullmq', 'esbuild'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' }).status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, ...args] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node scripts/run-ts.mjs <file.ts> [args…]');
    process.exit(2);
  }
  process.exitCode = await runTypeScript(file, args);
}
