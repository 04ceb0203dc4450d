// `npm run bench`: what clawback costs a merchant, each number a ratio to a raw `fetch` of the
// same request measured in the same run. Run with `node --expose-gc` (the npm script does).
// `-- --quick` runs fewer rounds and does not write RESULTS.md.
//
// 1. A vendor 20 ms away (a loopback server, in its own process, that delays each answer):
//    sequential p50/p99, and throughput at concurrency 64 (median of per-round ratios).
// 2. The SDK's own CPU per call with no network (an in-process fetch stub returning a fresh
//    Response), a ladder of what it is made of, and a profile by who spends it.
// 3. Cold start (import + first call, fresh processes), bundle size (size-limit, brotli, with
//    every dependency), heap over 100,000 calls.
// Every table has an A/A control: raw fetch measured twice, as if they were two variants.
import { fork, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import ky from 'ky';
import sizeLimit from 'size-limit';
import smallLib from '@size-limit/preset-small-lib';
import { createAffixo, createAffonso, createFirstPromoter, createRefCampaign, refund } from 'clawback';

const quick = process.argv.includes('--quick');
const LATENCY_CALLS = quick ? 40 : 150;
const ROUNDS = quick ? 4 : 10;
const CONCURRENT_CALLS = quick ? 320 : 640;
const CONCURRENCY = 64;
const CPU_CALLS = quick ? 8_000 : 40_000;
const HEAP_CALLS = 100_000;
const COLD_STARTS = quick ? 5 : 15;
const VENDOR_DELAY_MS = 20;

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc (npm run bench does).');
  process.exit(2);
}
const root = fileURLToPath(new URL('../', import.meta.url));

// ---- the vendor, 20 ms away, in its own process ---------------------------------------------
const server = fork(new URL('./server.mjs', import.meta.url), ['--delay', String(VENDOR_DELAY_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const { port } = await new Promise((resolve) => server.once('message', resolve));
const origin = `http://127.0.0.1:${port}`;

// ---- the same refund, five ways, per vendor ------------------------------------------------
const KEY = 'bench_key_0001';
const EVENT = 'bench-refund-0001'; // a fixed key, so every variant sends the very same bytes
const usd = { value: 4_950, currency: 'USD' };
const baseHeaders = { accept: 'application/json', authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const vendors = {
  affixo: {
    path: 'v1/track/refund',
    body: { external_id: 'order_1' },
    create: (settings) => createAffixo(settings),
    native: (provider) => provider.track.refund({ external_id: 'order_1' }),
    facade: (provider) => refund({ provider, conversionId: 'order_1', idempotencyKey: EVENT }),
  },
  affonso: {
    path: 'v1/conversions/com_abc123/refund',
    body: { amount: 49.5, currency: 'USD', external_event_id: EVENT },
    create: (settings) => createAffonso(settings),
    native: (provider) => provider.conversions.refund('com_abc123', { amount: 49.5, currency: 'USD', external_event_id: EVENT }),
    facade: (provider) => refund({ provider, conversionId: 'com_abc123', amount: usd, idempotencyKey: EVENT }),
  },
  refcampaign: {
    path: 'api/v1/conversions/refund',
    body: { externalId: 'order_1' },
    create: (settings) => createRefCampaign(settings),
    native: (provider) => provider.conversions.refund({ externalId: 'order_1' }),
    facade: (provider) => refund({ provider, conversionId: 'order_1', idempotencyKey: EVENT }),
  },
  firstpromoter: {
    path: 'api/v2/track/refund',
    headers: { 'account-id': 'acc_1' },
    body: { event_id: EVENT, amount: '4950', currency: 'USD', sale_event_id: 'sale_1', uid: 'lead_1' },
    settings: { accountId: 'acc_1' },
    create: (settings) => createFirstPromoter(settings),
    native: (provider) => provider.track.refund({ event_id: EVENT, amount: '4950', currency: 'USD', sale_event_id: 'sale_1', uid: 'lead_1' }),
    facade: (provider) => refund({ provider, conversionId: 'sale_1', amount: usd, customer: { uid: 'lead_1' }, idempotencyKey: EVENT }),
  },
};

/** ky configured as clawback configures it (retries allowed on POST, a per-attempt timeout), alone. */
const kyLikeClawback = (base, fetchFunction) =>
  ky.create({ prefix: base, fetch: fetchFunction, redirect: 'manual', timeout: 30_000, retry: { limit: 2, methods: ['post'], statusCodes: [], afterStatusCodes: [], shouldRetry: () => false } });

/** The variants for one vendor, all calling `fetchFunction` at the same base URL. */
function variants(name, fetchFunction) {
  const vendor = vendors[name];
  const base = `${origin}/${name}`;
  const url = `${base}/${vendor.path}`;
  const headers = { ...baseHeaders, ...vendor.headers };
  const client = kyLikeClawback(base, fetchFunction);
  // The limiter is off: it paces calls to the vendor's documented rate, which any benchmark
  // exceeds. Its cost, unsaturated, is measured in the CPU ladder.
  const provider = vendor.create({ apiKey: KEY, baseURL: base, fetch: fetchFunction, rateLimit: false, ...vendor.settings });
  const raw = async () => {
    const response = await fetchFunction(url, { method: 'POST', headers, body: JSON.stringify(vendor.body) });
    return JSON.parse(await response.text());
  };
  return {
    'raw fetch': raw,
    // The same code again, measured as if it were another variant: how far two identical
    // variants drift apart on this machine, the noise under every ratio.
    'raw fetch (A/A)': async () => raw(),
    'ky alone': () => client.post(vendor.path, { body: JSON.stringify(vendor.body), headers }).json(),
    'native call': () => vendor.native(provider),
    'refund()': () => vendor.facade(provider),
  };
}
const VARIANTS = ['raw fetch', 'raw fetch (A/A)', 'ky alone', 'native call', 'refund()'];

// Check first that every variant sends the same request: the server echoes a digest.
for (const name of Object.keys(vendors)) {
  const digests = new Set();
  const recording = async (input, init) => {
    const response = await fetch(input, init);
    digests.add(response.headers.get('x-request-digest'));
    return response;
  };
  for (const call of Object.values(variants(name, recording))) await call();
  if (digests.size !== 1) throw new Error(`${name}: the variants do not send the same request (${digests.size} digests)`);
}

const shuffle = (items) => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
};
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (values) => percentile([...values].sort((a, b) => a - b), 50);
const log = (line) => process.stderr.write(`${line}\n`);

// ---- 1. a vendor 20 ms away ------------------------------------------------------------------
const network = {};
for (const name of Object.keys(vendors)) {
  log(`network: ${name}`);
  const calls = variants(name, fetch);
  for (const call of Object.values(calls)) for (let i = 0; i < 20; i++) await call(); // warm connections and JIT
  const latencies = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  const throughputs = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  const ratios = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  // Sequential latency, interleaved call by call in a random order, so the machine's drift
  // touches every variant alike.
  for (let i = 0; i < LATENCY_CALLS; i++) {
    for (const variant of shuffle(VARIANTS)) {
      const started = performance.now();
      await calls[variant]();
      latencies[variant].push(performance.now() - started);
    }
  }
  // Throughput at concurrency 64, one variant at a time (interleaved under one shared load, a
  // variant's extra CPU would slow every call alike and the differences would vanish), in short
  // rounds; each variant's req/s divided by raw fetch's in the same round.
  for (let round = 0; round < ROUNDS; round++) {
    const perRound = {};
    for (const variant of shuffle(VARIANTS)) {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < CONCURRENT_CALLS) {
            next += 1;
            await calls[variant]();
          }
        }),
      );
      perRound[variant] = CONCURRENT_CALLS / ((performance.now() - started) / 1000);
    }
    for (const variant of VARIANTS) {
      throughputs[variant].push(perRound[variant]);
      ratios[variant].push(perRound[variant] / perRound['raw fetch']);
    }
  }
  network[name] = Object.fromEntries(
    VARIANTS.map((variant) => {
      const sorted = latencies[variant].sort((a, b) => a - b);
      return [variant, { p50: percentile(sorted, 50), p99: percentile(sorted, 99), throughput: median(throughputs[variant]), ratio: median(ratios[variant]) }];
    }),
  );
}
server.disconnect();

// ---- 2. CPU per call, without the network ---------------------------------------------------
const canned = {
  affixo: JSON.stringify({ ok: true, conversion_id: 'cv_1' }),
  affonso: JSON.stringify({ success: true, data: { id: 'com_abc123', status: 'ready_for_payment', sales_status: 'partial_refunded', sale_amount: 49.5, sale_amount_currency: 'USD', commission_amount: 14.85, commission_currency: 'USD', external_event_id: EVENT, replayed: false } }),
  refcampaign: JSON.stringify({ success: true, data: { success: true, conversionId: 'conv_1', alreadyRefunded: false }, meta: { timestamp: '2026-06-22T16:10:00Z', requestId: 'req_1' } }),
  firstpromoter: JSON.stringify({ id: 33847726, type: 'refund', amount_cents: -4950, reward: { id: 1, status: 'approved', amount: -990, unit: 'cash' } }),
};
const stubFor = (name) =>
  async function stubFetch() {
    return new Response(canned[name], { status: 200, headers: { 'content-type': 'application/json' } });
  };

async function timeCalls(call, count) {
  const started = performance.now();
  for (let i = 0; i < count; i++) await call();
  return ((performance.now() - started) * 1000) / count;
}
/** Median µs per call of each of `calls`, over interleaved rounds. */
async function cpuOf(calls) {
  for (const call of Object.values(calls)) await timeCalls(call, 4_000); // warm up, let the JIT settle
  const samples = Object.fromEntries(Object.keys(calls).map((variant) => [variant, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of shuffle(Object.keys(calls))) samples[variant].push(await timeCalls(calls[variant], CPU_CALLS / ROUNDS));
  }
  return Object.fromEntries(Object.keys(calls).map((variant) => [variant, median(samples[variant])]));
}

log('cpu');
const cpu = {};
for (const name of Object.keys(vendors)) cpu[name] = await cpuOf(variants(name, stubFor(name)));

// What refund()'s cost is made of (Affonso): raw fetch, then ky as clawback configures it, one
// setting at a time, then clawback's native call and refund().
const ladderSteps = (() => {
  const stub = stubFor('affonso');
  const vendor = vendors.affonso;
  const base = `${origin}/affonso`;
  const headers = { ...baseHeaders };
  const body = () => JSON.stringify(vendor.body);
  const plain = ky.create({ prefix: base, fetch: stub, retry: 0, timeout: false });
  const retrying = ky.create({ prefix: base, fetch: stub, retry: { limit: 2, methods: ['post'], shouldRetry: () => false }, timeout: false });
  const timed = kyLikeClawback(base, stub);
  const hooked = timed.extend({ hooks: { beforeRequest: [() => {}], beforeRetry: [() => {}] } });
  const limited = vendor.create({ apiKey: KEY, baseURL: base, fetch: stub, rateLimit: { limit: 1e9, interval: 1_000 } });
  const unlimited = vendor.create({ apiKey: KEY, baseURL: base, fetch: stub, rateLimit: false });
  return {
    'raw fetch + JSON.parse': async () => JSON.parse(await (await stub(`${base}/${vendor.path}`, { method: 'POST', headers, body: body() })).text()),
    'raw fetch (A/A)': async () => JSON.parse(await (await stub(`${base}/${vendor.path}`, { method: 'POST', headers, body: body() })).text()),
    'ky alone, no retries, no timeout': () => plain.post(vendor.path, { body: body(), headers }).json(),
    '+ retries allowed (ky clones each request)': () => retrying.post(vendor.path, { body: body(), headers }).json(),
    '+ a per-attempt timeout': () => timed.post(vendor.path, { body: body(), headers }).json(),
    '+ two hooks (where the rate-limit slot is taken)': () => hooked.post(vendor.path, { body: body(), headers }).json(),
    'native call (validation, bounded read, redaction, schema)': () => vendor.native(unlimited),
    'refund() (options validated, money converted, result mapped)': () => vendor.facade(unlimited),
    'refund() with the rate limiter on (unsaturated)': () => vendor.facade(limited),
  };
})();
const ladder = await cpuOf(ladderSteps);

// Who spends refund()'s time (Affonso): each profiler sample goes to the nearest frame on its
// stack that is ky's, zod's, clawback's or the stub's, so undici's work is charged to whoever
// asked for it.
async function profileBreakdown() {
  const call = variants('affonso', stubFor('affonso'))['refund()'];
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  const started = performance.now();
  await session.post('Profiler.start');
  await timeCalls(call, CPU_CALLS);
  const { profile } = await session.post('Profiler.stop');
  const perCall = ((performance.now() - started) * 1000) / CPU_CALLS;
  session.disconnect();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const categoryOf = ({ functionName, url }) =>
    functionName === 'stubFetch' ? 'floor: the stub builds a Response'
    : url.includes('node_modules/ky/') ? 'ky (with the undici Requests it builds and clones)'
    : url.includes('node_modules/zod/') ? 'zod: options and response validation'
    : url.includes('/dist/') ? 'clawback: its own code'
    : undefined;
  const totals = {};
  let all = 0;
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  for (const [id, count] of hits) {
    const leaf = byId.get(id);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    let category;
    for (let node = leaf; node && !category; node = byId.get(parents.get(node.id))) category = categoryOf(node.callFrame);
    category ??= leaf.callFrame.functionName === '(garbage collector)' ? 'garbage collection' : 'promise jobs, Node internals';
    totals[category] = (totals[category] ?? 0) + count;
    all += count;
  }
  return { perCall, parts: Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]).map(([label, count]) => [label, (count / all) * perCall])) };
}
const breakdown = await profileBreakdown();

// ---- 3. heap, cold start, bundle -------------------------------------------------------------
// Response bodies are finalised some time after their last use, so one gc() right after a loop
// still counts them: settle with a few collections spaced out, and warm up first.
log('heap');
const heapCall = variants('affonso', stubFor('affonso'))['refund()'];
async function settledHeap() {
  for (let i = 0; i < 5; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return process.memoryUsage().heapUsed;
}
for (let i = 0; i < 10_000; i++) await heapCall();
const heapBefore = await settledHeap();
for (let i = 0; i < HEAP_CALLS; i++) await heapCall();
const heapAfter = await settledHeap();

log('cold start');
function coldStart(code) {
  const times = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: root });
    if (run.status !== 0) throw new Error(run.stderr);
    times.push(Number(run.stdout.trim()));
  }
  return median(times);
}
const stubSource = `async () => new Response(${JSON.stringify(canned.affonso)}, { headers: { 'content-type': 'application/json' } })`;
const rawCold = `const t = performance.now(); const stub = ${stubSource}; JSON.parse(await (await stub('https://api.affonso.io/v1/conversions/com_abc123/refund', { method: 'POST', body: '{}' })).text()); console.log(performance.now() - t);`;
const cold = {
  'raw fetch: first call': coldStart(rawCold),
  'raw fetch: first call (A/A)': coldStart(rawCold),
  'import ky + zod/mini': coldStart("const t = performance.now(); await import('ky'); await import('zod/mini'); console.log(performance.now() - t);"),
  'import clawback': coldStart("const t = performance.now(); await import('clawback'); console.log(performance.now() - t);"),
  'import clawback + first refund()': coldStart(
    `const t = performance.now(); const { createAffonso, refund } = await import('clawback');
     const provider = createAffonso({ apiKey: 'k_0001', fetch: ${stubSource} });
     await refund({ provider, conversionId: 'com_abc123', amount: { value: 4950, currency: 'USD' } });
     console.log(performance.now() - t);`,
  ),
};

log('bundle');
const bundleCheck = async (files, imports, ignore = []) => {
  const [result] = await sizeLimit(smallLib, { cwd: root, checks: [{ files: files.map((file) => `${root}${file}`), import: Object.fromEntries(Object.entries(imports).map(([file, names]) => [`${root}${file}`, names])), ignore }] });
  return result.size;
};
const bundles = {};
for (const [name, factory] of [['affixo', 'createAffixo'], ['affonso', 'createAffonso'], ['refcampaign', 'createRefCampaign'], ['firstpromoter', 'createFirstPromoter']]) {
  bundles[name] = await bundleCheck(['dist/index.js', `dist/${name}.js`], { 'dist/index.js': '{ refund }', [`dist/${name}.js`]: `{ ${factory} }` });
}
const affonsoImport = [['dist/index.js', 'dist/affonso.js'], { 'dist/index.js': '{ refund }', 'dist/affonso.js': '{ createAffonso }' }];
const bundleLadder = {
  'clawback alone (ky and zod left out)': await bundleCheck(...affonsoImport, ['ky', 'zod']),
  '+ zod/mini': await bundleCheck(...affonsoImport, ['ky']),
  '+ ky (everything: what a merchant ships)': bundles.affonso,
  'ky alone (import ky; ky.extend(…).post)': await bundleCheck(['bench/fixtures/ky-only.js'], { 'bench/fixtures/ky-only.js': '{ post }' }),
};

// ---- report ------------------------------------------------------------------------------------
const fixed = (value, digits = 0) => value.toFixed(digits);
const times = (value) => `${value.toFixed(3)}×`;
const kB = (bytes) => `${(bytes / 1000).toFixed(2)} kB`;
const rows = [];
const table = (header, lines) => rows.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((line) => `| ${line.join(' | ')} |`), '');

rows.push(`### A vendor ${VENDOR_DELAY_MS} ms away`, '');
table(
  ['vendor', 'variant', 'p50 ms', 'p50 vs raw', 'p99 ms', 'req/s at 64 (median)', 'req/s vs raw (median of rounds)'],
  Object.entries(network).flatMap(([name, results]) =>
    VARIANTS.map((variant) => {
      const { p50, p99, throughput, ratio } = results[variant];
      return [name, variant, fixed(p50, 2), times(p50 / results['raw fetch'].p50), fixed(p99, 2), fixed(throughput), times(ratio)];
    }),
  ),
);
rows.push('### CPU per call, no network (in-process fetch stub)', '');
table(
  ['vendor', 'raw fetch µs', 'raw (A/A) µs', 'ky alone µs', 'native µs', 'refund() µs', 'refund() over raw'],
  Object.entries(cpu).map(([name, r]) => [name, fixed(r['raw fetch'], 1), fixed(r['raw fetch (A/A)'], 1), fixed(r['ky alone'], 1), fixed(r['native call'], 1), fixed(r['refund()'], 1), `${fixed(r['refund()'] - r['raw fetch'], 1)} µs`]),
);
table(
  ['what refund() costs, step by step (Affonso)', 'µs per call', 'over raw'],
  Object.entries(ladder).map(([step, us]) => [step, fixed(us, 1), `${fixed(us - ladder['raw fetch + JSON.parse'], 1)} µs`]),
);
table(
  [`who spends refund()'s ${fixed(breakdown.perCall, 1)} µs (Affonso, profiled, so slower)`, 'µs per call'],
  Object.entries(breakdown.parts).map(([label, us]) => [label, fixed(us, 1)]),
);
rows.push('### Start, memory, size', '');
table(['cold start (median of fresh processes)', 'ms'], Object.entries(cold).map(([label, ms]) => [label, fixed(ms, 1)]));
table(['heap over 100,000 refund() calls (after forced GC)', 'MB'], [
  ['before', fixed(heapBefore / 1_048_576, 2)],
  ['after', fixed(heapAfter / 1_048_576, 2)],
  ['growth', fixed((heapAfter - heapBefore) / 1_048_576, 2)],
]);
table(['bundle: refund + one provider (size-limit: minified, brotli, every dependency)', 'size'], Object.entries(bundles).map(([name, bytes]) => [name, kB(bytes)]));
table(['what refund + createAffonso ships', 'size'], Object.entries(bundleLadder).map(([step, bytes]) => [step, kB(bytes)]));

const worst = (pick) => Math.max(...Object.values(network).map(pick));
const goals = [
  ['p50 with the vendor 20 ms away ≤ 1.03× raw fetch', `worst ${times(worst((r) => r['refund()'].p50 / r['raw fetch'].p50))}`, worst((r) => r['refund()'].p50 / r['raw fetch'].p50) <= 1.03],
  ['throughput at 64 ≥ 0.95× raw fetch', `worst ${times(Math.min(...Object.values(network).map((r) => r['refund()'].ratio)))}`, Math.min(...Object.values(network).map((r) => r['refund()'].ratio)) >= 0.95],
  ['SDK CPU ≤ 60 µs per call over raw', `worst ${fixed(Math.max(...Object.values(cpu).map((r) => r['refund()'] - r['raw fetch'])), 1)} µs`, Math.max(...Object.values(cpu).map((r) => r['refund()'] - r['raw fetch'])) <= 60],
  ['bundle ≤ 20 kB (refund + one provider)', `worst ${kB(Math.max(...Object.values(bundles)))}`, Math.max(...Object.values(bundles)) <= 20_000],
  ['heap flat over 100,000 calls (< 1 MB growth)', `${fixed((heapAfter - heapBefore) / 1_048_576, 2)} MB`, heapAfter - heapBefore < 1_048_576],
];
table(['goal', 'measured', 'met'], goals.map(([label, measured, met]) => [label, measured, met ? 'yes' : '**no**']));

const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# Benchmark results',
  '',
  `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${os.platform()} ${os.arch()} · ${cpuModel} × ${os.cpus().length} · ${quick ? 'quick run' : 'full run'}`,
  '',
  `Written by \`npm run bench\` (bench/run.mjs) on the built package. The vendor is a loopback server in its own`,
  `process answering after ${VENDOR_DELAY_MS} ms. Latency: ${LATENCY_CALLS} calls per variant, interleaved call by call. Throughput: ${ROUNDS} rounds, each`,
  `variant in turn (${CONCURRENT_CALLS} calls at concurrency ${CONCURRENCY}), the ratio the median of each round's ratio to raw fetch. Every variant`,
  'sends byte-identical requests (checked). "raw fetch (A/A)" is the same code as "raw fetch": its ratio is the noise',
  'of this shared machine. Read the ratios, not the absolute numbers.',
  '',
];
const report = [...header, ...rows].join('\n');
console.log(report);
if (!quick) writeFileSync(new URL('./RESULTS.md', import.meta.url), `${report}\n`);
