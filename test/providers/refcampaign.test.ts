import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  ValidationError,
  createRefCampaign,
  refund,
} from '../../src/index.js';
import { json, mockPost, useVendorMock } from '../support/vendor-mock.js';

useVendorMock();

const URL = 'https://app.refcampaign.com/api/v1/conversions/refund';
const KEY = 'rc_live_refcampaign_test_key_0001';

const ok = (alreadyRefunded = false, requestId = 'req_rc_1') =>
  json({
    success: true,
    data: { success: true, conversionId: 'conv_1', alreadyRefunded },
    meta: { timestamp: '2026-06-22T16:10:00Z', requestId },
  });

const failure = (code: string, message: string, details: unknown = null) => ({
  success: false,
  error: { code, message, details },
  meta: { timestamp: '2026-06-22T16:10:00Z', requestId: 'req_err_1' },
});

describe('RefCampaign refund()', () => {
  it('sends { externalId } for a full refund, and reports it refunded', async () => {
    const calls = mockPost(URL, ok());
    const result = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'order_1234' });
    expect(calls[0]).toMatchObject({
      method: 'POST',
      url: URL,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    expect(calls[0]?.rawBody).toBe('{"externalId":"order_1234"}');
    expect(result).toEqual({
      provider: 'refcampaign',
      conversionId: 'order_1234',
      status: 'refunded',
      duplicate: false,
      idempotencyKey: expect.any(String),
      requestId: 'req_rc_1',
      warnings: [],
      raw: {
        success: true,
        data: { success: true, conversionId: 'conv_1', alreadyRefunded: false },
        meta: { timestamp: '2026-06-22T16:10:00Z', requestId: 'req_rc_1' },
      },
    });
  });

  it.each([
    [4950, 'USD', 4950],
    [500, 'JPY', 500],
    [1234, 'KWD', 1234],
  ])('sends %d %s as the integer amount %d in minor units, warning that the currency is not sent', async (value, currency, wire) => {
    const calls = mockPost(URL, ok());
    const result = await refund({
      provider: createRefCampaign({ apiKey: KEY }),
      conversionId: 'order_1',
      amount: { value, currency },
    });
    expect(calls[0]?.rawBody).toBe(`{"externalId":"order_1","amount":${wire}}`);
    expect(result.status).toBe('accepted');
    expect(result.amount).toEqual({ value, currency });
    expect(result.warnings).toEqual([
      `amount.currency was not sent: RefCampaign refunds ${value} minor units of the conversion's own currency, which must be ${currency}`,
    ]);
  });

  it('reports alreadyRefunded as a duplicate of a refunded conversion', async () => {
    mockPost(URL, ok(true));
    const result = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'order_1' });
    expect(result).toMatchObject({ duplicate: true, status: 'refunded' });
  });

  it('does not report a partial amount as refunded when the conversion was already refunded', async () => {
    mockPost(URL, ok(true));
    const result = await refund({
      provider: createRefCampaign({ apiKey: KEY }),
      conversionId: 'order_1',
      amount: { value: 500, currency: 'USD' },
    });
    expect(result).toMatchObject({ duplicate: true, status: 'refunded' });
    expect(result.amount).toBeUndefined();
  });

  it('refuses a caller idempotencyKey on a partial refund, which RefCampaign cannot honour', async () => {
    const calls = mockPost(URL, ok());
    const error = await refund({
      provider: createRefCampaign({ apiKey: KEY }),
      conversionId: 'order_1',
      amount: { value: 100, currency: 'USD' },
      idempotencyKey: 'my-key',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('idempotencyKey');
    expect(calls).toHaveLength(0);
  });

  it('accepts a caller idempotencyKey on a full refund, which RefCampaign deduplicates', async () => {
    mockPost(URL, ok());
    const result = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'o', idempotencyKey: 'my-key' });
    expect(result.idempotencyKey).toBe('my-key');
  });

  it('sends reason, which RefCampaign records in its clawback ledger, without a warning', async () => {
    const calls = mockPost(URL, ok());
    const result = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'order_1', amount: { value: 250, currency: 'EUR' }, reason: 'chargeback: fraud' });
    expect(calls[0]?.rawBody).toBe('{"externalId":"order_1","amount":250,"reason":"chargeback: fraud"}');
    expect(result.warnings.some((warning) => warning.startsWith('reason'))).toBe(false);
  });

  it('refuses a reason over 500 characters, before the network', async () => {
    const calls = mockPost(URL, ok());
    const error = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'order_1', reason: 'r'.repeat(501) }).catch((e: unknown) => e);
    expect((error as ValidationError).issues).toEqual([{ path: 'reason', message: 'must be at most 500 characters (RefCampaign reason)' }]);
    expect(calls).toHaveLength(0);
  });

  it('refuses an externalId over 255 characters', async () => {
    const calls = mockPost(URL, ok());
    const error = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'x'.repeat(256) }).catch(
      (e: unknown) => e,
    );
    expect((error as ValidationError).issues).toEqual([
      { path: 'conversionId', message: 'must be at most 255 characters (RefCampaign externalId)' },
    ]);
    expect(calls).toHaveLength(0);
  });

  it.each([
    [400, 'VALIDATION_FAILED', BadRequestError],
    [400, 'INVALID_REQUEST', BadRequestError],
    [401, 'UNAUTHORIZED', AuthenticationError],
    [403, 'PERMISSION_DENIED', PermissionDeniedError],
    [404, 'NOT_FOUND', NotFoundError],
    [409, 'ALREADY_EXISTS', ConflictError],
  ] as const)('maps %d %s to %s with the envelope requestId', async (status, code, ErrorClass) => {
    const body = failure(code, 'Nope', code === 'VALIDATION_FAILED' ? [{ path: 'externalId' }] : null);
    mockPost(URL, json(body, status));
    const error = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toMatchObject({ provider: 'refcampaign', status, code, requestId: 'req_err_1', body, retryable: false });
  });

  it('maps 409 "not refundable (status: PENDING)" to ConflictError', async () => {
    mockPost(URL, json(failure('CONFLICT', 'Conversion not refundable (status: PENDING)'), 409));
    const error = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toBe('RefCampaign answered 409 CONFLICT: Conversion not refundable (status: PENDING).');
  });

  it('retries RATE_LIMIT_EXCEEDED but not LIMIT_EXCEEDED, the plan quota', async () => {
    const burst = mockPost(URL, json(failure('RATE_LIMIT_EXCEEDED', 'Slow down'), 429, { 'retry-after': '0' }), ok());
    await expect(refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'o' })).resolves.toMatchObject({
      status: 'refunded',
    });
    expect(burst).toHaveLength(2);

    const quota = mockPost(URL, json(failure('LIMIT_EXCEEDED', 'Monthly quota reached'), 429));
    const error = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED', retryable: false });
    expect(quota).toHaveLength(1);
  });

  it.each([
    [500, 'SERVER_ERROR'],
    [503, 'SERVICE_UNAVAILABLE'],
  ])('maps %d %s to ServerError', async (status, code) => {
    mockPost(URL, json(failure(code, 'Down'), status, { 'retry-after': '0' }));
    const error = await refund({ provider: createRefCampaign({ apiKey: KEY }), conversionId: 'o', maxRetries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status, code, retryable: true });
  });
});

describe('refcampaign.conversions.refund (native)', () => {
  it('sends the body verbatim and resolves to the documented body', async () => {
    const calls = mockPost(URL, ok());
    const response = await createRefCampaign({ apiKey: KEY }).conversions.refund({ externalId: 'order_1', amount: 250 });
    expect(calls[0]?.rawBody).toBe('{"externalId":"order_1","amount":250}');
    expect(response?.data?.alreadyRefunded).toBe(false);
    expect(response?.meta?.requestId).toBe('req_rc_1');
  });

  it('takes reason, as @refcampaign/sdk 3.x sends it', async () => {
    const calls = mockPost(URL, ok());
    await createRefCampaign({ apiKey: KEY }).conversions.refund({ externalId: 'order_1', reason: 'customer_request' });
    expect(calls[0]?.rawBody).toBe('{"externalId":"order_1","reason":"customer_request"}');
  });

  it.each([
    [{ externalId: 'o', amount: 49.5 }, 'amount'],
    [{ externalId: 'o', amount: 0 }, 'amount'],
    [{ externalId: 'o', reason: '' }, 'reason'],
    [{ externalId: 'o', reason: 'r'.repeat(501) }, 'reason'],
    [{ externalId: 'o', reason: undefined }, 'reason'],
    [{ externalId: '' }, 'externalId'],
    [{ external_id: 'o' }, 'externalId'],
  ])('refuses %j before the network', async (body, field) => {
    const calls = mockPost(URL, ok());
    const error = await createRefCampaign({ apiKey: KEY })
      .conversions.refund(body as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(calls).toHaveLength(0);
  });
});
