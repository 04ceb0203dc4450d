// `npm run example -- <affixo|affonso|refcampaign|firstpromoter|all>`: runs examples/<name>.ts
// with Node's own TypeScript support, against the package as built (building it if needed).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

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

const run = (args) => spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1;
if (!existsSync(new URL('../dist/index.js', import.meta.url)) && run(['node_modules/.bin/tsup', '--silent']) !== 0) {
  process.exit(1);
}
for (const name of names) {
  console.log(`\n# examples/${name}.ts`);
  const status = run([`examples/${name}.ts`]);
  if (status !== 0) process.exit(status);
}
