// `npm run example -- <affixo|affonso|refcampaign|firstpromoter|all>`: runs examples/<name>.ts
// against the local emulator (see scripts/run-ts.mjs).
import { readdirSync } from 'node:fs';
import { runTypeScript } from './run-ts.mjs';

const available = readdirSync(new URL('../examples/', import.meta.url))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -3));
const wanted = process.argv[2] ?? 'all';
const names = wanted === 'all' ? available : [wanted];
const unknown = names.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown example "${unknown.join('", "')}". Choose one of: ${available.join(', ')}, all.`);
  process.exit(2);
}
for (const name of names) {
  console.log(`\n# examples/${name}.ts`);
  const status = await runTypeScript(`examples/${name}.ts`);
  if (status !== 0) process.exit(status);
}
