// One suite for every ledger store: memoryLedger, and redisLedger and postgresLedger on real
// servers. Each must apply the same rules (decideClaim, decideRecord, decideResolve) atomically,
// on its own clock, keep no secret, and forget entries after retentionMs.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ValidationError, createAffixo, memoryLedger, refund, type ClaimRequest, type LedgerKey, type RefundLedger } from 'clawback';
import { POSTGRES_LEDGER_SQL, postgresLedger, postgresLedgerSql } from 'clawback/postgres';
import { redisLedger } from 'clawback/redis';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';

const run = Math.random().toString(36).slice(2, 8);
const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
redis.on('error', () => {});
const pool = new pg.Pool({ connectionString: inject('postgresUrl'), max: 30 });
afterAll(async () => {
  redis.disconnect();
  await pool.end();
});

interface Store {
  name: string;
  make(options?: { retentionMs?: number }): RefundLedger;
  /** Every byte the store holds for this test file, to scan for secrets. */
  dump(): Promise<string>;
}

let tables = 0;
const stores: Store[] = [
  { name: 'memoryLedger', make: (options) => memoryLedger(options), dump: async () => '' },
  {
    name: 'redisLedger',
    make: (options) => redisLedger(redis, { ...options, prefix: `stores-${run}-${(tables += 1)}:` }),
    dump: async () => {
      const keys = await redis.keys(`stores-${run}-*`);
      const values = await Promise.all(keys.map(async (key): Promise<unknown> => ((await redis.type(key)) === 'hash' ? redis.hgetall(key) : redis.zrange(key, '0', '-1'))));
      return JSON.stringify([keys, values]);
    },
  },
  {
    name: 'postgresLedger',
    make: (options) => postgresLedger(pool, { ...options, table: `ledger_${run}_${(tables += 1)}` }),
    dump: async () => {
      const { rows } = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'ledger_${run}_%'`);
      const contents = await Promise.all(rows.map(({ table_name }) => pool.query(`SELECT * FROM ${table_name as string}`).then((result) => result.rows)));
      return JSON.stringify(contents);
    },
  },
];

let keys = 0;
const freshKey = (): LedgerKey => ({ provider: 'refcampaign', account: 'a1b2c3', idempotencyKey: `re_${run}_${(keys += 1)}` });
const request = (fields: Partial<ClaimRequest> = {}): ClaimRequest => ({
  holder: 'holder-1',
  leaseMs: 30_000,
  deadline: Date.now() + 30_000,
  dedupes: false,
  conversionId: 'order_1',
  amount: { value: 500, currency: 'USD' },
  ...fields,
});
const result = (idempotencyKey: string) => ({
  provider: 'refcampaign' as const,
  conversionId: 'order_1',
  status: 'accepted' as const,
  duplicate: false,
  idempotencyKey,
  amount: { value: 500, currency: 'USD' },
  warnings: [],
  raw: { success: true },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(stores)('$name', (store) => {
  const ledger = store.make();

  it('claims a fresh key once; another holder finds it busy until the lease ends', async () => {
    const key = freshKey();
    expect(await ledger.claim(key, request())).toEqual({ outcome: 'claimed' });
    const busy = await ledger.claim(key, request({ holder: 'holder-2' }));
    expect(busy.outcome).toBe('busy');
    expect(busy.outcome === 'busy' && busy.retryIn).toBeGreaterThan(25_000);
    const [entry] = (await ledger.list()).filter((one) => one.idempotencyKey === key.idempotencyKey);
    expect(entry).toMatchObject({ state: 'in_flight', holder: 'holder-1', attempts: 1, conversionId: 'order_1', amount: { value: 500, currency: 'USD' } });
  });

  it('at once, twenty holders claim one key: exactly one is told to send', async () => {
    const key = freshKey();
    const claims = await Promise.all(Array.from({ length: 20 }, (_, index) => ledger.claim(key, request({ holder: `holder-${index}` }))));
    expect(claims.filter((claim) => claim.outcome === 'claimed')).toHaveLength(1);
    expect(claims.filter((claim) => claim.outcome === 'busy')).toHaveLength(19);
  });

  it('records applied (replayed to later claims), ignores a holder that no longer holds it, and releases not_applied', async () => {
    const key = freshKey();
    await ledger.claim(key, request());
    await ledger.record(key, 'someone-else', { state: 'applied', result: result(key.idempotencyKey) }, Date.now() + 5_000);
    expect((await ledger.claim(key, request({ holder: 'holder-2' }))).outcome).toBe('busy');
    await ledger.record(key, 'holder-1', { state: 'applied', result: result(key.idempotencyKey) }, Date.now() + 5_000);
    const replay = await ledger.claim(key, request({ holder: 'holder-3' }));
    expect(replay).toMatchObject({ outcome: 'applied', entry: { state: 'applied', result: result(key.idempotencyKey) } });

    const released = freshKey();
    await ledger.claim(released, request());
    await ledger.record(released, 'holder-1', { state: 'not_applied' }, Date.now() + 5_000);
    expect(await ledger.claim(released, request({ holder: 'holder-2' }))).toEqual({ outcome: 'claimed' });
  });

  it('a holder that died: taken over where the vendor deduplicates, ambiguous where it cannot', async () => {
    const dedupes = freshKey();
    await ledger.claim(dedupes, request({ leaseMs: 1, dedupes: true }));
    await sleep(20);
    expect(await ledger.claim(dedupes, request({ holder: 'holder-2', dedupes: true }))).toEqual({ outcome: 'claimed', retake: 'in_flight' });
    expect((await ledger.list()).find((one) => one.idempotencyKey === dedupes.idempotencyKey)).toMatchObject({ holder: 'holder-2', attempts: 2 });

    const partial = freshKey();
    await ledger.claim(partial, request({ leaseMs: 1 }));
    await sleep(20);
    const claim = await ledger.claim(partial, request({ holder: 'holder-2' }));
    expect(claim).toMatchObject({ outcome: 'ambiguous', entry: { state: 'ambiguous', error: 'the process sending it stopped before recording how it ended' } });
    expect((await ledger.claim(partial, request({ holder: 'holder-3' }))).outcome).toBe('ambiguous');
  });

  it('takes leases and deadlines that are not whole milliseconds (a call\'s remaining budget), on every path', async () => {
    const key = freshKey();
    expect(await ledger.claim(key, request({ leaseMs: 1.7, deadline: Date.now() + 5_000.3, dedupes: true }))).toEqual({ outcome: 'claimed' });
    await sleep(20);
    expect(await ledger.claim(key, request({ holder: 'holder-2', leaseMs: 10_000.4, deadline: Date.now() + 5_000.6, dedupes: true }))).toEqual({ outcome: 'claimed', retake: 'in_flight' });
    await ledger.record(key, 'holder-2', { state: 'applied', result: result(key.idempotencyKey) }, Date.now() + 5_000.5);
    const fresh = freshKey();
    expect(await ledger.claim(fresh, request({ leaseMs: 1_000.2, deadline: Date.now() + 5_000.7 }))).toEqual({ outcome: 'claimed' });
    await ledger.record(fresh, 'holder-1', { state: 'not_applied' }, Date.now() + 5_000.5);
    expect(await ledger.claim(fresh, request({ holder: 'holder-3', leaseMs: 1_000.2 }))).toEqual({ outcome: 'claimed' });
  });

  it('an ambiguous outcome: sent again where the vendor deduplicates, held where it cannot', async () => {
    const key = freshKey();
    await ledger.claim(key, request());
    await ledger.record(key, 'holder-1', { state: 'ambiguous', error: 'RefCampaign answered 500' }, Date.now() + 5_000);
    expect(await ledger.claim(key, request({ holder: 'holder-2' }))).toMatchObject({ outcome: 'ambiguous', entry: { error: 'RefCampaign answered 500' } });
    expect(await ledger.claim(key, request({ holder: 'holder-3', dedupes: true }))).toEqual({ outcome: 'claimed', retake: 'ambiguous' });
  });

  it('a taken-over entry whose send ends not applied goes back to ambiguous: an earlier send may have applied it', async () => {
    const died = freshKey();
    await ledger.claim(died, request({ leaseMs: 1, dedupes: true }));
    await sleep(20);
    await ledger.claim(died, request({ holder: 'holder-2', dedupes: true }));
    await ledger.record(died, 'holder-2', { state: 'not_applied' }, Date.now() + 5_000);
    expect(await ledger.claim(died, request({ holder: 'holder-3' }))).toMatchObject({ outcome: 'ambiguous', entry: { error: 'the process sending it stopped before recording how it ended' } });

    const ambiguous = freshKey();
    await ledger.claim(ambiguous, request());
    await ledger.record(ambiguous, 'holder-1', { state: 'ambiguous', error: 'Affixo answered 500' }, Date.now() + 5_000);
    await ledger.claim(ambiguous, request({ holder: 'holder-2', dedupes: true }));
    await ledger.record(ambiguous, 'holder-2', { state: 'not_applied' }, Date.now() + 5_000);
    const [entry] = (await ledger.list({ state: 'ambiguous' })).filter((one) => one.idempotencyKey === ambiguous.idempotencyKey);
    expect(entry).toMatchObject({ state: 'ambiguous', error: 'Affixo answered 500', attempts: 2 });
  });

  it('a claim or record reaching the store after its deadline does nothing', async () => {
    const key = freshKey();
    expect(await ledger.claim(key, request({ deadline: Date.now() - 1 }))).toEqual({ outcome: 'late' });
    expect((await ledger.list()).some((one) => one.idempotencyKey === key.idempotencyKey)).toBe(false);
    await ledger.claim(key, request());
    await ledger.record(key, 'holder-1', { state: 'applied', result: result(key.idempotencyKey) }, Date.now() - 1);
    expect((await ledger.claim(key, request({ holder: 'holder-2' }))).outcome).toBe('busy');
  });

  it('lists by state, newest change first; an operator settles ambiguous entries, and only those', async () => {
    const [first, second] = [freshKey(), freshKey()];
    for (const key of [first, second]) {
      await ledger.claim(key, request());
      await ledger.record(key, 'holder-1', { state: 'ambiguous', error: 'a timeout' }, Date.now() + 5_000);
      await sleep(5);
    }
    const ambiguous = await ledger.list({ state: 'ambiguous' });
    const ids = ambiguous.map((entry) => entry.idempotencyKey);
    expect(ids.indexOf(second.idempotencyKey)).toBeLessThan(ids.indexOf(first.idempotencyKey));
    expect(ambiguous.every((entry) => entry.state === 'ambiguous')).toBe(true);
    expect(await ledger.list({ state: 'ambiguous', limit: 1 })).toHaveLength(1);

    const firstId = ambiguous.find((entry) => entry.idempotencyKey === first.idempotencyKey)?.id as string;
    const settled = await ledger.resolve(firstId, 'applied');
    expect(settled).toMatchObject({ state: 'applied', result: { duplicate: true, amount: { value: 500, currency: 'USD' } } });
    expect((await ledger.claim(first, request({ holder: 'holder-9' }))).outcome).toBe('applied');
    await expect(ledger.resolve(firstId, 'not_applied')).rejects.toThrow(/is applied: the vendor confirmed it/);

    const secondId = ambiguous.find((entry) => entry.idempotencyKey === second.idempotencyKey)?.id as string;
    expect(await ledger.resolve(secondId, 'not_applied')).toBeUndefined();
    expect(await ledger.claim(second, request({ holder: 'holder-9' }))).toEqual({ outcome: 'claimed' });
    const busy = await ledger.resolve(secondId, 'not_applied').catch((error: unknown) => error);
    expect(ValidationError.isInstance(busy)).toBe(true);
    expect((busy as Error).message).toMatch(/is being sent by another process right now/);
    await expect(ledger.resolve('refcampaign:a1b2c3:never', 'applied')).rejects.toThrow(/is not in the ledger/);
  });

  it('forgets entries retentionMs after their last change', async () => {
    const short = store.make({ retentionMs: 300 });
    const key = freshKey();
    await short.claim(key, request());
    await short.record(key, 'holder-1', { state: 'applied', result: result(key.idempotencyKey) }, Date.now() + 5_000);
    expect((await short.claim(key, request({ holder: 'holder-2' }))).outcome).toBe('applied');
    await sleep(450);
    expect(await short.claim(key, request({ holder: 'holder-3' }))).toEqual({ outcome: 'claimed' });
  });

  it('stores no secret: the account is a fingerprint of the credentials', async () => {
    const apiKey = `sa_live_secret_${run}_0001`;
    const mock = setupServer(http.post('https://go.affixo.dev/v1/track/refund', () => HttpResponse.json({ ok: true, echoed: 'Bearer [redacted]' })));
    mock.listen({ onUnhandledFrame: 'bypass' });
    try {
      await refund({ provider: createAffixo({ apiKey, ledger, rateLimit: false }), conversionId: 'order_secret' });
    } finally {
      mock.close();
    }
    const [entry] = (await ledger.list()).filter((one) => one.conversionId === 'order_secret');
    expect(entry?.account).toMatch(/^[0-9a-f]{32}$/);
    const everything = JSON.stringify(await ledger.list({ limit: 10_000 })) + (await store.dump());
    expect(everything).toContain('order_secret');
    expect(everything).not.toContain(apiKey);
  });
});

describe('postgresLedger: its table', () => {
  it('is created on first use, safely when many processes start at once (advisory lock)', async () => {
    const table = `ledger_${run}_concurrent`;
    const ledgers = Array.from({ length: 12 }, () => postgresLedger(new pg.Pool({ connectionString: inject('postgresUrl'), max: 2 }), { table }));
    const claims = await Promise.all(ledgers.map((ledger, index) => ledger.claim(freshKey(), request({ holder: `h${index}` }))));
    expect(claims.every((claim) => claim.outcome === 'claimed')).toBe(true);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(rows[0].n).toBe(12);
  });

  it('exports its SQL for teams that run migrations, and takes createTable: false', async () => {
    expect(POSTGRES_LEDGER_SQL).toMatch(/^CREATE TABLE IF NOT EXISTS clawback_refund_ledger \(/);
    const table = `ledger_${run}_migrated`;
    await pool.query(postgresLedgerSql(table));
    const ledger = postgresLedger(pool, { table, createTable: false });
    expect(await ledger.claim(freshKey(), request())).toEqual({ outcome: 'claimed' });
    expect(() => postgresLedgerSql('drop table x;')).toThrow(/must be a lower-case SQL identifier/);
  });
});
