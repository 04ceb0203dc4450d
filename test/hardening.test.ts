import { HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ResponseValidationError,
  ServerError,
  TimeoutError,
  ValidationError,
  createAffixo,
  createAffonso,
  refund,
  type FetchFunction,
} from '../src/index.js';
import { MAX_RESPONSE_BYTES } from '../src/core/response-body.js';
import { memoryRateLimitStore, RateLimiter, type RateLimitStore } from '../src/core/rate-limiter.js';
import { hang, json, mockPost, useVendorMock } from './support/vendor-mock.js';
import { vendors } from './support/vendors.js';

useVendorMock();
afterEach(() => vi.useRealTimers());

const [affixo, affonso] = vendors;
if (!affixo || !affonso) throw new Error('vendor table is incomplete');

/** True when no `interval`-long window of `times` holds more than `limit` of them. */
function withinLimit(times: readonly number[], limit: number, interval: number): boolean {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.every((time, index) => index < limit || time - (sorted[index - limit] ?? 0) >= interval);
}

describe('RateLimiter (in one process)', () => {
  /** Acquires a slot and completes the request at once; resolves to when it was granted. */
  const sendNow = async (limiter: RateLimiter, signal?: AbortSignal, deadline?: number) => {
    const slot = await limiter.acquire(signal, deadline);
    if (slot.outcome === 'acquired') slot.done();
    return slot.outcome === 'acquired' ? performance.now() : slot.outcome;
  };

  it('lets `limit` through at once, then one each time the oldest leaves the window, in order', async () => {
    vi.useFakeTimers();
    const limiter = new RateLimiter([{ limit: 2, interval: 1_000 }]);
    const start = performance.now();
    const granted = Promise.all([0, 1, 2, 3, 4].map(() => sendNow(limiter)));
    await vi.runAllTimersAsync();
    expect((await granted).map((time) => (time as number) - start)).toEqual([0, 0, 1_000, 1_000, 2_000]);
  });

  it('counts the window from when the earlier request completed, not when it was sent', async () => {
    vi.useFakeTimers();
    const limiter = new RateLimiter([{ limit: 1, interval: 100 }]);
    const start = performance.now();
    const first = await limiter.acquire();
    const second = sendNow(limiter);
    await vi.advanceTimersByTimeAsync(500);
    if (first.outcome !== 'acquired') throw new Error('no slot');
    first.done(); // the first request took 500 ms: the second may leave 100 ms after that
    await vi.runAllTimersAsync();
    expect((await second) as number - start).toBe(600);
  });

  it('when many slots free at once in a store that answers over the network, the queue takes them all (not one per poll)', async () => {
    vi.useFakeTimers();
    // A shared store's take is a round trip (2 ms here): while the head waits for its answer,
    // the waiters behind it wake and must look again as soon as it has gone, not 20 ms later.
    const memory = memoryRateLimitStore();
    const store: RateLimitStore = {
      take: (...args) => new Promise((resolve) => setTimeout(() => resolve(memory.take(...args)), 2)),
      complete: (...args) => memory.complete(...args),
    };
    const limiter = new RateLimiter([{ limit: 10, interval: 1_000 }], store);
    const start = performance.now();
    const granted = Promise.all(Array.from({ length: 20 }, () => sendNow(limiter)));
    await vi.runAllTimersAsync();
    const times = ((await granted) as number[]).map((time) => time - start);
    expect(Math.max(...times.slice(0, 10))).toBeLessThan(1_000);
    // The ten queued callers take the ten slots that free at about 1,000 ms within a few round
    // trips of one another (one per 20 ms poll would spread them over 200 ms).
    expect(Math.max(...times.slice(10)) - Math.min(...times.slice(10))).toBeLessThan(50);
  });

  it('honours every window at once (Affonso: per minute and per second)', async () => {
    vi.useFakeTimers();
    const limiter = new RateLimiter([
      { limit: 5, interval: 60_000 },
      { limit: 2, interval: 1_000 },
    ]);
    const granted = Promise.all(Array.from({ length: 7 }, () => sendNow(limiter)));
    await vi.runAllTimersAsync();
    const times = (await granted) as number[];
    expect(withinLimit(times, 2, 1_000)).toBe(true);
    expect(withinLimit(times, 5, 60_000)).toBe(true);
    expect(times[6]! - times[0]!).toBeGreaterThanOrEqual(60_000);
  });

  it('answers aborted or deadline without taking a slot, and lets the next caller through', async () => {
    vi.useFakeTimers();
    const limiter = new RateLimiter([{ limit: 1, interval: 1_000 }]);
    await sendNow(limiter);
    const controller = new AbortController();
    const outcomes = Promise.all([
      sendNow(limiter, controller.signal),
      sendNow(limiter, undefined, performance.now() + 500),
      sendNow(limiter).then((time) => typeof time),
    ]);
    controller.abort();
    await vi.runAllTimersAsync();
    expect(await outcomes).toEqual(['aborted', 'deadline', 'number']);
  });
});

describe('client-side rate limit', () => {
  /** A fetch that records when each request leaves. */
  function recording(): { fetch: FetchFunction; sent: number[]; statuses: number[] } {
    const sent: number[] = [];
    const statuses: number[] = [];
    return {
      sent,
      statuses,
      fetch: async (input, init) => {
        sent.push(performance.now());
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
    };
  }

  it('spaces the calls of one provider instance to its limit', async () => {
    mockPost(affixo.url, affixo.ok);
    const wire = recording();
    const provider = createAffixo({ apiKey: 'sa_live_x_0001', fetch: wire.fetch, rateLimit: { limit: 2, interval: 400 } });
    await Promise.all(Array.from({ length: 5 }, () => refund({ provider, conversionId: 'o' })));
    expect(wire.sent).toHaveLength(5);
    expect(withinLimit(wire.sent, 2, 400)).toBe(true);
    expect(Math.max(...wire.sent) - Math.min(...wire.sent)).toBeGreaterThanOrEqual(790);
  });

  it('can be turned off', async () => {
    mockPost(affixo.url, affixo.ok);
    const wire = recording();
    const provider = createAffixo({ apiKey: 'sa_live_x_0001', fetch: wire.fetch, rateLimit: false });
    await Promise.all(Array.from({ length: 700 }, () => refund({ provider, conversionId: 'o' })));
    expect(wire.sent).toHaveLength(700);
    // More than Affixo's default 600 in one minute: nothing held them back.
    expect(withinLimit(wire.sent, 600, 60_000)).toBe(false);
  });

  it("defaults to Affonso's smallest plan: 10 per second in a burst", async () => {
    mockPost(affonso.url, affonso.ok);
    const wire = recording();
    const provider = createAffonso({ apiKey: 'sk_live_x_0001', fetch: wire.fetch });
    await Promise.all(Array.from({ length: 12 }, () => refund({ provider, conversionId: 'com_1' })));
    expect(withinLimit(wire.sent, 10, 1_000)).toBe(true);
    expect(Math.max(...wire.sent) - Math.min(...wire.sent)).toBeGreaterThanOrEqual(990);
  });

  it.each([
    [{ rateLimit: { limit: 0, interval: 1_000 } }, 'rateLimit'],
    [{ rateLimit: true }, 'rateLimit'],
    [{ plan: 500 }, 'plan'],
  ])('refuses %j', (settings, field) => {
    expect(() => createAffonso({ apiKey: 'sk_live_x_0001', ...(settings as object) })).toThrow(ValidationError);
    expect(() => createAffonso({ apiKey: 'sk_live_x_0001', ...(settings as object) })).toThrow(new RegExp(`settings: ${field}`));
  });
});

describe('totalTimeout', () => {
  it('bounds one call, attempts and waits together', async () => {
    const calls = mockPost(affixo.url, hang(5_000));
    const error = await refund({
      provider: createAffixo({ apiKey: 'sa_live_x_0001', timeout: 2_000 }),
      conversionId: 'o',
      totalTimeout: 300,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    // The attempt was given what was left of the 300 ms, not its own 2 s, and no retry fitted.
    expect(Number(/did not answer within (\d+) ms/.exec((error as Error).message)?.[1])).toBeLessThanOrEqual(300);
    expect((error as Error).message).toMatch(/No time was left for a retry within totalTimeout \(300 ms\)/);
    expect(calls).toHaveLength(1);
  });

  it('does not start a retry it cannot finish within the deadline', async () => {
    const calls = mockPost(affixo.url, json({ error: 'conversion_failed' }, 503, { 'retry-after': '1' }));
    const error = await refund({
      provider: createAffixo({ apiKey: 'sa_live_x_0001', totalTimeout: 500 }),
      conversionId: 'o',
    }).catch((e: unknown) => e);
    expect(calls).toHaveLength(1);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as Error).message).toMatch(/No time was left for a retry within totalTimeout \(500 ms\)/);
  });

  it('does not send a call the rate limit would hold past the deadline', async () => {
    const calls = mockPost(affixo.url, affixo.ok);
    const provider = createAffixo({ apiKey: 'sa_live_x_0001', rateLimit: { limit: 1, interval: 60_000 } });
    await refund({ provider, conversionId: 'o' });
    const error = await refund({ provider, conversionId: 'o', totalTimeout: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ retryable: true, ambiguous: false });
    expect(calls).toHaveLength(1);
  });
});

describe('response size', () => {
  const huge = 'x'.repeat(MAX_RESPONSE_BYTES + 1);

  it.each([
    ['with a Content-Length', () => new HttpResponse(`{"ok":true,"pad":"${huge}"}`, { status: 200 })],
    [
      'streamed without one',
      () =>
        new HttpResponse(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 11; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(1_000_000)));
              controller.close();
            },
          }),
          { status: 200 },
        ),
    ],
  ])('stops reading a 2xx body over 1 MiB %s: ambiguous, safe to retry with the key', async (_, reply) => {
    mockPost(affonso.url, reply);
    const error = await refund({ provider: affonso.create(), conversionId: 'com_1', idempotencyKey: 'k1' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error).toMatchObject({ ambiguous: true, retryable: true, idempotencyKey: 'k1' });
    expect((error as Error).message).toMatch(/body over 1048576 bytes/);
  });

  it('keeps only the start of an oversized error body', async () => {
    mockPost(affixo.url, () => new HttpResponse(`<html>${huge}</html>`, { status: 502 }));
    const error = await refund({ provider: affixo.create({ maxRetries: 0 }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(String((error as ServerError).body).length).toBeLessThanOrEqual(2_001);
  });
});
