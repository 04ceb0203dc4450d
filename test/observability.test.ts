import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ValidationError, createAffixo, createAffonso, refund, type RequestEvent, type ResponseEvent } from '../src/index.js';
import { VERSION } from '../src/version.js';
import { hang, json, mockPost, useVendorMock } from './support/vendor-mock.js';

useVendorMock();

const KEY = 'sk_live_affonso_observed_0001';
const URL = 'https://api.affonso.io/v1/conversions/com_1/refund';
const ok = json({ success: true, data: { id: 'com_1', status: 'refunded', sales_status: 'refunded' } }, 200, {
  'x-request-id': 'req_1',
});

/** A provider whose hooks and logger record everything they are given. */
function observed(settings: Parameters<typeof createAffonso>[0] = {}) {
  const requests: RequestEvent[] = [];
  const responses: ResponseEvent[] = [];
  const logger = { debug: vi.fn(), warn: vi.fn() };
  const provider = createAffonso({
    apiKey: KEY,
    logger,
    onRequest: (event) => requests.push(event),
    onResponse: (event) => responses.push(event),
    ...settings,
  });
  return { provider, requests, responses, logger };
}

describe('onRequest and onResponse', () => {
  it('see each attempt, with the credentials redacted', async () => {
    mockPost(URL, ok);
    const { provider, requests, responses } = observed();
    const result = await refund({ provider, conversionId: 'com_1', amount: { value: 4950, currency: 'USD' } });

    expect(requests).toEqual([
      {
        provider: 'affonso',
        method: 'POST',
        url: URL,
        headers: {
          authorization: '[redacted]',
          'user-agent': `clawback/${VERSION}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: { amount: 49.5, currency: 'USD', external_event_id: result.idempotencyKey },
        attempt: 1,
        idempotencyKey: result.idempotencyKey,
      },
    ]);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ provider: 'affonso', url: URL, attempt: 1, status: 200 });
    expect(responses[0]?.headers['x-request-id']).toBe('req_1');
    expect(responses[0]?.durationMs).toBeGreaterThanOrEqual(0);
    expect(responses[0]).not.toHaveProperty('failure');
  });

  it('see every retry, and the logger is told why', async () => {
    mockPost(URL, json({ success: false, error: { code: 'INTERNAL_ERROR' } }, 503), ok);
    const { provider, requests, responses, logger } = observed();
    await refund({ provider, conversionId: 'com_1' });
    expect(requests.map((event) => event.attempt)).toEqual([1, 2]);
    expect(responses.map((event) => [event.attempt, event.status])).toEqual([
      [1, 503],
      [2, 200],
    ]);
    expect(new Set(requests.map((event) => event.idempotencyKey)).size).toBe(1);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/^clawback: attempt 1 of POST \S+ failed \(503\); retrying in \d+ ms$/);
    expect(logger.debug).toHaveBeenCalledTimes(4);
  });

  it('report an attempt that got no answer', async () => {
    mockPost(URL, hang(1_000));
    const { provider, responses } = observed({ timeout: 50, maxRetries: 0 });
    await refund({ provider, conversionId: 'com_1' }).catch(() => undefined);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ status: undefined, failure: 'timeout', headers: {} });
  });

  it('cannot break a refund by throwing, and the logger says so', async () => {
    const calls = mockPost(URL, ok);
    const logger = { warn: vi.fn() };
    const provider = createAffonso({
      apiKey: KEY,
      logger,
      onRequest: () => {
        throw new Error('hook bug');
      },
      onResponse: () => {
        throw new Error('hook bug');
      },
    });
    const result = await refund({ provider, conversionId: 'com_1' });
    expect(result.status).toBe('refunded');
    expect(calls).toHaveLength(1);
    expect(logger.warn.mock.calls.map((call) => call[0])).toEqual([
      'clawback: the onRequest hook threw; ignored',
      'clawback: the onResponse hook threw; ignored',
    ]);
  });

  it('an async hook or logger that rejects is not left as an unhandled rejection', async () => {
    mockPost(URL, ok);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const warn = vi.fn(async () => {
        throw new Error('async logger bug');
      });
      const provider = createAffonso({
        apiKey: KEY,
        logger: { warn },
        onRequest: async () => {
          throw new Error('async hook bug');
        },
      });
      await expect(refund({ provider, conversionId: 'com_1' })).resolves.toMatchObject({ status: 'refunded' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(warn).toHaveBeenCalledWith('clawback: the onRequest hook threw; ignored', undefined);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a logger that throws cannot break a refund either', async () => {
    mockPost(URL, json({}, 503), ok);
    const explode = () => {
      throw new Error('logger bug');
    };
    const provider = createAffonso({ apiKey: KEY, logger: { debug: explode, warn: explode } });
    await expect(refund({ provider, conversionId: 'com_1' })).resolves.toMatchObject({ status: 'refunded' });
  });

  it('work on native calls too', async () => {
    mockPost(URL, ok);
    const { provider, requests } = observed();
    await provider.conversions.refund('com_1', { amount: 1 });
    expect(requests[0]?.body).toEqual({ amount: 1 });
  });

  it.each([
    [{ onRequest: 'log' }, 'onRequest'],
    [{ onResponse: {} }, 'onResponse'],
    [{ logger: 'console' }, 'logger'],
    [{ logger: { debug: 'yes' } }, 'logger'],
  ])('refuses %j', (settings, field) => {
    let error: unknown;
    try {
      createAffonso({ apiKey: KEY, ...(settings as object) });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it('accepts console as the logger', () => {
    expect(() => createAffonso({ apiKey: KEY, logger: console })).not.toThrow();
  });
});

it("redacts a caller's own secret headers too, by name", async () => {
  mockPost(URL, ok);
  const { provider, requests } = observed({ headers: { 'X-Proxy-Token': 'pt_1', 'x-api-key': 'k', 'x-trace-id': 't-1' } });
  await refund({ provider, conversionId: 'com_1', headers: { 'X-Webhook-Signature': 'sig' } });
  expect(requests[0]?.headers).toMatchObject({
    'x-proxy-token': '[redacted]',
    'x-api-key': '[redacted]',
    'x-webhook-signature': '[redacted]',
    'x-trace-id': 't-1',
  });
});

describe('User-Agent', () => {
  it(`is clawback/${VERSION}, the version in package.json`, async () => {
    const pkg = JSON.parse(readFileSync(new globalThis.URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    const calls = mockPost(URL, ok);
    await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' });
    expect(calls[0]?.headers['user-agent']).toBe(`clawback/${pkg.version}`);
  });

  it("keeps the caller's own User-Agent, with clawback's appended", async () => {
    const calls = mockPost(URL, ok);
    await refund({ provider: createAffonso({ apiKey: KEY, headers: { 'User-Agent': 'shop/2.1' } }), conversionId: 'com_1' });
    expect(calls[0]?.headers['user-agent']).toBe(`shop/2.1 clawback/${VERSION}`);
  });
});

describe('per-call headers', () => {
  it("add to the provider's headers, and never replace the credentials", async () => {
    const calls = mockPost(URL, ok);
    const provider = createAffonso({ apiKey: KEY, headers: { 'x-shop': 'eu', 'x-trace-id': 'provider' } });
    await refund({
      provider,
      conversionId: 'com_1',
      headers: { 'X-Trace-Id': 'call-7', authorization: 'Bearer someone-else', 'content-type': 'text/plain' },
    });
    expect(calls[0]?.headers).toMatchObject({
      'x-shop': 'eu',
      'x-trace-id': 'call-7',
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
    });
    // Only that call: the next one carries the provider's headers alone.
    await refund({ provider, conversionId: 'com_1' });
    expect(calls[1]?.headers['x-trace-id']).toBe('provider');
  });

  it('work on native calls', async () => {
    const calls = mockPost('https://go.affixo.dev/v1/track/refund', json({ ok: true }));
    await createAffixo({ apiKey: 'sa_live_x_0001' }).track.refund({ external_id: 'o_1' }, { headers: { 'x-trace-id': 't' } });
    expect(calls[0]?.headers['x-trace-id']).toBe('t');
  });

  it('are validated like the setting, before anything is sent', async () => {
    const calls = mockPost(URL, ok);
    const error = await refund({
      provider: createAffonso({ apiKey: KEY }),
      conversionId: 'com_1',
      headers: { 'x-trace': 'a\r\nInjected: yes' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('headers.x-trace');
    expect(calls).toHaveLength(0);
  });
});
