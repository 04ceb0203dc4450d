// `npm run test:package`: the published package's shape and size, after `npm run build`.
//   - publint --strict: package.json fields, exports, files;
//   - attw --pack (profile node16: node10 resolution, which cannot see subpaths, is not a target):
//     every entry, types first; `clawback/testing` and `clawback/testing/msw` are ESM only, so
//     from CommonJS they are reached by Node ≥ 22's require(esm), which attw reports as "ESM
//     (dynamic import only)": that single rule is waived for those two entries;
//   - size-limit (.size-limit.json): each budget, minified and brotli'd with its dependencies.
// Prints the sizes and writes test-results/package.json as { passed, failed }.
import { spawnSync } from 'node:child_process';
import { checklist } from '../test/support/checklist.mjs';

const bin = (name) => `node_modules/.bin/${name}`;
const { record, finish } = checklist('package');

function check(name, command, args) {
  const run = spawnSync(process.execPath, [bin(command), ...args], { encoding: 'utf8' });
  record(name, run.status === 0, `${run.stdout}${run.stderr}`);
}

console.log('package');
check('publint --strict', 'publint', ['--strict']);
const esmOnly = ['./testing', './testing/msw'];
check('attw --pack: every entry but clawback/testing and clawback/testing/msw', 'attw', [
  '--pack',
  '.',
  '--profile',
  'node16',
  '--exclude-entrypoints',
  ...esmOnly,
]);
check('attw --pack: clawback/testing and clawback/testing/msw (ESM only; require(esm) from CommonJS)', 'attw', [
  '--pack',
  '.',
  '--profile',
  'node16',
  '--entrypoints',
  ...esmOnly,
  '--ignore-rules',
  'cjs-resolves-to-esm',
]);

const sizes = spawnSync(process.execPath, [bin('size-limit'), '--json'], { encoding: 'utf8' });
let budgets = [];
try {
  budgets = JSON.parse(sizes.stdout);
} catch {
  record('size-limit runs', false, `${sizes.stdout}${sizes.stderr}`);
}
const kB = (bytes) => `${(bytes / 1000).toFixed(2)} kB`;
for (const budget of budgets) {
  record(`size: ${budget.name}: ${kB(budget.size)} (budget ${kB(budget.sizeLimit)})`, budget.passed);
}
finish();
