import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, TimeoutError, createAffixo, refund } from '../src/index.js';
import { empty, json, mockPost, useVendorMock } from './support/vendor-mock.js';
import { vendors } from './support/vendors.js';

useVendorMock();

const [affixo] = vendors;
if (!affixo) throw new Error('vendor table is empty');

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Records every timer clawback's own code (src/) starts from now on, and forgets it when it
 * fires or is cleared, so the test can count the ones still pending. It observes the globals;
 * the code under test is real. (Undici's keep-alive timers are the connection pool's, not ours.)
 */
function trackTimers(): { pending: () => string[] } {
  const pending = new Map<unknown, string>();
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSetTimeout(() => {
      pending.delete(handle);
      callback(...args);
    }, ms);
    const origin = new Error().stack?.split('\n').find((frame) => frame.includes('/src/'));
    if (origin) pending.set(handle, `${ms} ms from${origin.trim().replace(/^at /, ' ')}`);
    return handle;
  }) as typeof setTimeout);
  vi.spyOn(globalThis, 'clearTimeout').mockImplementation((handle) => {
    pending.delete(handle);
    realClearTimeout(handle);
  });
  return { pending: () => [...pending.values()] };
}
afterEach(() => vi.restoreAllMocks());
/** A reply that arrives after `ms`, from a timer that has fired by the time the test counts. */
const slow = (ms: number) => () => pause(ms).then(() => Response.json({ ok: true }));

describe('nothing is left running after a call', () => {
  it('no timer stays behind: default timeouts, timeouts and retries, aborts, rate-limit waits', async () => {
    const timers = trackTimers();
    const provider = createAffixo({ apiKey: 'sa_live_x_0001', rateLimit: { limit: 1, interval: 60_000 } });

    // A plain success: the 30 s per-attempt timer must be cleared, not left to fire.
    mockPost(affixo.url, affixo.ok);
    await refund({ provider: affixo.create(), conversionId: 'o' });

    // A timeout, then a retry that succeeds (the backoff timer fires and is gone).
    mockPost(affixo.url, slow(150), affixo.ok);
    await refund({ provider: affixo.create({ timeout: 50 }), conversionId: 'o' });

    // An abort in flight, and an abort during the backoff (its 5 s timer must be cleared).
    mockPost(affixo.url, slow(150));
    const inFlight = new AbortController();
    setTimeout(() => inFlight.abort(), 20);
    expect(await refund({ provider: affixo.create(), conversionId: 'o', signal: inFlight.signal }).catch((e) => e)).toBeInstanceOf(AbortedError);
    mockPost(affixo.url, json({ error: 'conversion_failed' }, 500, { 'retry-after': '5' }));
    const backoff = new AbortController();
    setTimeout(() => backoff.abort(), 50);
    expect(await refund({ provider: affixo.create(), conversionId: 'o', signal: backoff.signal }).catch((e) => e)).toBeInstanceOf(AbortedError);

    // A call waiting on the rate limit for a minute, aborted, and one turned away by its deadline.
    mockPost(affixo.url, empty(200));
    await refund({ provider, conversionId: 'o' }).catch(() => undefined);
    const waiting = new AbortController();
    setTimeout(() => waiting.abort(), 20);
    expect(await refund({ provider, conversionId: 'o', signal: waiting.signal }).catch((e) => e)).toBeInstanceOf(AbortedError);
    expect(await refund({ provider, conversionId: 'o', totalTimeout: 100 }).catch((e) => e)).toBeInstanceOf(TimeoutError);

    await pause(200); // let the slow replies' own timers fire
    expect(timers.pending()).toEqual([]);
  });
});
