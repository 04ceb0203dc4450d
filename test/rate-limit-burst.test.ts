// Over real loopback HTTP and without msw (whose interception would slow every request): a
// burst against the emulator's own rate limit.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAffixo, refund, type FetchFunction, type RateLimit } from '../src/index.js';
import { EMULATOR_API_KEYS, startEmulator, type RunningEmulator } from '../src/testing/index.js';

const BURST = 1_000;
const perSecond = { limit: 250, interval: 1_000 };
// For the control: a window no burst can outlast however slow the machine, so the number
// refused does not depend on how fast requests arrive.
const perMinute = { limit: 250, interval: 60_000 };
let emulators: { perSecond: RunningEmulator; perMinute: RunningEmulator };
beforeAll(async () => {
  const seed = { affixo: [{ id: 'o', sale: { value: 1_000, currency: 'USD' } }] };
  emulators = {
    perSecond: await startEmulator({ seed, rateLimits: { affixo: perSecond } }),
    perMinute: await startEmulator({ seed, rateLimits: { affixo: perMinute } }),
  };
});
afterAll(() => Promise.all(Object.values(emulators).map((emulator) => emulator.close())));

/** Fires `BURST` refunds at once and counts the 429s the emulator answered. */
async function burst(emulator: RunningEmulator, rateLimit: RateLimit | false): Promise<number> {
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
  await Promise.all(Array.from({ length: BURST }, () => refund({ provider, conversionId: 'o' }).catch(() => undefined)));
  expect(statuses).toHaveLength(BURST);
  return statuses.filter((status) => status === 429).length;
}

it(`keeps a burst of ${BURST} calls under the emulated limit: no 429 at all`, async () => {
  expect(await burst(emulators.perSecond, perSecond)).toBe(0);
}, 120_000);

it('the same burst without the client-side limit is refused in part (so the test above can fail)', async () => {
  expect(await burst(emulators.perMinute, false)).toBe(BURST - perMinute.limit);
}, 120_000);
