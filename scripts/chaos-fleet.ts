// `npm run chaos -- --fleet [--workers N] [--refunds M] [--store redis|postgres] [--seed S] [--sabotage]`:
// the fault campaign across processes. N worker processes (scripts/chaos-fleet-worker.ts) share
// one ledger (Redis or PostgreSQL) and one rate budget (Redis), against the emulator enforcing the
// vendors' documented limits. Every refund is delivered to two or three workers, as a webhook is
// redelivered (two of them at about the same moment), and delivered again while its outcome
// says so; some requests meet a fault; workers are killed (SIGKILL) at random and replaced; the
// store is restarted once in the middle. The judge: the emulator's ledger and the store itself.
//
// Invariants (all must be 0): no refund applied twice or for another amount; none reported done
// but not applied; every refund ends applied, or flagged ambiguous in the ledger (one not applied
// has its claim released and is delivered again until it is applied); none applied without the
// ledger saying so; no 429 from the emulator's own limit; no secret in either store; no untyped
// error. `--sabotage` makes the workers (never the SDK) break each, to show each can fail.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { deriveIdempotencyKey, type LedgerEntry, type ProviderName } from 'clawback';
import { postgresLedger } from 'clawback/postgres';
import { redisLedger } from 'clawback/redis';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, startEmulator, type Fault } from 'clawback/testing';
import { bundleWorker } from '../test/fleet/workers.js';
import { startPostgres, startRedis } from '../test/support/servers.mjs';
import type { FleetAnswer, FleetJob, FleetSetup } from './chaos-fleet-worker.js';

const INVARIANTS = [
  'applied twice',
  'amount applied differs from the amount asked',
  'reported done but not applied',
  'ended neither applied nor flagged ambiguous in the ledger',
  'applied, but the ledger does not say so',
  "429s from the emulator's own rate limit",
  'a secret in the store',
  'untyped errors',
] as const;
type Invariant = (typeof INVARIANTS)[number];

interface Refund {
  job: FleetJob;
  sale: number;
  fault: string;
  /** Deliveries planned beyond the first (redeliveries), and made so far. */
  copies: number;
  deliveries: number;
  answers: FleetAnswer[];
  /** Done: applied (an ok answer), held ambiguous, or given up. */
  settled?: 'ok' | 'held' | 'gave up';
  inFlight: number;
  /** Deliveries scheduled and not made yet. */
  scheduled: number;
}

export async function runFleet(args: Map<string, string>): Promise<number> {
  const seed = Number(args.get('seed') ?? 1);
  const total = Number(args.get('refunds') ?? 400);
  const workerCount = Number(args.get('workers') ?? 4);
  const store = (args.get('store') ?? 'redis') as 'redis' | 'postgres';
  const sabotage = args.has('sabotage');
  if (![seed, total, workerCount].every(Number.isSafeInteger) || total < 1 || workerCount < 1 || !['redis', 'postgres'].includes(store)) {
    console.error('usage: npm run chaos -- --fleet [--workers N] [--refunds M] [--store redis|postgres] [--seed S] [--sabotage]');
    return 2;
  }
  let state = seed >>> 0;
  const rng = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
  const chance = (p: number) => rng() < p;

  // ---- the plan: one refund per conversion ------------------------------------------------------
  const vendors: ProviderName[] = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'];
  const faults: Array<[string, Fault | undefined]> = [
    ['none', undefined],
    ['timeout after applying', { delay: 900, afterApply: true }],
    ['5xx after applying', { status: 503, afterApply: true }],
    ['5xx before applying', { status: 500 }],
    ['reset after applying', { reset: true, afterApply: true }],
    ['429 from a fault', { status: 429, headers: { 'retry-after': '0' }, body: {} }],
  ];
  const refunds: Refund[] = Array.from({ length: total }, (_, id) => {
    const vendor = vendors[id % vendors.length] as ProviderName;
    const sale = 10_000;
    // Affixo reverses whole conversions; the others get partial and (Affonso, RefCampaign) full refunds.
    const partial = vendor === 'firstpromoter' || (vendor !== 'affixo' && chance(0.6));
    const [fault, spec] = chance(0.6) ? faults[0]! : pick(faults.slice(1));
    return {
      job: {
        id,
        vendor,
        conversionId: `fleet_${seed}_${id}`,
        ...(partial ? { amount: { value: 500 + Math.floor(rng() * 4_000), currency: 'USD' } } : {}),
        refundId: `re_fleet_${seed}_${id}`,
        way: chance(0.5) ? 'refund()' : 'refundMany',
      },
      sale,
      fault: spec ? fault : 'none',
      copies: chance(0.5) ? 2 : 1,
      deliveries: 0,
      answers: [],
      inFlight: 0,
      scheduled: 0,
    } satisfies Refund;
  });
  if (sabotage) {
    const sabotages: Record<string, Invariant> = {
      'applied twice': 'applied twice',
      'amount applied differs from the amount asked': 'amount applied differs from the amount asked',
      'reported done but not applied': 'reported done but not applied',
      'applied, but the ledger does not say so': 'applied, but the ledger does not say so',
      'untyped errors': 'untyped errors',
      'a secret in the store': 'a secret in the store',
      "429s from the emulator's own rate limit": "429s from the emulator's own rate limit",
      // The coordinator gives this one up without delivering it.
      'ended neither applied nor flagged ambiguous in the ledger': 'ended neither applied nor flagged ambiguous in the ledger',
    };
    let next = 0;
    for (const name of Object.keys(sabotages)) {
      // Affonso refunds with an amount show every one of them.
      const target = refunds.slice(next).find((refund) => refund.job.vendor === 'affonso' && refund.job.amount);
      if (!target) break;
      next = refunds.indexOf(target) + 1;
      target.job.sabotage = name;
      target.fault = 'none';
      target.copies = 0;
    }
  }

  // ---- the servers, the vendor, the workers -------------------------------------------------------
  const redisServer = await startRedis();
  const postgresServer = store === 'postgres' ? await startPostgres() : undefined;
  const ledgerServer = postgresServer ?? redisServer;
  // The vendors' documented limits, enforced: the emulator's defaults, but Affonso's largest
  // plan (3,000 a minute, 100 a second), so a large run is not 2,500 minutes of Affonso's smallest.
  const affonsoPlan = [
    { limit: 3_000, interval: 60_000 },
    { limit: 100, interval: 1_000 },
  ];
  const emulator = await startEmulator({ rateLimits: { affonso: affonsoPlan } });
  for (const refund of refunds) {
    emulator.emulator.seed({
      [refund.job.vendor]: [
        { id: refund.job.conversionId, sale: { value: refund.sale, currency: 'USD' }, ...(refund.job.vendor === 'firstpromoter' ? { lead: { email: `${refund.job.conversionId}@example.com` } } : {}) },
      ],
    });
    const spec = faults.find(([name]) => name === refund.fault)?.[1];
    if (spec) emulator.inject({ ...spec, provider: refund.job.vendor, conversionId: refund.job.conversionId });
  }
  const setup: FleetSetup = {
    store,
    redisUrl: redisServer.url,
    ...(postgresServer ? { postgresUrl: postgresServer.url } : {}),
    baseURLs: emulator.baseURLs,
    apiKeys: EMULATOR_API_KEYS,
    accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
    // The documented limits the emulator enforces (its defaults), shared by the whole fleet.
    limits: {
      affixo: [{ limit: 600, interval: 60_000 }],
      affonso: affonsoPlan,
      refcampaign: [{ limit: 600, interval: 60_000 }],
      firstpromoter: [{ limit: 400, interval: 60_000 }],
    },
    timeout: 500,
    // A short budget, so a killed worker's claims (budget + margin) lapse within seconds.
    totalTimeout: 2_500,
  };
  // The repository (this file may run bundled from node_modules/.cache): the folder holding the worker.
  let root = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(root, 'scripts/chaos-fleet-worker.ts'))) {
    if (dirname(root) === root) throw new Error('cannot find scripts/chaos-fleet-worker.ts above this script');
    root = dirname(root);
  }
  const bundle = await bundleWorker(root, 'scripts/chaos-fleet-worker.ts');
  const workerFile = bundle.file;

  interface Worker {
    child: ChildProcess;
    ready: Promise<void>;
    /** Deliveries in flight on it, by refund (two copies of one refund may go to the same worker). */
    jobs: Map<number, number>;
    dead: boolean;
  }
  const workers: Worker[] = [];
  const unexpectedExits: string[] = [];
  let finishing = false;
  /** One delivery of `id` on `worker` is over; false when none was in flight there (the exit handler took it). */
  const untrack = (worker: Worker, id: number): boolean => {
    const copies = worker.jobs.get(id) ?? 0;
    if (copies <= 1) worker.jobs.delete(id);
    else worker.jobs.set(id, copies - 1);
    return copies > 0;
  };
  const spawnWorker = (): Worker => {
    const child = fork(workerFile, [JSON.stringify(setup)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const worker: Worker = { child, ready: new Promise((resolve) => child.once('message', () => resolve())), jobs: new Map(), dead: false };
    child.on('message', (message: FleetAnswer | { ready: true }) => {
      if ('ready' in message) return;
      untrack(worker, message.id);
      answer(refunds[message.id] as Refund, message);
    });
    child.on('error', () => {}); // a send to a worker that just died: see deliver()
    child.on('exit', (code, signal) => {
      const killed = worker.dead; // killOne marks its victims before killing them, the end its workers
      worker.dead = true;
      if (!killed && !finishing) {
        // Not one of the campaign's kills: say so, and keep the fleet at its size.
        unexpectedExits.push(`worker ${child.pid} exited (${signal ?? code})`);
        console.error(`a worker exited on its own (${signal ?? code}); replaced`);
        workers.push(spawnWorker());
      }
      // Its deliveries in flight are lost, as a webhook to a crashed instance is: delivered again.
      for (const [id, copies] of worker.jobs) for (let copy = 0; copy < copies; copy++) lost(refunds[id] as Refund);
      worker.jobs.clear();
    });
    return worker;
  };
  for (let index = 0; index < workerCount; index++) workers.push(spawnWorker());
  await Promise.all(workers.map((worker) => worker.ready));

  // ---- deliveries ----------------------------------------------------------------------------------
  // As a webhook source does, a refund is delivered again while its answer says so, for a while
  // (Stripe: three days; here thirty minutes, with a growing wait between deliveries).
  const GIVE_UP_AFTER_MS = 30 * 60_000;
  let kills = 0;
  let deliveredTotal = 0;
  let restarting = false;
  let restarted = false;
  let settledCount = 0;
  let resolveAll!: () => void;
  const allSettled = new Promise<void>((resolve) => (resolveAll = resolve));
  // About one kill per 50 refunds (at least three), spread over the run's ~3 deliveries a refund.
  const killEvery = Math.max(10, Math.floor((total * 3) / Math.max(3, Math.round(total / 50))));

  const settle = (refund: Refund, how: NonNullable<Refund['settled']>) => {
    if (refund.settled) return;
    refund.settled = how;
    settledCount += 1;
    if (settledCount === refunds.length) resolveAll();
  };
  const deliver = (refund: Refund) => {
    if (refund.settled && refund.settled !== 'ok') return;
    const alive = workers.filter((worker) => !worker.dead);
    if (alive.length === 0) return; // the run is over
    const worker = pick(alive);
    refund.deliveries += 1;
    refund.inFlight += 1;
    deliveredTotal += 1;
    worker.jobs.set(refund.job.id, (worker.jobs.get(refund.job.id) ?? 0) + 1);
    // A worker that died between the pick and the send: the delivery is lost, and made again.
    worker.child.send(refund.job, (error) => {
      if (error && untrack(worker, refund.job.id)) lost(refund);
    });
    if (deliveredTotal % killEvery === 0) void killOne();
    if (!restarted && deliveredTotal >= Math.floor(total * 0.6)) void restartStore();
  };
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (refund: Refund, ms: number) => {
    refund.scheduled += 1;
    const timer = setTimeout(() => {
      timers.delete(timer);
      refund.scheduled -= 1;
      deliver(refund);
    }, ms);
    timers.add(timer);
  };
  function answer(refund: Refund, message: FleetAnswer) {
    refund.inFlight -= 1;
    refund.answers.push(message);
    if (message.ok) return settle(refund, 'ok');
    if (message.ambiguous && !message.retryable) return settle(refund, 'held');
    // A raw error is a bug, which delivering again will not fix (the judge counts it); nor is a
    // refusal that keeps coming (a fault is only passing).
    if (message.untyped) return settle(refund, 'gave up');
    if (!message.retryable && !message.ambiguous && refund.answers.filter((one) => !one.ok && !one.retryable && !one.ambiguous).length >= 5) return settle(refund, 'gave up');
    if (refund.settled) return;
    // Anything else: delivered again, as a webhook whose handler answered 500 is.
    if (performance.now() - started > GIVE_UP_AFTER_MS) return settle(refund, 'gave up');
    later(refund, Math.min(3_000, 50 * refund.deliveries));
  }
  function lost(refund: Refund) {
    refund.inFlight -= 1;
    if (refund.settled) return;
    later(refund, 300);
  }
  async function killOne() {
    const alive = workers.filter((worker) => !worker.dead && worker.jobs.size > 0);
    const victim = alive.length > 0 ? pick(alive) : undefined;
    if (!victim) return;
    kills += 1;
    victim.dead = true; // no new delivery goes to it; its own are redelivered when it exits
    victim.child.kill('SIGKILL');
    const replacement = spawnWorker();
    workers.push(replacement);
    await replacement.ready;
  }
  async function restartStore() {
    if (restarted || restarting) return;
    restarting = true;
    restarted = true;
    await ledgerServer.outage(1_500);
    restarting = false;
  }

  const started = performance.now();
  // At most this many refunds in flight; each one's copies a little after it (two at about the
  // same moment, a third later, as a redelivery).
  const window = workerCount * 8;
  let next = 0;
  const pump = () => {
    while (next < refunds.length && next - settledCount < window) {
      const refund = refunds[next++] as Refund;
      if (refund.job.sabotage === 'ended neither applied nor flagged ambiguous in the ledger') {
        settle(refund, 'gave up');
        continue;
      }
      deliver(refund);
      for (let copy = 1; copy <= refund.copies; copy++) later(refund, copy === 1 ? Math.floor(rng() * 20) : 500 + Math.floor(rng() * 1_500));
    }
    if (settledCount < refunds.length) setTimeout(pump, 10);
  };
  pump();
  await allSettled;
  // Copies scheduled or in flight are made and finish (or are lost) before judging: a send in
  // flight is a state the ledger rightly holds as in_flight.
  const quiet = Date.now() + 120_000;
  while (refunds.some((refund) => refund.inFlight > 0 || refund.scheduled > 0) && Date.now() < quiet) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const timer of timers) clearTimeout(timer);
  const elapsed = (performance.now() - started) / 1000;
  finishing = true;
  for (const worker of workers) {
    if (worker.dead) continue;
    worker.dead = true;
    worker.child.disconnect();
  }
  await emulator.emulator.idle();

  // ---- judge ---------------------------------------------------------------------------------------
  const broken = Object.fromEntries(INVARIANTS.map((name) => [name, 0])) as Record<Invariant, number>;
  const culprits: string[] = [];
  const blame = (name: Invariant, refund: Refund, detail: unknown) => {
    broken[name] += 1;
    if (culprits.filter((line) => line.startsWith(name)).length < 3) culprits.push(`${name}: ${JSON.stringify(refund.job)} fault=${refund.fault} answers=${JSON.stringify(refund.answers)} ${JSON.stringify(detail)}`);
  };
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 2 });
  redis.on('error', () => {});
  const pool = postgresServer ? new pg.Pool({ connectionString: postgresServer.url }) : undefined;
  const ledger = store === 'redis' ? redisLedger(redis) : postgresLedger(pool as pg.Pool);
  const entries = new Map<string, LedgerEntry>();
  for (const entry of await ledger.list({ limit: 1_000_000 })) entries.set(entry.idempotencyKey, entry);
  let applied = 0;
  let held = 0;
  let replays = 0;
  for (const refund of refunds) {
    const { job } = refund;
    const at = emulator.ledger.refunds({ provider: job.vendor, conversionId: job.conversionId });
    const key = job.way === 'refund()' ? job.refundId : await deriveIdempotencyKey({ provider: { provider: job.vendor }, conversionId: job.conversionId, refundId: job.refundId });
    const entry = entries.get(key);
    replays += refund.answers.filter((answer) => answer.ok && answer.duplicate).length;
    if (at.length > 0) applied += 1;
    if (entry?.state === 'ambiguous') held += 1;
    if (at.length > 1) blame('applied twice', refund, at);
    const asked = job.amount?.value ?? refund.sale;
    if (at.length > 0 && at.some((one) => one.amount !== asked)) blame('amount applied differs from the amount asked', refund, at);
    if (refund.settled === 'ok' && at.length === 0) blame('reported done but not applied', refund, entry);
    if (at.length === 0 && entry?.state !== 'ambiguous') blame('ended neither applied nor flagged ambiguous in the ledger', refund, entry);
    if (at.length > 0 && entry?.state !== 'applied' && entry?.state !== 'ambiguous') blame('applied, but the ledger does not say so', refund, entry);
    if (refund.answers.some((answer) => !answer.ok && answer.untyped)) blame('untyped errors', refund, refund.answers);
  }
  broken["429s from the emulator's own rate limit"] = Object.values(emulator.emulator.counts.rateLimited).reduce((a, b) => a + b, 0);
  // Every byte either store holds, searched for every API key.
  const keys = Object.values(EMULATOR_API_KEYS);
  const dump: string[] = [];
  for (let cursor = '0'; ; ) {
    const [nextCursor, found] = await redis.scan(cursor, 'COUNT', 1_000);
    for (const name of found) {
      const type = await redis.type(name);
      dump.push(name, JSON.stringify(type === 'hash' ? await redis.hgetall(name) : type === 'list' ? await redis.lrange(name, '0', '-1') : type === 'zset' ? await redis.zrange(name, '0', '-1') : await redis.get(name)));
    }
    cursor = nextCursor;
    if (cursor === '0') break;
  }
  if (pool) dump.push(JSON.stringify((await pool.query('SELECT * FROM clawback_refund_ledger')).rows));
  const everything = dump.join('\n');
  broken['a secret in the store'] = keys.filter((key) => everything.includes(key)).length;

  redis.disconnect();
  await pool?.end();
  await emulator.close();
  await Promise.all([redisServer.stop(), postgresServer?.stop()]);
  bundle.remove();

  // ---- report --------------------------------------------------------------------------------------
  const line = (label: string, value: number | string) => console.log(`  ${label.padEnd(58, '.')} ${value}`);
  console.log(`chaos fleet · seed ${seed} · ${total} refunds over ${workerCount} worker processes · ledger on ${store}, rate budget on Redis · ${elapsed.toFixed(1)} s${sabotage ? ' · SABOTAGED' : ''}`);
  console.log('what was done to it');
  line('deliveries (each refund to 2 or 3 workers, again while retryable)', deliveredTotal);
  line('refunds delivered to two workers at about the same moment', refunds.filter((refund) => refund.copies >= 1).length);
  line('  and to a third one later', refunds.filter((refund) => refund.copies >= 2).length);
  line('workers killed (SIGKILL) and replaced', kills);
  line('workers that exited on their own (replaced)', unexpectedExits.length);
  line(`${store} restarted in the middle`, restarted ? 'once' : 'no');
  line('faults injected', refunds.filter((refund) => refund.fault !== 'none').length);
  console.log('what happened');
  line('requests that reached the vendor', Object.values(emulator.emulator.counts.requests).reduce((a, b) => a + b, 0));
  line('refunds applied (emulator ledger)', applied);
  line('replays answered from the ledger or the vendor (duplicate)', replays);
  line('held ambiguous in the ledger for an operator', held);
  console.log('invariants (all must be 0)');
  for (const name of INVARIANTS) line(name, broken[name]);
  const failed = INVARIANTS.filter((name) => broken[name] > 0);
  if (!sabotage) {
    mkdirSync('test-results', { recursive: true });
    writeFileSync(`test-results/chaos-fleet-${store}.json`, JSON.stringify({ passed: INVARIANTS.length - failed.length, failed: failed.length }));
  }
  if (failed.length > 0) {
    console.error(`\nBROKEN: ${failed.join(', ')} (reproduce with --fleet --seed ${seed} --refunds ${total} --workers ${workerCount} --store ${store}${sabotage ? ' --sabotage' : ''})`);
    if (!sabotage) for (const culprit of culprits) console.error(culprit);
    return 1;
  }
  console.log(`\nchaos fleet: ${total} refunds, 0 invariants broken`);
  return 0;
}
