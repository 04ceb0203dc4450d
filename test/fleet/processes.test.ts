// The ledger across real processes, on Redis and on PostgreSQL: several processes claiming one
// RefCampaign partial refund at the same moment send it once; a process killed (SIGKILL) after
// its request reached the vendor and before it recorded the outcome leaves its key held for an
// operator (RefCampaign partial) or sent again with the same key (Affixo); and with the store
// stopped in the middle of a run nothing is sent without a claim, and the run completes once
// it is back.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LedgerUnavailableError, createRefCampaign, refund, type RefundLedger } from 'clawback';
import { postgresLedger } from 'clawback/postgres';
import { redisLedger } from 'clawback/redis';
import { EMULATOR_API_KEYS, startEmulator, type RunningEmulator } from 'clawback/testing';
import { startPostgres, startRedis, type RunningServer } from '../support/servers.mjs';
import { compileWorker, startWorker, type WorkerJob } from './workers.js';

const run = Math.random().toString(36).slice(2, 8);
let worker: Awaited<ReturnType<typeof compileWorker>>;
let emulator: RunningEmulator;
beforeAll(async () => {
  [worker, emulator] = await Promise.all([compileWorker(), startEmulator({ rateLimits: { affixo: false, refcampaign: false } })]);
});
afterAll(async () => {
  worker.remove();
  await emulator.close();
});

let conversions = 0;
/** A fresh conversion at the emulator, with an approved commission (RefCampaign refunds only those). */
function conversion(vendor: 'affixo' | 'refcampaign'): string {
  const id = `order_${run}_${(conversions += 1)}`;
  emulator.emulator.seed({ [vendor]: [{ id, sale: { value: 10_000, currency: 'USD' }, commission: 3_000, commissionStatus: 'approved' }] });
  return id;
}
const refundsOf = (vendor: 'affixo' | 'refcampaign', conversionId: string) => emulator.ledger.refunds({ provider: vendor }).filter((entry) => entry.conversionId === conversionId);
const requestsTo = (vendor: 'affixo' | 'refcampaign') => emulator.emulator.counts.requests[vendor];

describe.each([
  { store: 'redis' as const, url: () => inject('redisUrl'), namespace: `processes-${run}:` },
  { store: 'postgres' as const, url: () => inject('postgresUrl'), namespace: `processes_${run}` },
])('across processes, on $store', ({ store, url, namespace }) => {
  const job = (vendor: 'affixo' | 'refcampaign', conversionId: string, fields: Partial<WorkerJob> = {}): WorkerJob => ({
    store,
    storeUrl: url(),
    namespace,
    vendor,
    baseURL: emulator.baseURLs[vendor],
    apiKey: EMULATOR_API_KEYS[vendor],
    conversionId,
    idempotencyKey: `re_${conversionId}`,
    totalTimeout: 10_000,
    ...(vendor === 'refcampaign' ? { amount: { value: 2_500, currency: 'USD' } } : {}),
    ...fields,
  });

  it('six processes claim one RefCampaign partial refund at the same moment: exactly one request reaches the vendor', async () => {
    const conversionId = conversion('refcampaign');
    const before = requestsTo('refcampaign');
    const workers = Array.from({ length: 6 }, () => startWorker(worker.file, job('refcampaign', conversionId)));
    await Promise.all(workers.map((one) => one.ready));
    for (const one of workers) one.go();
    const outcomes = await Promise.all(workers.map((one) => one.outcome));
    expect(requestsTo('refcampaign') - before).toBe(1);
    expect(refundsOf('refcampaign', conversionId).map((entry) => entry.amount)).toEqual([2_500]);
    // One sent it; the others waited for its outcome and resolved to it.
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, true, true, true, true]);
    expect(outcomes.filter((outcome) => outcome.duplicate === false)).toHaveLength(1);
  });

  it('a process killed after its request reached the vendor: a RefCampaign partial refund is held (ambiguous, not retryable), nothing sent again', async () => {
    const conversionId = conversion('refcampaign');
    // The vendor applies the refund, then is slow to answer: the process dies before it records.
    emulator.inject({ provider: 'refcampaign', conversionId, afterApply: true, delay: 30_000 });
    const victim = startWorker(worker.file, job('refcampaign', conversionId, { totalTimeout: 1_500 }));
    await victim.ready;
    victim.go();
    await until(() => refundsOf('refcampaign', conversionId).length === 1);
    victim.outcome.catch(() => {}); // it never answers: killed
    victim.child.kill('SIGKILL');
    const sent = requestsTo('refcampaign');
    await new Promise((resolve) => setTimeout(resolve, 3_200)); // its lease: 1.5 s + 1.5 s
    for (let time = 0; time < 2; time += 1) {
      const next = startWorker(worker.file, job('refcampaign', conversionId));
      await next.ready;
      next.go();
      const outcome = await next.outcome;
      expect(outcome).toMatchObject({ ok: false, name: 'UnsettledRefundError', ambiguous: true, retryable: false });
      expect(outcome.message).toMatch(/the process sending it stopped before recording how it ended.*clawback ledger resolve refcampaign:[0-9a-f]+:re_/);
    }
    expect(requestsTo('refcampaign')).toBe(sent);
    expect(refundsOf('refcampaign', conversionId)).toHaveLength(1);
  });

  it('a process killed after its request reached the vendor: Affixo (which deduplicates) gets it again, once, with the same key', async () => {
    const conversionId = conversion('affixo');
    emulator.inject({ provider: 'affixo', conversionId, afterApply: true, delay: 30_000 });
    const victim = startWorker(worker.file, job('affixo', conversionId, { totalTimeout: 1_500 }));
    await victim.ready;
    victim.go();
    await until(() => refundsOf('affixo', conversionId).length === 1);
    victim.outcome.catch(() => {}); // it never answers: killed
    victim.child.kill('SIGKILL');
    const sent = requestsTo('affixo');
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    const next = startWorker(worker.file, job('affixo', conversionId));
    await next.ready;
    next.go();
    const outcome = await next.outcome;
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
    expect(requestsTo('affixo') - sent).toBe(1);
    expect(refundsOf('affixo', conversionId)).toHaveLength(1); // Affixo reversed it once
  });
});

describe.each([
  { store: 'redis', start: () => startRedis() },
  { store: 'postgres', start: () => startPostgres() },
])('$store stopped in the middle of a run', ({ store, start }) => {
  let server: RunningServer;
  let ledger: RefundLedger;
  let close: () => Promise<unknown>;
  beforeAll(async () => {
    server = await start();
    if (store === 'redis') {
      const redis = new Redis(server.url, { maxRetriesPerRequest: null });
      redis.on('error', () => {});
      ledger = redisLedger(redis);
      close = async () => redis.disconnect();
    } else {
      const pool = new pg.Pool({ connectionString: server.url, connectionTimeoutMillis: 1_000 });
      pool.on('error', () => {});
      ledger = postgresLedger(pool);
      close = () => pool.end();
    }
  }, 60_000);
  afterAll(async () => {
    await close();
    await server.stop();
  });

  it('nothing is sent without a claim (each call fails retryable, not ambiguous, within its budget); when it is back, the run completes, each refund once', async () => {
    const provider = createRefCampaign({ apiKey: EMULATOR_API_KEYS.refcampaign, baseURL: emulator.baseURLs.refcampaign, ledger, rateLimit: false, maxRetries: 0 });
    const ids = Array.from({ length: 12 }, () => conversion('refcampaign'));
    const send = (conversionId: string) =>
      refund({ provider, conversionId, amount: { value: 2_500, currency: 'USD' }, idempotencyKey: `re_${conversionId}`, totalTimeout: 2_000 }).then(
        () => 'applied',
        (error: Error & { ambiguous: boolean; retryable: boolean }) => (LedgerUnavailableError.isInstance(error) && error.retryable && !error.ambiguous ? 'unavailable' : `${error.name}: ${error.message}`),
      );
    const first = await Promise.all(ids.slice(0, 4).map(send));
    expect(first).toEqual(['applied', 'applied', 'applied', 'applied']);
    await server.down();
    const sentBefore = requestsTo('refcampaign');
    const started = performance.now();
    const during = await Promise.all(ids.slice(4).map(send));
    expect(during.every((outcome) => outcome === 'unavailable')).toBe(true);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(requestsTo('refcampaign')).toBe(sentBefore);
    await server.up();
    // No claim made during the outage runs once the clients reconnect (ioredis would have queued
    // it, and BullMQ-style clients retry for ever): the refunds never sent have no entry.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const entries = await untilReachable(() => ledger.list({ limit: 1_000 }));
    expect(entries.filter((entry) => ids.slice(4).includes(entry.conversionId))).toEqual([]);
    // The run again, as a webhook's redelivery or a resumed batch would: what was applied replays.
    const again = await untilSettled(() => Promise.all(ids.map(send)));
    expect(again).toEqual(ids.map(() => 'applied'));
    for (const id of ids) expect(refundsOf('refcampaign', id)).toHaveLength(1);
  });
});

/** Polls until `condition` holds (10 s at most). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `read` once the store answers again (its clients reconnect in their own time), 15 s at most. */
async function untilReachable<T>(read: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Runs `attempt` until no outcome is "unavailable" (the store's clients reconnect in their own time), 15 s at most. */
async function untilSettled(attempt: () => Promise<string[]>): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const outcomes = await attempt();
    if (!outcomes.includes('unavailable') || Date.now() > deadline) return outcomes;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
