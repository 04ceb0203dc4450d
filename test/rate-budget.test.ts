// A rate budget shared through a store (what clawback/redis gives a fleet; here the in-process
// store, shared by several provider instances as several processes would share Redis): the
// vendor never sees more than `limit` requests in any `interval`, counted across all of them.
// And a shared store that fails gives way to each process's own limiter, with a warning.
import { describe, expect, it } from 'vitest';
import { createAffixo, createFirstPromoter, refund, type RateLimitStore, type Take } from '../src/index.js';
import { memoryRateLimitStore, withLocalFallback } from '../src/core/rate-limiter.js';
import { json, mockPost, useVendorMock } from './support/vendor-mock.js';

useVendorMock();

const AFFIXO_URL = 'https://go.affixo.dev/v1/track/refund';

/** True when no `interval` holds more than `limit` of `times`. */
const withinLimit = (times: readonly number[], limit: number, interval: number) => {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.every((time, index) => index < limit || time - (sorted[index - limit] ?? 0) >= interval);
};

describe('a shared rate budget', () => {
  it('three provider instances sharing a store keep to one budget for their key together', async () => {
    const arrivals: number[] = [];
    mockPost(AFFIXO_URL, () => {
      arrivals.push(performance.now());
      return json({ ok: true })();
    });
    const rateLimitStore = memoryRateLimitStore();
    const limit = { limit: 4, interval: 300 };
    const instances = Array.from({ length: 3 }, () => createAffixo({ apiKey: 'sa_live_shared_budget_0001', rateLimit: limit, rateLimitStore, maxRetries: 0 }));
    await Promise.all(Array.from({ length: 12 }, (_, index) => refund({ provider: instances[index % 3] as ReturnType<typeof createAffixo>, conversionId: `order_${index}` })));
    expect(arrivals).toHaveLength(12);
    expect(withinLimit(arrivals, 4, 300)).toBe(true);
    // The control: without the shared store, each instance has its own budget and together they exceed it.
    arrivals.length = 0;
    const apart = Array.from({ length: 3 }, () => createAffixo({ apiKey: 'sa_live_shared_budget_0001', rateLimit: limit, maxRetries: 0 }));
    await Promise.all(Array.from({ length: 12 }, (_, index) => refund({ provider: apart[index % 3] as ReturnType<typeof createAffixo>, conversionId: `order_${index}` })));
    expect(withinLimit(arrivals, 4, 300)).toBe(false);
  });

  it('is keyed by a fingerprint of what the vendor counts by: the key, or FirstPromoter\'s account', async () => {
    const keys: string[] = [];
    const recording: RateLimitStore = {
      take: (key, limits, context) => (keys.push(key), memoryRateLimitStore().take(key, limits, context)),
      complete: () => {},
    };
    mockPost('https://api.firstpromoter.com/api/v2/track/refund', json({ id: 1 }));
    mockPost(AFFIXO_URL, json({ ok: true }));
    const fp = (apiKey: string) => createFirstPromoter({ apiKey, accountId: 'acc_shared', rateLimitStore: recording, maxRetries: 0 });
    const call = { conversionId: 's', amount: { value: 100, currency: 'USD' }, customer: { uid: 'u' } };
    await refund({ provider: fp('fp_key_one_0001'), ...call });
    await refund({ provider: fp('fp_key_two_0002'), ...call });
    await refund({ provider: createAffixo({ apiKey: 'sa_live_key_one_0001', rateLimitStore: recording, maxRetries: 0 }), conversionId: 'o' });
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]); // one account, two keys: one budget
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys.join()).not.toMatch(/key_one|key_two|acc_shared/);
  });

  it('the local windows a failover starts with are full: nothing is sent for one interval, then the process paces itself alone', async () => {
    const local = memoryRateLimitStore(undefined, { startFull: true });
    const limits = [{ limit: 3, interval: 200 }];
    const first = await local.take('k', limits, { leaseMs: 1_000, warn: () => {} });
    expect(first.taken).toBe(false);
    expect(first.taken === false && first.retryIn).toBeGreaterThan(150);
    await new Promise((resolve) => setTimeout(resolve, 210));
    expect((await local.take('k', limits, { leaseMs: 1_000, warn: () => {} })).taken).toBe(true);
  });

  it('a store that fails (or does not answer) gives way to this process\'s own limiter, warning once per outage', async () => {
    let healthy = false;
    const flaky: RateLimitStore = {
      take: (key, limits, context): Promise<Take> => (healthy ? Promise.resolve(memoryRateLimitStore().take(key, limits, context)) : Promise.reject(new Error('Connection is closed.'))),
      complete: () => {},
    };
    const warnings: string[] = [];
    const calls = mockPost(AFFIXO_URL, json({ ok: true }));
    const provider = createAffixo({
      apiKey: 'sa_live_flaky_0001',
      // The local windows during an outage start full (as if the fleet had used the budget): a
      // short interval here, so the test does not wait a minute.
      rateLimit: { limit: 2, interval: 100 },
      rateLimitStore: withLocalFallback(flaky),
      logger: { warn: (message) => warnings.push(message) },
      maxRetries: 0,
    });
    await refund({ provider, conversionId: 'o1' });
    await refund({ provider, conversionId: 'o2' });
    healthy = true;
    await refund({ provider, conversionId: 'o3' });
    expect(calls).toHaveLength(3);
    expect(warnings).toEqual([
      "clawback: the shared rate limit store failed (Connection is closed.); this process paces itself alone until it is back, so the fleet together may exceed the vendor's limit and meet 429s (which refund nothing)",
      'clawback: the shared rate limit store answers again; the fleet shares one budget again',
    ]);
  });
});
