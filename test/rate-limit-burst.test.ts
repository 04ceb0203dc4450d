// Over real loopback HTTP and without msw (whose interception would slow every request): a
// burst against the emulator's own rate limit.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAffixo, refund, type FetchFunction } from '../src/index.js';
import { EMULATOR_API_KEYS, startEmulator, type RunningEmulator } from '../src/testing/index.js';

const limit = { limit: 500, interval: 1_000 };
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({
    seed: { affixo: [{ id: 'o', sale: { value: 1_000, currency: 'USD' } }] },
    rateLimits: { affixo: limit },
  });
});
afterAll(() => emulator.close());

/** Fires 2,000 refunds at once and counts the 429s the emulator answered. */
async function burst(rateLimit: typeof limit | false): Promise<number> {
  const statuses: number[] = [];
  const recording: FetchFunction = async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
  const provider = createAffixo({
    apiKey: EMULATOR_API_KEYS.affixo,
    baseURL: emulator.baseURLs.affixo,
    fetch: recording,
    rateLimit,
    maxRetries: 0,
  });
  await Promise.all(Array.from({ length: 2_000 }, () => refund({ provider, conversionId: 'o' }).catch(() => undefined)));
  return statuses.filter((status) => status === 429).length;
}

it('keeps a burst of 2,000 calls under the emulated limit: no 429 at all', async () => {
  expect(await burst(limit)).toBe(0);
  // The same burst without the client-side limit: the emulator refuses part of it.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(await burst(false)).toBeGreaterThan(100);
}, 30_000);
