// Consumer smoke suite (#5): the packed tarball, installed the way users install it, performing a
// real refund against the local emulator from every kind of project we claim to support:
//   - ESM (.mjs) and CommonJS (.cjs) on each supported Node major (22, 24, 26; the npm `node`
//     package provides the binaries, installed into a throwaway prefix);
//   - TypeScript with moduleResolution node16 (ESM and CJS files) and bundler, compiled with
//     the repo's tsc against the installed package's declarations, then run;
//   - workerd (Cloudflare Workers, through Miniflare), Bun and Deno: the real runtimes, from
//     their npm packages (runtimes.mjs).
// Run by `npm test` after `npm run build`; `--nodes 24` limits the matrix. Writes
// test-results/consumers.json as { passed, failed }.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checklist } from '../support/checklist.mjs';
import { runtimeChecks } from './runtimes.mjs';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const argNodes = process.argv.indexOf('--nodes');
const nodeMajors = argNodes > 0 ? process.argv[argNodes + 1].split(',') : ['22', '24', '26'];
const { check, finish } = checklist('consumers');

const execFileAsync = promisify(execFile);
const npm = (args, cwd) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const work = mkdtempSync(join(tmpdir(), 'clawback-consumers-'));
const { startEmulator, EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID } = await import(join(repo, 'dist/testing.js'));
const emulator = await startEmulator();
let nextId = 0;

/** A fresh conversion per run, so "refunded exactly once" is checked for that run alone. */
function seedConversion(provider) {
  const id = `${provider === 'affonso' ? 'com' : 'order'}_${provider}_${(nextId += 1)}`;
  emulator.emulator.seed({
    [provider]: [
      {
        id,
        sale: { value: 10_000, currency: 'USD' },
        commission: 3_000,
        ...(provider === 'firstpromoter' ? { lead: { uid: `lead_${id}` } } : {}),
        ...(provider === 'refcampaign' ? { commissionStatus: 'approved' } : {}),
      },
    ],
  });
  return id;
}

/** What a consumer program needs, passed as one JSON argument (edge code has no `process.env`). */
function job(provider) {
  return {
    provider,
    conversionId: seedConversion(provider),
    apiKey: EMULATOR_API_KEYS[provider],
    accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
    baseURL: emulator.baseURLs[provider],
    // Affixo reverses whole conversions only; the others refund 25.00 of the 100.00 sale.
    amount: provider === 'affixo' ? undefined : { value: 2_500, currency: 'USD' },
  };
}

/** The refund a consumer made: done, for the amount asked, and exactly once in the emulator's ledger. */
function assertRefundedOnce(job, output) {
  const result = JSON.parse(output.trim().split('\n').at(-1));
  assert.equal(result.provider, job.provider);
  assert.equal(result.conversionId, job.conversionId);
  assert.deepEqual(result.amount, job.amount);
  const refunds = emulator.ledger.refunds({ provider: job.provider }).filter((entry) => entry.conversionId === job.conversionId);
  assert.equal(refunds.length, 1, `${job.provider} ${job.conversionId} refunded ${refunds.length} times`);
}

// ---- the consumer programs ------------------------------------------------------------------
// Each takes a job, picks its factory by name, refunds and prints the result as JSON.
const factories = { affixo: 'createAffixo', affonso: 'createAffonso', refcampaign: 'createRefCampaign', firstpromoter: 'createFirstPromoter' };
const body = (load) => `
const job = JSON.parse(ARGV);
${load}
const provider = factories[job.provider]({ apiKey: job.apiKey, baseURL: job.baseURL, ...(job.provider === 'firstpromoter' ? { accountId: job.accountId } : {}) });
if (job.amount && !moneySchema.safeParse(job.amount).success) throw new Error('clawback/schemas refused a valid amount');
const result = await refund({
  provider,
  conversionId: job.conversionId,
  ...(job.amount ? { amount: job.amount } : {}),
  ...(job.provider === 'firstpromoter' ? { customer: { uid: 'lead_' + job.conversionId } } : {}),
});
console.log(JSON.stringify(result));
`;

const esm = body(`
import { refund } from 'clawback';
import { moneySchema } from 'clawback/schemas';
import { createAffixo } from 'clawback/affixo';
import { createAffonso } from 'clawback/affonso';
import { createRefCampaign } from 'clawback/refcampaign';
import { createFirstPromoter } from 'clawback/firstpromoter';
const factories = { affixo: createAffixo, affonso: createAffonso, refcampaign: createRefCampaign, firstpromoter: createFirstPromoter };
`).replace('ARGV', 'process.argv[2]');

const cjs = `(async () => {${body(`
const { refund } = require('clawback');
const { moneySchema } = require('clawback/schemas');
const factories = {
  affixo: require('clawback/affixo').createAffixo,
  affonso: require('clawback/affonso').createAffonso,
  refcampaign: require('clawback/refcampaign').createRefCampaign,
  firstpromoter: require('clawback/firstpromoter').createFirstPromoter,
};
// The error classes of both builds share a brand, so isInstance works across them.
const { ClawbackError } = require('clawback');
if (typeof ClawbackError.isInstance !== 'function') throw new Error('no isInstance');
`).replace('ARGV', 'process.argv[2]')}})().catch((error) => { console.error(error); process.exitCode = 1; });`;

// TypeScript: typed imports, a compile-time refusal (proving the declarations were found, since
// with `any` types the @ts-expect-error would itself be an error), then the same refund.
const ts = (moduleSystem) => `
declare const process: { argv: string[] };
import { memoryLedger, refund, ValidationError, type RefundLedger, type RefundResult } from 'clawback';
import { createAffixo } from 'clawback/affixo';
import { createAffonso, type AffonsoConversion } from 'clawback/affonso';
import { createRefCampaign } from 'clawback/refcampaign';
import { createFirstPromoter } from 'clawback/firstpromoter';

interface Job { provider: 'affixo' | 'affonso' | 'refcampaign' | 'firstpromoter'; conversionId: string; apiKey: string; accountId: string; baseURL: string }

async function main(job: Job): Promise<RefundResult> {
  // @ts-expect-error amount is integer minor units in an object, not a number
  void (() => refund({ provider: createAffixo({ apiKey: 'k' }), conversionId: 'o', amount: 25 }));
  const typed: AffonsoConversion['sales_status'] = 'refunded';
  void typed;
  void ValidationError;
  const settings = { apiKey: job.apiKey, baseURL: job.baseURL };
  const amount = { value: 2500, currency: 'USD' };
  switch (job.provider) {
    case 'affixo': return refund({ provider: createAffixo(settings), conversionId: job.conversionId });
    case 'affonso': {
      // The ledger's type from the published declarations (ESM and CommonJS alike).
      const ledger: RefundLedger = memoryLedger();
      return refund({ provider: createAffonso({ ...settings, ledger }), conversionId: job.conversionId, amount });
    }
    case 'refcampaign': return refund({ provider: createRefCampaign(settings), conversionId: job.conversionId, amount });
    case 'firstpromoter':
      return refund({
        provider: createFirstPromoter({ ...settings, accountId: job.accountId }),
        conversionId: job.conversionId,
        amount,
        customer: { uid: 'lead_' + job.conversionId },
      });
  }
}
${moduleSystem === 'esm' ? 'console.log(JSON.stringify(await main(JSON.parse(process.argv[2] as string) as Job)));' : 'main(JSON.parse(process.argv[2] as string) as Job).then((result) => console.log(JSON.stringify(result)));'}
`;

// ---- pack and install -----------------------------------------------------------------------
console.log(`consumers (in ${work})`);
const [{ filename }] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], repo));
const tarball = join(work, filename);
const app = join(work, 'app');
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, version: '1.0.0' }));
npm(['install', '--no-package-lock', '--prefer-offline', tarball], app);
writeFileSync(join(app, 'esm.mjs'), esm);
writeFileSync(join(app, 'cjs.cjs'), cjs);
// The drop-ins, as code written for the vendors' SDKs uses them: Affonso's conversion refunded
// with a body in its own fields, RefCampaign's by order id.
const compatBody = (load) => `
const job = JSON.parse(process.argv[2]);
${load}
const conversion = await new Affonso(job.affonso.apiKey, { baseUrl: job.affonso.baseURL + '/v1' })
  .conversions.refund(job.affonso.conversionId, { amount: 25, currency: 'USD', external_event_id: 'consumer-' + job.affonso.conversionId });
const result = await new RefCampaignServer(job.refcampaign.apiKey, { apiUrl: job.refcampaign.baseURL }).refundConversion({ orderId: job.refcampaign.conversionId });
console.log(JSON.stringify({ affonso: conversion.sales_status, refcampaign: result.success }));
`;
writeFileSync(join(app, 'compat.mjs'), compatBody(`import Affonso from 'clawback/compat/affonso';\nimport { RefCampaignServer } from 'clawback/compat/refcampaign';`));
writeFileSync(
  join(app, 'compat.cjs'),
  `(async () => {${compatBody(`const { Affonso } = require('clawback/compat/affonso');\nconst { RefCampaignServer } = require('clawback/compat/refcampaign');`)}})().catch((error) => { console.error(error); process.exitCode = 1; });`,
);

await check('the tarball holds dist, README, CHANGELOG and package.json, nothing else', async () => {
  const listed = JSON.parse(npm(['pack', '--dry-run', '--json'], repo))[0].files.map((file) => file.path);
  const unexpected = listed.filter((path) => !/^(dist\/|README\.md$|CHANGELOG\.md$|package\.json$|LICENSE$)/.test(path));
  assert.deepEqual(unexpected, []);
  assert.ok(!listed.some((path) => path.endsWith('.map') && !path.startsWith('dist/')));
});

await check('the installed package depends on ky 2, zod 4 and @noble/hashes 2, and nothing else (the CLI bundles its own)', async () => {
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/clawback/package.json'), 'utf8'));
  assert.deepEqual(Object.keys(installed.dependencies).sort(), ['@noble/hashes', 'ky', 'zod']);
  assert.match(installed.dependencies.ky, /^\^2\./);
  assert.match(installed.dependencies.zod, /^\^4\./);
  assert.match(installed.dependencies['@noble/hashes'], /^\^2\./);
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.')).sort(), ['@noble', 'clawback', 'ky', 'zod']);
});

// ---- TypeScript projects --------------------------------------------------------------------
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
const tsProjects = {
  'node16 (ESM, .mts)': { dir: 'ts-node16-esm', file: 'index.mts', out: 'index.mjs', options: { module: 'node16', moduleResolution: 'node16' }, system: 'esm' },
  'node16 (CommonJS, .cts)': { dir: 'ts-node16-cjs', file: 'index.cts', out: 'index.cjs', options: { module: 'node16', moduleResolution: 'node16' }, system: 'cjs' },
  bundler: { dir: 'ts-bundler', file: 'index.ts', out: 'index.js', options: { module: 'esnext', moduleResolution: 'bundler' }, system: 'esm' },
};
for (const [name, project] of Object.entries(tsProjects)) {
  const dir = join(app, project.dir);
  mkdirSync(dir);
  writeFileSync(join(dir, project.file), ts(project.system));
  // The bundler project's output is ESM in .js: it needs its own package.json saying so.
  if (project.dir === 'ts-bundler') writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'es2022', strict: true, skipLibCheck: false, types: [], outDir: 'out', ...project.options },
      files: [project.file],
    }),
  );
  if (project.dir === 'ts-bundler') {
    mkdirSync(join(dir, 'out'), { recursive: true });
    writeFileSync(join(dir, 'out/package.json'), JSON.stringify({ type: 'module' }));
  }
  await check(`TypeScript ${name}: compiles against the published declarations`, async () => {
    const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });
  project.program = join(dir, 'out', project.out);
}

await check('clawback/redis and clawback/postgres load from ESM and require() without ioredis or pg installed (optional peers)', async () => {
  const esm = spawnSync(process.execPath, ['--input-type=module', '-e', "const r = await import('clawback/redis'); const p = await import('clawback/postgres'); console.log(typeof r.redisLedger, typeof r.redisRateLimitStore, typeof p.postgresLedger, p.POSTGRES_LEDGER_SQL.length > 0)"], { cwd: app, encoding: 'utf8' });
  assert.equal(esm.stdout.trim(), 'function function function true', esm.stderr);
  const cjs = spawnSync(process.execPath, ['-e', "const r = require('clawback/redis'); const p = require('clawback/postgres'); console.log(typeof r.redisLedger, typeof p.postgresLedger)"], { cwd: app, encoding: 'utf8' });
  assert.equal(cjs.stdout.trim(), 'function function', cjs.stderr);
  assert.ok(!readdirSync(join(app, 'node_modules')).some((name) => name === 'ioredis' || name === 'pg'));
});

// ---- the Node matrix ------------------------------------------------------------------------
/** A Node binary of this major: this one if it matches, else the npm `node` package in a throwaway prefix. */
function nodeBinary(major) {
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  const prefix = join(work, `node-${major}`);
  mkdirSync(prefix);
  writeFileSync(join(prefix, 'package.json'), JSON.stringify({ private: true }));
  npm(['install', '--no-package-lock', `node@${major}`], prefix);
  return join(prefix, 'node_modules/node/bin/node');
}

// Asynchronous: the emulator answering the consumer runs in this very process.
const run = async (binary, program, jobData) => {
  const { stdout } = await execFileAsync(binary, [program, JSON.stringify(jobData)], { cwd: app, timeout: 60_000 });
  return stdout;
};

for (const major of nodeMajors) {
  let binary;
  await check(`Node ${major}: installs from the npm node package`, async () => {
    binary = nodeBinary(major);
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    assert.match(version, new RegExp(`^v${major}\\.`));
    console.log(`    (${version})`);
  });
  if (!binary) continue;
  const programs = {
    'ESM .mjs': join(app, 'esm.mjs'),
    'CommonJS .cjs': join(app, 'cjs.cjs'),
    ...Object.fromEntries(Object.entries(tsProjects).map(([name, project]) => [`TypeScript ${name}`, project.program])),
  };
  for (const [name, program] of Object.entries(programs)) {
    for (const provider of name.startsWith('TypeScript') ? ['affonso'] : Object.keys(factories)) {
      await check(`Node ${major}, ${name}: refund() → ${provider}, applied once`, async () => {
        const work = job(provider);
        assertRefundedOnce(work, await run(binary, program, work));
      });
    }
  }
  for (const [name, program] of [['ESM', 'compat.mjs'], ['CommonJS', 'compat.cjs']]) {
    await check(`Node ${major}, ${name}: clawback/compat/affonso and clawback/compat/refcampaign refund, each applied once`, async () => {
      const work = { affonso: job('affonso'), refcampaign: job('refcampaign') };
      const output = JSON.parse((await run(binary, join(app, program), work)).trim().split('\n').at(-1));
      assert.deepEqual(output, { affonso: 'partial_refunded', refcampaign: true });
      for (const provider of ['affonso', 'refcampaign']) {
        const refunds = emulator.ledger.refunds({ provider }).filter((entry) => entry.conversionId === work[provider].conversionId);
        assert.equal(refunds.length, 1, `${provider} refunded ${refunds.length} times`);
      }
    });
  }
  await check(`Node ${major}: the installed \`clawback\` command refunds a file against the emulator`, async () => {
    const work = job('affonso');
    const file = join(app, `refunds-${major}.csv`);
    writeFileSync(file, `conversion_id,amount,currency,refund_id\n${work.conversionId},2500,USD,re_${major}\n`);
    const { stdout } = await execFileAsync(
      binary,
      [join(app, 'node_modules/.bin/clawback'), 'refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--base-url', work.baseURL],
      { cwd: app, timeout: 60_000, env: { ...process.env, AFFONSO_API_KEY: work.apiKey } },
    );
    assert.match(stdout, /refunded: +1\n/);
    const refunds = emulator.ledger.refunds({ provider: 'affonso' }).filter((entry) => entry.conversionId === work.conversionId);
    assert.equal(refunds.length, 1);
  });
  await check(`Node ${major}: require('clawback/testing') loads the ESM-only entry (require(esm)), and its emulator runs without msw installed`, async () => {
    // msw is an optional peer this app did not install: only clawback/testing/msw needs it.
    const script = "const t = require('clawback/testing'); t.startEmulator().then(async (e) => { console.log(typeof e.baseURLs.affonso); await e.close(); })";
    const outcome = spawnSync(binary, ['-e', script], { cwd: app, encoding: 'utf8' });
    assert.equal(outcome.stdout.trim(), 'string', outcome.stderr);
    assert.ok(!readdirSync(join(app, 'node_modules')).includes('msw'));
  });
}

// ---- workerd, Bun and Deno ---------------------------------------------------------------------
await runtimeChecks({ check, app, repo, emulator, seedJob: job, assertRefundedOnce, startEmulator, EMULATOR_API_KEYS });

await emulator.close();
rmSync(work, { recursive: true, force: true });
finish(repo);
