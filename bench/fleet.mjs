// The fleet table of `npm run bench` (run after bench/run.mjs; alone: `node bench/fleet.mjs`,
// `--quick` for shorter runs that do not write FLEET.md). Needs the build (dist/).
//
// 1. Throughput at the vendor's allowance: 1, 2, 4 and 8 processes (bench/fleet-worker.mjs), each
//    keeping 16 refunds in flight, sharing one Redis rate budget, against the emulator enforcing
//    100 requests per second and answering 20 ms late: accepted requests per second over the
//    allowance, from one second after the start (past the opening burst) to the end, and the
//    emulator's 429s.
// 2. The ledger's cost per call, the vendor 20 ms away (bench/server.mjs): p50 of sequential
//    refund() calls with a Redis ledger and with a PostgreSQL ledger, each over the same call
//    without a ledger, rounds interleaved; and an A/A control (no ledger, measured twice). Then
//    where that cost goes: a bare round trip to each store after the same 20 ms idle.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createAffixo, refund } from '../dist/index.js';
import { postgresLedger } from '../dist/postgres.js';
import { redisLedger } from '../dist/redis.js';
import { EMULATOR_API_KEYS, startEmulator } from '../dist/testing.js';
import { startPostgres, startRedis } from '../test/support/servers.mjs';

const quick = process.argv.includes('--quick');
const DURATION_MS = quick ? 3_000 : 6_000;
const LIMIT = { limit: 100, interval: 1_000 };
const LATENCY_ROUNDS = quick ? 4 : 10;
const LATENCY_CALLS = quick ? 30 : 60;
const log = (line) => process.stderr.write(`${line}\n`);

const [redisServer, postgresServer] = await Promise.all([startRedis(), startPostgres()]);
const lines = [];
try {
  // ---- 1. throughput at the vendor's allowance ------------------------------------------------
  lines.push(
    '## Fleet: throughput at the vendor\'s allowance',
    '',
    `Processes sharing one Redis rate budget, 16 refunds in flight each, against the emulator allowing ${LIMIT.limit} requests per ${LIMIT.interval} ms and answering 20 ms late; measured over ${(DURATION_MS - 1_000) / 1_000} s after the first second. Goal: ≥ 0.95 of the allowance with 8 processes, 0 × 429.`,
    '',
    '| processes | accepted per second | allowed | achieved / allowed | 429s | calls cut off at the end | other errors |',
    '|---|---|---|---|---|---|---|',
  );
  for (const processes of [1, 2, 4, 8]) {
    const emulator = await startEmulator({ rateLimits: { affixo: LIMIT } });
    emulator.emulator.seed({ affixo: [{ id: 'order_bench', sale: { value: 1_000, currency: 'USD' } }] });
    emulator.inject({ provider: 'affixo', delay: 20, times: 1_000_000_000 });
    await new Promise((resolve) => setTimeout(resolve, LIMIT.interval)); // a fresh window
    const job = { redisUrl: redisServer.url, baseURL: emulator.baseURLs.affixo, apiKey: EMULATOR_API_KEYS.affixo, limit: LIMIT, durationMs: DURATION_MS, concurrency: 16, conversionId: 'order_bench' };
    // A budget of its own for each row.
    const cleaner = new Redis(redisServer.url);
    await cleaner.flushall();
    cleaner.disconnect();
    const workers = Array.from({ length: processes }, () => fork(new URL('./fleet-worker.mjs', import.meta.url), [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
    const reports = workers.map((worker) => new Promise((resolve) => worker.once('message', resolve)));
    for (const worker of workers) worker.send('go');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const accepted = () => emulator.emulator.counts.requests.affixo - emulator.emulator.counts.rateLimited.affixo;
    const from = accepted();
    const fromTime = performance.now();
    await new Promise((resolve) => setTimeout(resolve, DURATION_MS - 1_000));
    const perSecond = ((accepted() - from) * 1_000) / (performance.now() - fromTime);
    const totals = (await Promise.all(reports)).reduce((sum, one) => ({ rateLimited: sum.rateLimited + one.rateLimited, cutOff: sum.cutOff + one.cutOff, other: sum.other + one.other }), { rateLimited: 0, cutOff: 0, other: 0 });
    const allowed = (LIMIT.limit * 1_000) / LIMIT.interval;
    lines.push(`| ${processes} | ${perSecond.toFixed(1)} | ${allowed} | ${(perSecond / allowed).toFixed(3)} | ${emulator.emulator.counts.rateLimited.affixo} | ${totals.cutOff} | ${totals.other} |`);
    log(lines.at(-1));
    await emulator.close();
  }

  // ---- 2. the ledger's cost per call ---------------------------------------------------------------
  const vendor = fork(new URL('./server.mjs', import.meta.url), ['--delay', '20'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve) => vendor.once('message', resolve));
  const baseURL = `http://127.0.0.1:${port}/affixo`;
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const pool = new pg.Pool({ connectionString: postgresServer.url, max: 4 });
  const settings = { apiKey: 'bench_key_0001', baseURL, rateLimit: false };
  const variants = {
    'no ledger': createAffixo(settings),
    'no ledger (A/A)': createAffixo(settings),
    'Redis ledger': createAffixo({ ...settings, ledger: redisLedger(redis) }),
    'PostgreSQL ledger': createAffixo({ ...settings, ledger: postgresLedger(pool) }),
  };
  const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  // Warm: connections open, the PostgreSQL table made, scripts loaded.
  for (const provider of Object.values(variants)) for (let call = 0; call < 10; call++) await refund({ provider, conversionId: 'order_1' });
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    for (const [name, provider] of Object.entries(variants).sort(() => Math.random() - 0.5)) {
      for (let call = 0; call < LATENCY_CALLS; call++) {
        const started = performance.now();
        await refund({ provider, conversionId: 'order_1' }); // a fresh key each call: a claim and a record each
        samples[name].push(performance.now() - started);
      }
    }
  }
  const p50 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const base = p50(samples['no ledger']);
  lines.push(
    '',
    '## Fleet: the ledger\'s cost per call',
    '',
    `Sequential refund() calls, the vendor 20 ms away, a claim and a record per call (a fresh key each); ${LATENCY_ROUNDS} interleaved rounds of ${LATENCY_CALLS}. Goal: ≤ 1.02× the same call without a ledger.`,
    '',
    '| variant | p50 | × no ledger |',
    '|---|---|---|',
    ...Object.keys(variants).map((name) => `| ${name} | ${p50(samples[name]).toFixed(2)} ms | ${(p50(samples[name]) / base).toFixed(3)}× |`),
  );
  // Where the cost goes: a claim and a record are two round trips to a store that has sat idle
  // for the vendor's 20 ms, and waking an idle server costs more than a hot loop suggests.
  const roundTrips = { Redis: [], PostgreSQL: [] };
  for (let sample = 0; sample < 200; sample++) {
    for (const [name, ping] of [['Redis', () => redis.ping()], ['PostgreSQL', () => pool.query('select 1')]]) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const started = performance.now();
      await ping();
      roundTrips[name].push(performance.now() - started);
    }
  }
  lines.push(
    '',
    'Where it goes: one bare round trip to the store after 20 ms idle (Redis `PING`, PostgreSQL `SELECT 1`), p50; a call through the ledger makes two (its claim before sending, its record after the vendor has answered).',
    '',
    '| store | round trip after 20 ms idle | two round trips | ledger cost measured above |',
    '|---|---|---|---|',
    ...[['Redis', 'Redis ledger'], ['PostgreSQL', 'PostgreSQL ledger']].map(
      ([store, variant]) => `| ${store} | ${p50(roundTrips[store]).toFixed(2)} ms | ${(2 * p50(roundTrips[store])).toFixed(2)} ms | ${(p50(samples[variant]) - base).toFixed(2)} ms |`,
    ),
  );
  log(lines.slice(-10).join('\n'));
  redis.disconnect();
  await pool.end();
  vendor.disconnect();
} finally {
  await Promise.all([redisServer.stop(), postgresServer.stop()]);
}
const report = lines.join('\n');
console.log(report);
if (!quick) writeFileSync(new URL('./FLEET.md', import.meta.url), `# Fleet benchmark\n\n${report}\n`);
