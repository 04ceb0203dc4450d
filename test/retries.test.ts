import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  ApiError,
  ClawbackError,
  ConnectionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  createAffonso,
  createRefCampaign,
  refund,
} from '../src/index.js';
import { empty, hang, json, mockPost, networkError, refusingBaseURL, text, useVendorMock } from './support/vendor-mock.js';
import { vendors } from './support/vendors.js';

useVendorMock();

const now = () => performance.now();

describe.each(vendors)('$name: retries that cannot refund twice', (vendor) => {
  it('retries a 5xx and sends the very same request, idempotency key included, every time', async () => {
    const calls = mockPost(
      vendor.url,
      json({ error: 'boom' }, 503, { 'retry-after': '0' }),
      text('<html>Bad Gateway</html>', 502, { 'retry-after': '0', 'content-type': 'text/html' }),
      vendor.ok,
    );
    const result = await refund({ provider: vendor.create(), ...vendor.options } as never);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((call) => call.rawBody)).size).toBe(1);
    const wireKey = vendor.wireKey(calls[0]?.body);
    if (wireKey !== undefined) expect(wireKey).toBe(result.idempotencyKey);
  });

  it('retries a 429 after Retry-After: 0 and then succeeds', async () => {
    const calls = mockPost(vendor.url, json({}, 429, { 'retry-after': '0' }), vendor.ok);
    await refund({ provider: vendor.create(), ...vendor.options } as never);
    expect(calls).toHaveLength(2);
  });

  it('retries after a timeout, with the same key, because the vendor deduplicates it', async () => {
    const calls = mockPost(vendor.url, hang(), vendor.ok);
    const result = await refund({ provider: vendor.create({ timeout: 100 }), ...vendor.options, idempotencyKey: 'k-timeout' } as never);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.rawBody).toBe(calls[1]?.rawBody);
    expect(result.idempotencyKey).toBe('k-timeout');
  });

  it('stops after maxRetries and says the failure is safe to retry with the same key', async () => {
    const calls = mockPost(vendor.url, empty(500, { 'retry-after': '0' }));
    const error = await refund({ provider: vendor.create(), ...vendor.options, idempotencyKey: 'k-500' } as never).catch(
      (e: unknown) => e,
    );
    expect(calls).toHaveLength(3);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 500, retryable: true, idempotencyKey: 'k-500', provider: vendor.name });
    expect((error as Error).message).toMatch(/Gave up after 3 attempts\. It is safe to retry with the same idempotencyKey\.$/);
  });

  it('honours maxRetries per call and per provider', async () => {
    const perCall = mockPost(vendor.url, empty(500, { 'retry-after': '0' }));
    await refund({ provider: vendor.create(), ...vendor.options, maxRetries: 0 } as never).catch(() => undefined);
    expect(perCall).toHaveLength(1);

    const perProvider = mockPost(vendor.url, empty(500, { 'retry-after': '0' }));
    await refund({ provider: vendor.create({ maxRetries: 1 }), ...vendor.options } as never).catch(() => undefined);
    expect(perProvider).toHaveLength(2);
  });

  it('retries a connection that was refused (the request never left) and reports ConnectionError', async () => {
    const baseURL = await refusingBaseURL();
    let attempts = 0;
    const countingFetch = (input: Request | URL | string, init?: RequestInit) => {
      attempts += 1;
      return fetch(input, init);
    };
    const error = await refund({
      provider: vendor.create({ baseURL, fetch: countingFetch, maxRetries: 1 }),
      ...vendor.options,
    } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(/the request was not sent/);
    expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(attempts).toBe(2);
  });

  it('does not retry a 4xx', async () => {
    const calls = mockPost(vendor.url, json({ message: 'bad' }, 400));
    await refund({ provider: vendor.create(), ...vendor.options } as never).catch(() => undefined);
    expect(calls).toHaveLength(1);
  });

  it('fails fast with RateLimitError when the vendor asks to wait longer than 60 s', async () => {
    const calls = mockPost(vendor.url, json({}, 429, { 'retry-after': '1000000000' }));
    const error = await refund({ provider: vendor.create(), ...vendor.options } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ retryAfter: 1e12, retryable: true });
    expect((error as Error).message).toMatch(/longer than clawback waits \(60 s\)/);
    expect(calls).toHaveLength(1);
  });
});

describe('Retry-After', () => {
  const [affixo] = vendors;
  if (!affixo) throw new Error('vendor table is empty');

  it('waits the number of seconds the vendor asks for', async () => {
    mockPost(affixo.url, json({}, 429, { 'retry-after': '1' }), affixo.ok);
    const started = now();
    await refund({ provider: affixo.create(), conversionId: 'o' });
    expect(now() - started).toBeGreaterThanOrEqual(950);
  });

  it('waits until the HTTP date the vendor gives', async () => {
    const at = new Date(Date.now() + 2_000).toUTCString();
    mockPost(affixo.url, json({}, 503, { 'retry-after': at }), affixo.ok);
    const started = now();
    await refund({ provider: affixo.create(), conversionId: 'o' });
    expect(now() - started).toBeGreaterThanOrEqual(900);
  });

  it("waits Affonso's retryAfter from the body when the header is absent", async () => {
    const calls = mockPost(
      'https://api.affonso.io/v1/conversions/com_1/refund',
      json({ success: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow' }, retryAfter: 1 }, 429),
      json({ success: true, data: { id: 'com_1', status: 'refunded', sales_status: 'refunded' } }),
    );
    const started = now();
    await refund({ provider: createAffonso({ apiKey: 'sk_live_x_key_0001' }), conversionId: 'com_1' });
    expect(now() - started).toBeGreaterThanOrEqual(950);
    expect(calls).toHaveLength(2);
  });
});

describe('no retry where a retry could refund twice', () => {
  const RC_URL = 'https://app.refcampaign.com/api/v1/conversions/refund';
  const partial = { conversionId: 'order_1', amount: { value: 100, currency: 'USD' } };
  const rc = () => createRefCampaign({ apiKey: 'rc_live_x_key_0001', timeout: 100 });

  it.each([
    ['a 5xx', json({ success: false, error: { code: 'SERVER_ERROR', message: 'x' } }, 500, { 'retry-after': '0' }), ServerError],
    ['a 502 with an HTML body', text('<html>proxy</html>', 502, { 'retry-after': '0' }), ServerError],
    ['a 408', empty(408), ApiError],
    ['a timeout', hang(), TimeoutError],
    ['a dropped connection', networkError(), ConnectionError],
  ])('RefCampaign partial refund after %s: one attempt, retryable false, and the message says why', async (_, reply, ErrorClass) => {
    const calls = mockPost(RC_URL, reply);
    const error = await refund({ provider: rc(), ...partial }).catch((e: unknown) => e);
    expect(calls).toHaveLength(1);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toMatchObject({ retryable: false, provider: 'refcampaign' });
    expect((error as Error).message).toMatch(
      /The refund may or may not have been applied, and repeating it could refund twice, so it was not retried: RefCampaign partial refunds carry no idempotency key\. Check the conversion before trying again\.$/,
    );
  });

  it('still retries a RefCampaign partial refund after a 429, which the vendor refused before acting', async () => {
    const calls = mockPost(RC_URL, json({}, 429, { 'retry-after': '0' }), json({ success: true, data: { alreadyRefunded: false } }));
    await refund({ provider: rc(), ...partial });
    expect(calls).toHaveLength(2);
  });

  it('does not retry a native Affonso refund without external_event_id after a 5xx', async () => {
    const url = 'https://api.affonso.io/v1/conversions/com_1/refund';
    const affonso = createAffonso({ apiKey: 'sk_live_x_key_0001' });
    const withoutKey = mockPost(url, empty(503, { 'retry-after': '0' }));
    const error = await affonso.conversions.refund('com_1', { amount: 10 }).catch((e: unknown) => e);
    expect(withoutKey).toHaveLength(1);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(/no external_event_id was sent/);

    const withKey = mockPost(url, empty(503, { 'retry-after': '0' }));
    await affonso.conversions.refund('com_1', { amount: 10, external_event_id: 'e1' }).catch(() => undefined);
    expect(withKey).toHaveLength(3);
  });
});

describe('ambiguous: the refund may have been applied although the call failed', () => {
  const [affixo, affonso] = vendors;
  if (!affixo || !affonso) throw new Error('vendor table is incomplete');

  it.each([
    ['a 5xx', json({ error: 'conversion_failed' }, 500), true],
    ['a 408', empty(408), true],
    ['a timeout', hang(), true],
    ['a connection dropped after sending', networkError(), true],
    ['a 2xx off the schema', json({ ok: 'yes' }), true],
    ['a 429', json({}, 429, { 'retry-after': '999' }), false],
    ['a 400', json({ error: 'external_id_required' }, 400), false],
    ['a 401', json({ error: 'unauthorized' }, 401), false],
  ])('%s → ambiguous: %s', async (_, reply, ambiguous) => {
    mockPost(affixo.url, reply);
    const error = await refund({ provider: affixo.create({ maxRetries: 0, timeout: 100 }), conversionId: 'o' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ ambiguous });
  });

  it.each([
    ['a 401', json({ error: 'unauthorized' }, 401), 'AuthenticationError'],
    ['a 429 asking to wait longer than clawback waits', json({}, 429, { 'retry-after': '999' }), 'RateLimitError'],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }), 'RedirectError'],
  ])('stays ambiguous when an earlier attempt may have applied the refund, and the last one ended in %s', async (_, last, name) => {
    const calls = mockPost(affixo.url, json({ error: 'conversion_failed' }, 500, { 'retry-after': '0' }), last);
    const error = await refund({ provider: affixo.create(), conversionId: 'o', idempotencyKey: 'k-sticky' }).catch((e: unknown) => e);
    expect(calls).toHaveLength(2);
    expect(error).toMatchObject({ name, ambiguous: true });
    expect((error as Error).message).toMatch(/An earlier attempt of this call may have applied the refund \(it ended in a 500\)/);
  });

  it('a 2xx in which the vendor says it failed is not ambiguous', async () => {
    mockPost(affonso.url, json({ success: false, error: { code: 'VALIDATION_ERROR', message: 'no' } }));
    const error = await refund({ provider: affonso.create(), conversionId: 'com_1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ ambiguous: false, retryable: false });
  });

  it('a refused connection is not ambiguous: nothing was sent', async () => {
    const error = await refund({
      provider: affixo.create({ baseURL: await refusingBaseURL(), maxRetries: 0 }),
      conversionId: 'o',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ ambiguous: false, retryable: true });
  });

  it('a RefCampaign partial refund that may have been applied: ambiguous, not retryable, no key to reuse', async () => {
    mockPost('https://app.refcampaign.com/api/v1/conversions/refund', empty(503));
    const error = await refund({
      provider: createRefCampaign({ apiKey: 'rc_live_x_key_0001' }),
      conversionId: 'o',
      amount: { value: 100, currency: 'USD' },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ ambiguous: true, retryable: false, idempotencyKey: undefined });
  });

  it('a RefCampaign partial refund that was never sent: retryable as the same request, without a key', async () => {
    const error = await refund({
      provider: createRefCampaign({ apiKey: 'rc_live_x_key_0001', baseURL: await refusingBaseURL(), maxRetries: 0 }),
      conversionId: 'o',
      amount: { value: 100, currency: 'USD' },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ ambiguous: false, retryable: true, idempotencyKey: undefined });
    expect((error as Error).message).toMatch(/It is safe to retry the same request\.$/);
  });
});

describe('abort', () => {
  const [affixo] = vendors;
  if (!affixo) throw new Error('vendor table is empty');

  it('sends nothing when the signal is already aborted', async () => {
    const calls = mockPost(affixo.url, affixo.ok);
    const error = await refund({ provider: affixo.create(), conversionId: 'o', signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AbortedError);
    expect(error).toMatchObject({ retryable: true, ambiguous: false });
    expect(calls).toHaveLength(0);
  });

  it('stops an attempt in flight and does not retry it', async () => {
    const calls = mockPost(affixo.url, hang(5_000));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await refund({ provider: affixo.create(), conversionId: 'o', signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AbortedError);
    expect(error).toMatchObject({ ambiguous: true, retryable: true });
    expect(calls).toHaveLength(1);
  });

  it('stops during the backoff, keeping the last failure as the cause', async () => {
    const calls = mockPost(affixo.url, json({ error: 'conversion_failed' }, 500, { 'retry-after': '5' }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await refund({ provider: affixo.create(), conversionId: 'o', signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    // Had the 5 s wait run to its end, a second attempt would have been sent.
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toMatch(/aborted while waiting to retry/);
    expect((error as Error).cause).toBeInstanceOf(ServerError);
    expect(calls).toHaveLength(1);
  });
});

describe('every failure is a typed ClawbackError', () => {
  const [affixo] = vendors;
  if (!affixo) throw new Error('vendor table is empty');

  it.each([
    ['an HTML 500 from a proxy', text('<!doctype html><h1>502</h1>', 500)],
    ['an empty 500', empty(500)],
    ['a 2xx that is not JSON', text('OK', 200)],
    ['an empty 2xx', empty(200)],
    ['an unexpected 418', json({ error: 'teapot' }, 418)],
  ])('%s', async (_, reply) => {
    mockPost(affixo.url, reply);
    const error = await refund({ provider: affixo.create({ maxRetries: 0 }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ provider: 'affixo' });
  });
});
