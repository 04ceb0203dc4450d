// `npm run bench`: what the SDK costs over a raw fetch, measured on the built package.
// Run with `node --expose-gc` (the npm script does). `-- --quick` runs fewer rounds.
//
// 1. Over loopback, against a server in its own process: raw fetch + JSON.parse (the floor),
//    ky alone, the native provider call, and refund(), sending byte-identical requests,
//    interleaved round by round; sequential latency (p50/p99) and throughput at concurrency 64.
// 2. CPU per call without the network (an in-process fetch stub), and where it goes (a profile).
// 3. Cold start in fresh processes, and the heap over 100,000 calls.
// Prints a table and writes bench/RESULTS.md. Ratios are to the floor measured in the same run.
import { fork, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import ky from 'ky';
import { createAffixo, createAffonso, createFirstPromoter, createRefCampaign, refund } from 'clawback';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 8;
const SEQUENTIAL_ITERATIONS = quick ? 400 : 2_000;
const CONCURRENT_CALLS = quick ? 800 : 2_000;
const CONCURRENCY = 64;
const CPU_CALLS = quick ? 10_000 : 50_000;
const HEAP_CALLS = 100_000;
const COLD_STARTS = quick ? 5 : 15;

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc (npm run bench does).');
  process.exit(2);
}

// ---- the vendor server, in its own process ------------------------------------------------
const server = fork(new URL('./server.mjs', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const { port } = await new Promise((resolve) => server.once('message', resolve));
const origin = `http://127.0.0.1:${port}`;

// ---- the same refund four ways, per vendor ------------------------------------------------
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

/** The four variants for one vendor, all calling `fetchFunction` at the same base URL. */
function variants(name, fetchFunction) {
  const vendor = vendors[name];
  const base = `${origin}/${name}`;
  const url = `${base}/${vendor.path}`;
  const headers = { ...baseHeaders, ...vendor.headers };
  const client = ky.create({ prefix: base, headers, fetch: fetchFunction, retry: 0, timeout: false, throwHttpErrors: false });
  // The limiter is off: it is there to pace calls to the vendor's documented rate, which any
  // benchmark exceeds; its own cost, unsaturated, is part of the CPU figures below.
  const provider = vendor.create({ apiKey: KEY, baseURL: base, fetch: fetchFunction, rateLimit: false, ...vendor.settings });
  const raw = async () => {
    const response = await fetchFunction(url, { method: 'POST', headers, body: JSON.stringify(vendor.body) });
    return JSON.parse(await response.text());
  };
  return {
    'raw fetch': raw,
    // The same code again, measured as if it were another variant: how far two identical
    // variants drift apart on this machine, i.e. the noise under every ratio.
    'raw fetch (again)': async () => raw(),
    'ky alone': () => client.post(vendor.path, { json: vendor.body }).json(),
    'native call': () => vendor.native(provider),
    'refund()': () => vendor.facade(provider),
  };
}
const VARIANTS = ['raw fetch', 'raw fetch (again)', 'ky alone', 'native call', 'refund()'];

// Check first that the four send byte-identical requests: the server echoes a digest.
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

// ---- 1. over loopback ----------------------------------------------------------------------
const network = {};
for (const name of Object.keys(vendors)) {
  const calls = variants(name, fetch);
  for (const call of Object.values(calls)) for (let i = 0; i < 300; i++) await call(); // warm up
  const latencies = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  const throughputs = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  const throughputRatios = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  // Sequential latency, interleaved call by call (each iteration calls every variant once, in
  // a random order), so the machine's drift touches them all alike: identical variants then
  // agree within ~1 %, where block-by-block rounds drifted by up to 17 %.
  for (let i = 0; i < SEQUENTIAL_ITERATIONS; i++) {
    for (const variant of shuffle(VARIANTS)) {
      const started = performance.now();
      await calls[variant]();
      latencies[variant].push((performance.now() - started) * 1000);
    }
  }
  // Throughput at concurrency 64 must be measured one variant at a time: interleaved under one
  // shared load, a variant's extra CPU slows every call alike and the differences vanish (even
  // ky's). So: many short rounds, each variant in a shuffled order, and each variant's req/s
  // divided by raw fetch's in the same round, which cancels the machine's drift between rounds.
  for (let round = 0; round < ROUNDS * 3; round++) {
    const perRound = {};
    for (const variant of shuffle(VARIANTS)) {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < CONCURRENT_CALLS / 2) {
            next += 1;
            await calls[variant]();
          }
        }),
      );
      perRound[variant] = CONCURRENT_CALLS / 2 / ((performance.now() - started) / 1000);
    }
    for (const variant of VARIANTS) {
      throughputs[variant].push(perRound[variant]);
      throughputRatios[variant].push(perRound[variant] / perRound['raw fetch']);
    }
  }
  network[name] = Object.fromEntries(
    VARIANTS.map((variant) => {
      const sorted = latencies[variant].sort((a, b) => a - b);
      return [
        variant,
        {
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          throughput: median(throughputs[variant]),
          throughputRatio: median(throughputRatios[variant]),
        },
      ];
    }),
  );
}

// What the SDK's latency over loopback is made of: raw fetch, then one ingredient at a time,
// up to the native call (Affixo), interleaved call by call. Full runs only.
const ladder = {};
if (!quick) {
  const url = `${origin}/affixo/v1/track/refund`;
  const headers = { ...baseHeaders };
  const body = JSON.stringify(vendors.affixo.body);
  const provider = vendors.affixo.create({ apiKey: KEY, baseURL: `${origin}/affixo`, rateLimit: false });
  const withTimeout = async (run) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30_000);
    try {
      return await run(controller.signal);
    } finally {
      clearTimeout(timer);
    }
  };
  const full = async (signal) => {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(vendors.affixo.body), signal });
    response.headers.get('content-length');
    response.headers.get('x-request-id');
    return JSON.parse(await response.text());
  };
  const steps = {
    'raw fetch + JSON.parse': async () => JSON.parse(await (await fetch(url, { method: 'POST', headers, body })).text()),
    '+ a cancellable timeout (AbortSignal + timer)': () =>
      withTimeout(async (signal) => JSON.parse(await (await fetch(url, { method: 'POST', headers, body, signal })).text())),
    '+ reading Content-Length and X-Request-Id, JSON.stringify of the body': () => withTimeout(full),
    '+ four nested async functions': async () => await (async () => await (async () => await (async () => await withTimeout(full))())())(),
    'the native call (validation, retries bookkeeping, schema, result)': () => vendors.affixo.native(provider),
  };
  const samples = Object.fromEntries(Object.keys(steps).map((step) => [step, []]));
  for (let i = 0; i < 2_000; i++) {
    for (const step of shuffle(Object.keys(steps))) {
      const started = performance.now();
      await steps[step]();
      samples[step].push((performance.now() - started) * 1000);
    }
  }
  const floor = median(samples['raw fetch + JSON.parse']);
  for (const [step, values] of Object.entries(samples)) ladder[step] = { p50: median(values), ratio: median(values) / floor };
}
server.disconnect();

// ---- 2. CPU per call, without the network --------------------------------------------------
const canned = {
  affixo: JSON.stringify({ ok: true, conversion_id: 'cv_1' }),
  affonso: JSON.stringify({ success: true, data: { id: 'com_abc123', status: 'ready_for_payment', sales_status: 'partial_refunded', sale_amount: 49.5, sale_amount_currency: 'USD', commission_amount: 14.85, commission_currency: 'USD', external_event_id: EVENT, replayed: false } }),
  refcampaign: JSON.stringify({ success: true, data: { success: true, conversionId: 'conv_1', alreadyRefunded: false }, meta: { timestamp: '2026-06-22T16:10:00Z', requestId: 'req_1' } }),
  firstpromoter: JSON.stringify({ id: 33847726, type: 'refund', amount_cents: -4950, reward: { id: 1, status: 'approved', amount: -990, unit: 'cash' } }),
};
const stubFor = (name) => async () => new Response(canned[name], { status: 200, headers: { 'content-type': 'application/json' } });

async function timeCalls(call, count) {
  const started = performance.now();
  for (let i = 0; i < count; i++) await call();
  return ((performance.now() - started) * 1000) / count;
}

const cpu = {};
for (const name of Object.keys(vendors)) {
  const calls = variants(name, stubFor(name));
  for (const call of Object.values(calls)) await timeCalls(call, 5_000); // warm up, let the JIT settle
  const samples = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of shuffle(VARIANTS)) samples[variant].push(await timeCalls(calls[variant], CPU_CALLS / ROUNDS));
  }
  cpu[name] = Object.fromEntries(VARIANTS.map((variant) => [variant, median(samples[variant])]));
}

// Where refund()'s time goes, from a CPU profile of the Affonso call (the biggest body). A
// sample whose innermost frame is undici, the stub, JSON.parse or another Node internal is the
// floor's work (raw fetch does it too), wherever it was called from; otherwise the innermost
// categorised frame on its stack decides.
const FLOOR = 'floor: fetch stub, Response, streams, JSON.parse';
const isFloor = (frame) =>
  frame.url.includes('undici') || frame.url.includes('bench/run.mjs') || frame.url.startsWith('node:') || (frame.url === '' && frame.functionName !== '');
const categories = [
  ['request validation', (frame) => ['parseInput', 'validateField', 'parseNativeCall'].includes(frame.functionName)],
  ['response validation', (frame) => frame.functionName === 'parse' && /dist\/chunk|http/.test(frame.url)],
  ['mapping (adapter)', (frame) => /^refundWith/.test(frame.functionName)],
  ['transport: ky', (frame) => frame.url.includes('node_modules/ky/')],
  ['transport: clawback', (frame) => ['post', 'attemptOnce', 'readCapped', 'send'].includes(frame.functionName)],
];
async function profileBreakdown() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  const call = variants('affonso', stubFor('affonso'))['refund()'];
  await session.post('Profiler.start');
  await timeCalls(call, CPU_CALLS);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const OTHER = 'other: promise jobs, GC, clawback glue';
  const totals = Object.fromEntries([...categories.map(([label]) => [label, 0]), [FLOOR, 0], [OTHER, 0]]);
  let all = 0;
  for (const [id, count] of hits) {
    const leaf = byId.get(id);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    let category = isFloor(leaf.callFrame) ? FLOOR : OTHER;
    for (let node = leaf; category === OTHER && node; node = byId.get(parents.get(node.id))) {
      const match = categories.find(([, test]) => test(node.callFrame));
      if (match) category = match[0];
    }
    totals[category] += count;
    all += count;
  }
  return Object.fromEntries(Object.entries(totals).map(([label, count]) => [label, (count / all) * cpu.affonso['refund()']]));
}
const breakdown = await profileBreakdown();

// ---- 3. heap over 100,000 calls, and cold start ---------------------------------------------
// Response bodies are finalised some time after their last use, so one gc() right after a
// loop still counts them: settle with a few collections spaced out, and warm up first (the
// first calls add compiled code, once).
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

function coldStart(code) {
  const times = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    times.push(Number(run.stdout.trim()));
  }
  return median(times);
}
const cold = {
  'ky + zod/mini': coldStart("const t = performance.now(); await import('ky'); await import('zod/mini'); console.log(performance.now() - t);"),
  'clawback': coldStart("const t = performance.now(); await import('clawback'); console.log(performance.now() - t);"),
  'clawback + first call': coldStart(
    `const t = performance.now(); const { createAffonso, refund } = await import('clawback');
     const provider = createAffonso({ apiKey: 'k_0001', fetch: async () => new Response(${JSON.stringify(canned.affonso)}) });
     await refund({ provider, conversionId: 'com_abc123', amount: { value: 4950, currency: 'USD' } });
     console.log(performance.now() - t);`,
  ),
};

// ---- report ---------------------------------------------------------------------------------
const fixed = (value, digits = 0) => value.toFixed(digits);
const ratio = (value, floor) => `${(value / floor).toFixed(3)}×`;
const rows = [];
const table = (header, lines) => {
  rows.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((line) => `| ${line.join(' | ')} |`), '');
};

table(
  ['vendor', 'variant', 'p50 µs', 'p50 vs raw', 'p99 µs', 'p99 vs raw', 'req/s at 64 (median)', 'req/s vs raw (per round)'],
  Object.entries(network).flatMap(([name, results]) =>
    VARIANTS.map((variant) => {
      const { p50, p99, throughput, throughputRatio } = results[variant];
      const floor = results['raw fetch'];
      return [name, variant, fixed(p50), ratio(p50, floor.p50), fixed(p99), ratio(p99, floor.p99), fixed(throughput), `${throughputRatio.toFixed(3)}×`];
    }),
  ),
);
table(
  ['vendor', 'raw fetch µs', 'ky alone µs', 'native µs', 'refund() µs', 'ky over floor', 'clawback over ky', 'SDK CPU per call'],
  Object.entries(cpu).map(([name, results]) => [
    name,
    fixed(results['raw fetch'], 1),
    fixed(results['ky alone'], 1),
    fixed(results['native call'], 1),
    fixed(results['refund()'], 1),
    `${fixed(results['ky alone'] - results['raw fetch'], 1)} µs`,
    `${fixed(results['refund()'] - results['ky alone'], 1)} µs`,
    `${fixed(results['refund()'] - results['raw fetch'], 1)} µs`,
  ]),
);
if (!quick) {
  table(
    ['what the latency over loopback is made of (Affixo, interleaved)', 'p50 µs', 'vs raw'],
    Object.entries(ladder).map(([step, { p50, ratio: value }]) => [step, fixed(p50), `${value.toFixed(3)}×`]),
  );
}
table(['where refund() spends its time (Affonso, µs per call)', 'µs'], Object.entries(breakdown).map(([label, us]) => [label, fixed(us, 1)]));
table(['cold start (median of fresh processes)', 'ms'], Object.entries(cold).map(([label, ms]) => [label, fixed(ms, 1)]));
table(
  ['heap over 100,000 refund() calls (after forced GC)', 'MB'],
  [
    ['before', fixed(heapBefore / 1_048_576, 2)],
    ['after', fixed(heapAfter / 1_048_576, 2)],
    ['growth', fixed((heapAfter - heapBefore) / 1_048_576, 2)],
  ],
);

const worst = (pick) => Math.max(...Object.values(network).map(pick));
const targets = [
  ['sequential p50 within 5 % of raw fetch', `worst ${ratio(worst((r) => r['refund()'].p50 / r['raw fetch'].p50), 1)}`, worst((r) => r['refund()'].p50 / r['raw fetch'].p50) <= 1.05],
  ['throughput at 64 ≥ 95 % of raw fetch', `worst ${(Math.min(...Object.values(network).map((r) => r['refund()'].throughputRatio)) * 100).toFixed(1)} %`, Math.min(...Object.values(network).map((r) => r['refund()'].throughputRatio)) >= 0.95],
  ['≤ 15 µs SDK CPU per call', `worst ${fixed(Math.max(...Object.values(cpu).map((r) => r['refund()'] - r['raw fetch'])), 1)} µs`, Math.max(...Object.values(cpu).map((r) => r['refund()'] - r['raw fetch'])) <= 15],
  ['import ≤ 20 ms over ky + zod', `${fixed(cold.clawback - cold['ky + zod/mini'], 1)} ms`, cold.clawback - cold['ky + zod/mini'] <= 20],
  ['flat heap over 100,000 calls (< 1 MB growth)', `${fixed((heapAfter - heapBefore) / 1_048_576, 2)} MB`, heapAfter - heapBefore < 1_048_576],
];
table(['target', 'measured', 'met'], targets.map(([label, measured, met]) => [label, measured, met ? 'yes' : '**no**']));

const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# Benchmark results',
  '',
  `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${os.platform()} ${os.arch()} · ${cpuModel} × ${os.cpus().length} · ${quick ? 'quick run' : 'full run'}`,
  '',
  'Written by `npm run bench` (bench/run.mjs). Loopback server in its own process. Sequential latency: variants',
  `interleaved call by call (${SEQUENTIAL_ITERATIONS} calls each). Throughput: ${ROUNDS * 3} rounds, each variant in turn (${CONCURRENT_CALLS / 2} calls at`,
  `concurrency ${CONCURRENCY}), "vs raw" the median of each round's ratio to raw fetch in that round.`,
  'Every variant sends byte-identical requests (checked). "raw fetch (again)" is the same code as "raw fetch": its',
  'ratio is the noise of this shared machine. Read the ratios, not the µs.',
  '',
];
const report = [...header, ...rows].join('\n');
console.log(report);
if (!quick) writeFileSync(new URL('./RESULTS.md', import.meta.url), `${report}\n`);
