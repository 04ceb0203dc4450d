// The rate budget on real Redis (redisRateLimitStore): provider instances with their own Redis
// connections (as separate processes have) keep to the vendor's limit together, against the
// emulator enforcing it; a slot in flight holds until its request completes, and one held by a
// process that died frees when its lease ends; with Redis away, each paces itself alone, warning.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAffixo, refund } from 'clawback';
import { redisRateLimitStore } from 'clawback/redis';
import { EMULATOR_API_KEYS, startEmulator, type RunningEmulator } from 'clawback/testing';
import { startRedis, type RunningServer } from '../support/servers.mjs';

const run = Math.random().toString(36).slice(2, 8);
const clients: Redis[] = [];
const client = (url = inject('redisUrl')) => {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => {}); // a server stopped on purpose: ioredis reconnects
  clients.push(redis);
  return redis;
};
afterAll(() => clients.forEach((redis) => redis.disconnect()));

describe('redisRateLimitStore', () => {
  let emulator: RunningEmulator;
  const limit = { limit: 20, interval: 1_000 };
  beforeAll(async () => {
    emulator = await startEmulator({ rateLimits: { affixo: limit } });
    emulator.emulator.seed({ affixo: Array.from({ length: 120 }, (_, index) => ({ id: `order_${index}`, sale: { value: 1_000, currency: 'USD' } })) });
  });
  afterAll(() => emulator.close());

  it('eight instances, each with its own Redis connection, meet no 429 from a vendor enforcing the limit; apart, they do', async () => {
    const instances = (shared: boolean) =>
      Array.from({ length: 8 }, () =>
        createAffixo({
          apiKey: EMULATOR_API_KEYS.affixo,
          baseURL: emulator.baseURLs.affixo,
          rateLimit: limit,
          maxRetries: 0,
          ...(shared ? { rateLimitStore: redisRateLimitStore(client(), { prefix: `budget-${run}:` }) } : {}),
        }),
      );
    const burst = async (providers: ReturnType<typeof instances>, from: number) => {
      const before = emulator.emulator.counts.rateLimited.affixo;
      await Promise.all(
        Array.from({ length: 60 }, (_, index) => refund({ provider: providers[index % 8] as (typeof providers)[number], conversionId: `order_${from + index}` }).catch(() => undefined)),
      );
      return emulator.emulator.counts.rateLimited.affixo - before;
    };
    expect(await burst(instances(true), 0)).toBe(0);
    // The control, after the emulator's window has passed: the same instances pacing themselves alone.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await burst(instances(false), 60)).toBeGreaterThan(0);
  });

  it('a slot in flight holds the next one until its request completes; one whose process died frees when its lease ends', async () => {
    const store = redisRateLimitStore(client(), { prefix: `slots-${run}:` });
    const one = [{ limit: 1, interval: 50 }];
    const warn = () => {};
    const first = await store.take('budget', one, { leaseMs: 300, warn });
    expect(first.taken).toBe(true);
    expect(await store.take('budget', one, { leaseMs: 300, warn })).toEqual({ taken: false, retryIn: undefined });
    await store.complete('budget', one, first.taken ? first.token : undefined);
    const after = await store.take('budget', one, { leaseMs: 300, warn });
    expect(after.taken === false && after.retryIn).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Taken, and never completed: its process died.
    expect((await store.take('budget', one, { leaseMs: 300, warn })).taken).toBe(true);
    expect((await store.take('budget', one, { leaseMs: 300, warn })).taken).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300 + 60));
    expect((await store.take('budget', one, { leaseMs: 300, warn })).taken).toBe(true);
  });

  it('with Redis away, each process paces itself alone, warning through the logger; when it is back, the budget is shared again', async () => {
    const own: RunningServer = await startRedis();
    const vendor = await startEmulator({ rateLimits: { affixo: false } });
    vendor.emulator.seed({ affixo: [{ id: 'order_100', sale: { value: 1_000, currency: 'USD' } }, { id: 'order_101', sale: { value: 1_000, currency: 'USD' } }] });
    try {
      const redis = client(own.url);
      await new Promise((resolve) => redis.once('ready', resolve));
      const warnings: string[] = [];
      const provider = createAffixo({
        apiKey: EMULATOR_API_KEYS.affixo,
        baseURL: vendor.baseURLs.affixo,
        rateLimit: { limit: 100, interval: 1_000 },
        rateLimitStore: redisRateLimitStore(redis),
        logger: { warn: (message) => warnings.push(message) },
        maxRetries: 0,
      });
      await own.down();
      await expect(refund({ provider, conversionId: 'order_100' })).resolves.toMatchObject({ status: 'refunded' });
      expect(warnings).toEqual([expect.stringMatching(/^clawback: the shared rate limit store failed \((Redis is not connected|no answer within 1000 ms)[^)]*\)+; this process paces itself alone/)]);
      await own.up();
      await new Promise((resolve) => (redis.status === 'ready' ? resolve(undefined) : redis.once('ready', resolve)));
      await expect(refund({ provider, conversionId: 'order_101' })).resolves.toMatchObject({ status: 'refunded' });
      expect(warnings.at(-1)).toBe('clawback: the shared rate limit store answers again; the fleet shares one budget again');
      expect((await redis.keys('clawback:rate:*')).length).toBeGreaterThan(0);
    } finally {
      await Promise.all([own.stop(), vendor.close()]);
    }
  });
});
