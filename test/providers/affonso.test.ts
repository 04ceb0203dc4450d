import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseValidationError,
  ServerError,
  ValidationError,
  createAffonso,
  refund,
} from '../../src/index.js';
import { json, mockPost, useVendorMock } from '../support/vendor-mock.js';

useVendorMock();

const KEY = 'sk_live_affonso_test_key_0001';
const urlFor = (id: string) => `https://api.affonso.io/v1/conversions/${id}/refund`;

/** The documented example conversion. */
const conversion = (overrides: Record<string, unknown> = {}) => ({
  id: 'com_abc123',
  referral_id: 'ref_456def',
  affiliate_id: 'aff_789ghi',
  program_id: 'prog_123xyz',
  sale_amount: 49.5,
  sale_amount_currency: 'USD',
  commission_amount: 14.85,
  commission_currency: 'USD',
  status: 'ready_for_payment',
  sales_status: 'partial_refunded',
  hold_period_days: null,
  payment_intent_id: null,
  invoice_id: null,
  earning_id: 'earn_123abc',
  earning_type: 'direct_commission',
  external_event_id: 'inv_2026_000145',
  calculation_mode: 'auto',
  matched_incentive_id: null,
  created_at: '2026-06-22T12:00:00.000Z',
  updated_at: '2026-06-22T16:10:00.000Z',
  ...overrides,
});

describe('Affonso refund()', () => {
  it('sends the documented request: id in the path, major units, key as external_event_id', async () => {
    const calls = mockPost(urlFor('com_abc123'), json({ success: true, data: conversion() }, 200, { 'x-request-id': 'req_7' }));
    const result = await refund({
      provider: createAffonso({ apiKey: KEY }),
      conversionId: 'com_abc123',
      amount: { value: 4950, currency: 'usd' },
      reason: 'customer_cancellation',
      refundedAt: '2026-06-22T18:10:00+02:00',
      idempotencyKey: 'refund_evt_123',
    });

    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      method: 'POST',
      url: urlFor('com_abc123'),
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    expect(calls[0]?.rawBody).toBe(
      '{"amount":49.5,"currency":"USD","reason":"customer_cancellation","external_event_id":"refund_evt_123","refunded_at":"2026-06-22T16:10:00.000Z"}',
    );
    expect(result).toEqual({
      provider: 'affonso',
      conversionId: 'com_abc123',
      status: 'partially_refunded',
      duplicate: false,
      idempotencyKey: 'refund_evt_123',
      amount: { value: 4950, currency: 'USD' },
      requestId: 'req_7',
      warnings: [],
      raw: { success: true, data: conversion() },
    });
  });

  it.each([
    [4950, 'USD', '49.5'],
    [500, 'JPY', '500'],
    [1234, 'KWD', '1.234'],
    [1, 'BHD', '0.001'],
    [10, 'EUR', '0.1'],
  ])('converts %d %s minor units to the JSON number %s', async (value, currency, wire) => {
    const calls = mockPost(urlFor('com_1'), json({ success: true, data: conversion() }));
    await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1', amount: { value, currency } });
    expect(calls[0]?.rawBody).toContain(`"amount":${wire},"currency":"${currency}"`);
  });

  it('omits amount and currency for a full refund and generates a UUID key', async () => {
    const calls = mockPost(urlFor('com_1'), json({ success: true, data: conversion({ sales_status: 'refunded', status: 'refunded' }) }));
    const result = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' });
    expect(calls[0]?.body).toEqual({ external_event_id: result.idempotencyKey });
    expect(result.idempotencyKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result.status).toBe('refunded');
    expect(result.amount).toBeUndefined();
  });

  it.each([
    ['refunded', 'refunded'],
    ['partial_refunded', 'partially_refunded'],
    ['complete', 'accepted'],
    ['some_future_status', 'accepted'],
  ])('maps sales_status %s to status %s', async (salesStatus, status) => {
    mockPost(urlFor('com_1'), json({ success: true, data: conversion({ sales_status: salesStatus }) }));
    const result = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' });
    expect(result.status).toBe(status);
  });

  it('reports a replay (replayed: true) as a duplicate', async () => {
    mockPost(urlFor('com_1'), json({ success: true, data: conversion({ replayed: true }) }));
    const result = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1', idempotencyKey: 'k1' });
    expect(result.duplicate).toBe(true);
  });

  it('URL-encodes the conversion id as one path segment', async () => {
    const calls = mockPost(urlFor('com%2F1%3Fx%3D1%20y'), json({ success: true, data: conversion() }));
    await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com/1?x=1 y' });
    expect(calls[0]?.url).toBe(urlFor('com%2F1%3Fx%3D1%20y'));
  });

  it.each(['.', '..'])('refuses the dot segment %j, which URL resolution would drop', async (id) => {
    const calls = mockPost('https://api.affonso.io/*', json({}));
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('conversionId');
    expect(calls).toHaveLength(0);
  });

  it('refuses an amount a JSON number cannot carry exactly', async () => {
    const calls = mockPost(urlFor('com_1'), json({}));
    const error = await refund({
      provider: createAffonso({ apiKey: KEY }),
      conversionId: 'com_1',
      amount: { value: Number.MAX_SAFE_INTEGER, currency: 'USD' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('amount.value');
    expect(calls).toHaveLength(0);
  });

  it('warns that customer is not sent', async () => {
    const calls = mockPost(urlFor('com_1'), json({ success: true, data: conversion() }));
    const result = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1', customer: { uid: 'u1' } });
    expect(calls[0]?.body).not.toHaveProperty('customer');
    expect(result.warnings).toEqual(['customer was not sent: Affonso identifies the conversion by its id alone']);
  });

  const envelope = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
    success: false,
    error: { code, message, ...extra },
  });

  it.each([
    [400, 'VALIDATION_ERROR', BadRequestError],
    [401, 'UNAUTHORIZED', AuthenticationError],
    [401, 'MISSING_API_KEY', AuthenticationError],
    [401, 'INVALID_API_KEY', AuthenticationError],
    [401, 'INVALID_API_KEY_FORMAT', AuthenticationError],
    [401, 'API_KEY_DISABLED', AuthenticationError],
    [401, 'API_KEY_EXPIRED', AuthenticationError],
    [403, 'FORBIDDEN', PermissionDeniedError],
    [403, 'INSUFFICIENT_PERMISSIONS', PermissionDeniedError],
    [404, 'NOT_FOUND', NotFoundError],
    [409, 'DUPLICATE_ERROR', ConflictError],
  ] as const)('maps %d %s to %s', async (status, code, ErrorClass) => {
    const body = envelope(code, 'Something is wrong');
    const calls = mockPost(urlFor('com_1'), json(body, status));
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1', idempotencyKey: 'k1' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toMatchObject({ provider: 'affonso', status, code, body, idempotencyKey: 'k1', retryable: false });
    expect((error as Error).message).toBe(`Affonso answered ${status} ${code}: Something is wrong.`);
    expect(calls).toHaveLength(1);
  });

  it('names the offending field from a VALIDATION_ERROR', async () => {
    mockPost(urlFor('com_1'), json(envelope('VALIDATION_ERROR', 'Amount exceeds the remaining sale amount', { field: 'amount' }), 400));
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'Affonso answered 400 VALIDATION_ERROR: Amount exceeds the remaining sale amount (field: amount).',
    );
  });

  it('maps 429 RATE_LIMIT_EXCEEDED to RateLimitError with retryAfter from the body when there is no header', async () => {
    const calls = mockPost(urlFor('com_1'), json(envelope('RATE_LIMIT_EXCEEDED', 'Too many requests', { retryAfter: 120 }), 429));
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED', retryAfter: 120_000, retryable: true });
    // 120 s is past the 60 s cap: fail fast instead of sleeping
    expect(calls).toHaveLength(1);
  });

  it('maps 5xx to ServerError', async () => {
    mockPost(urlFor('com_1'), json(envelope('INTERNAL_ERROR', 'boom'), 503, { 'retry-after': '0' }));
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1', maxRetries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, code: 'INTERNAL_ERROR', retryable: true });
  });

  it('treats success:false under a 2xx as an error (as @affonso/sdk does)', async () => {
    const body = envelope('VALIDATION_ERROR', 'Conversion already fully refunded');
    mockPost(urlFor('com_1'), json(body, 200));
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error).toMatchObject({ status: 200, code: 'VALIDATION_ERROR', body, retryable: false });
    expect((error as Error).message).toBe(
      'Affonso answered 200 but reported a failure (VALIDATION_ERROR: Conversion already fully refunded).',
    );
  });

  it('treats a 2xx body off the schema as ResponseValidationError, safe to retry with the same key', async () => {
    mockPost(urlFor('com_1'), json({ success: true, data: { id: 'com_1', sales_status: 7 } }));
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1', idempotencyKey: 'k1' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error).toMatchObject({ retryable: true, idempotencyKey: 'k1' });
    expect((error as ResponseValidationError).issues.map((i) => i.path)).toEqual(['data.sales_status']);
  });
});

describe('fields clawback does not read', () => {
  it('does not fail a refund Affonso applied because one of them changed shape', async () => {
    mockPost(urlFor('com_1'), json({ success: true, data: { ...conversion(), hold_period_days: '30', sale_amount: { value: 49.5 } } }));
    const result = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' });
    expect(result.status).toBe('partially_refunded');
    expect(result.raw).toMatchObject({ data: { hold_period_days: '30' } });
  });

  it('a __proto__ key in a vendor body stays data, in raw and in what the native call resolves to', async () => {
    const text = `{"success":true,"data":{"id":"com_1","status":"refunded","sales_status":"refunded","__proto__":{"polluted":true}}}`;
    mockPost(urlFor('com_1'), () => new Response(text, { headers: { 'content-type': 'application/json' } }));
    const provider = createAffonso({ apiKey: KEY });
    const result = await refund({ provider, conversionId: 'com_1' });
    mockPost(urlFor('com_1'), () => new Response(text, { headers: { 'content-type': 'application/json' } }));
    const native = await provider.conversions.refund('com_1');
    for (const data of [(result.raw as { data: Record<string, unknown> }).data, native as unknown as Record<string, unknown>]) {
      expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
      expect(data.polluted).toBeUndefined();
      expect(Object.keys(data)).toContain('__proto__');
      expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toEqual({ polluted: true });
    }
  });
});

describe('affonso.conversions.refund (native)', () => {
  it('sends the body verbatim and resolves to the conversion, like @affonso/sdk', async () => {
    const calls = mockPost(urlFor('com_abc123'), json({ success: true, data: conversion() }));
    const result = await createAffonso({ apiKey: KEY }).conversions.refund('com_abc123', {
      amount: 49.5,
      currency: 'USD',
      reason: 'customer_cancellation',
      external_event_id: 'refund_evt_123',
    });
    expect(calls[0]?.rawBody).toBe(
      '{"amount":49.5,"currency":"USD","reason":"customer_cancellation","external_event_id":"refund_evt_123"}',
    );
    expect(result).toEqual(conversion());
  });

  it('sends an empty body for a full refund', async () => {
    const calls = mockPost(urlFor('com_1'), json({ success: true, data: conversion() }));
    await createAffonso({ apiKey: KEY }).conversions.refund('com_1');
    expect(calls[0]?.rawBody).toBe('{}');
  });

  it('refuses amount: undefined, which would silently become a full refund', async () => {
    const calls = mockPost(urlFor('com_1'), json({}));
    const error = await createAffonso({ apiKey: KEY })
      .conversions.refund('com_1', { amount: undefined })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('amount');
    expect(calls).toHaveLength(0);
  });

  it.each([
    [{ amount: -1 }, 'amount'],
    [{ amount: '49.50' }, 'amount'],
    [{ currency: 'US' }, 'currency'],
    [{ refunded_at: 'yesterday' }, 'refunded_at'],
    [{ external_event_id: '' }, 'external_event_id'],
  ])('refuses the invalid body %j', async (body, field) => {
    const calls = mockPost(urlFor('com_1'), json({}));
    const error = await createAffonso({ apiKey: KEY })
      .conversions.refund('com_1', body as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(calls).toHaveLength(0);
  });
});
