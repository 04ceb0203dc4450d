import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError,
  ServerError,
  ValidationError,
  createAffixo,
  refund,
} from '../../src/index.js';
import { json, mockPost, useVendorMock } from '../support/vendor-mock.js';

useVendorMock();

const URL = 'https://go.affixo.dev/v1/track/refund';
const KEY = 'sa_live_affixo_test_key_0001';

describe('Affixo refund()', () => {
  it('sends POST /v1/track/refund with the bearer key and { external_id } only', async () => {
    const calls = mockPost(URL, json({ ok: true, conversion_id: 'cv_9' }));
    const result = await refund({ provider: createAffixo({ apiKey: KEY }), conversionId: 'order_1234' });

    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      method: 'POST',
      url: URL,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept: 'application/json' },
    });
    expect(calls[0]?.rawBody).toBe('{"external_id":"order_1234"}');
    expect(result).toEqual({
      provider: 'affixo',
      conversionId: 'order_1234',
      status: 'refunded',
      duplicate: false,
      idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/),
      warnings: [],
      raw: { ok: true, conversion_id: 'cv_9' },
    });
  });

  it('reports options Affixo cannot carry as warnings and does not send them', async () => {
    const calls = mockPost(URL, json({ ok: true }));
    const result = await refund({
      provider: createAffixo({ apiKey: KEY }),
      conversionId: 'order_1',
      reason: 'chargeback',
      refundedAt: new Date('2026-06-22T16:10:00Z'),
      customer: { email: 'a@b.co' },
    });
    expect(calls[0]?.body).toEqual({ external_id: 'order_1' });
    expect(result.warnings).toEqual([
      "reason was not sent: Affixo's refund call takes only external_id",
      "refundedAt was not sent: Affixo's refund call takes only external_id",
      "customer was not sent: Affixo's refund call takes only external_id",
    ]);
  });

  it('refuses a partial refund before the network instead of reversing the whole conversion', async () => {
    const calls = mockPost(URL, json({ ok: true }));
    const error = await refund({
      provider: createAffixo({ apiKey: KEY }),
      conversionId: 'order_1',
      // @ts-expect-error Affixo takes no amount
      amount: { value: 4950, currency: 'USD' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('amount');
    expect((error as ValidationError).message).toMatch(/only reverses whole conversions/);
    expect(calls).toHaveLength(0);
  });

  it('refuses an affiliate key (refa_…) before the network, without echoing it', async () => {
    const calls = mockPost(URL, json({ ok: true }));
    const affiliateKey = 'refa_live_0123456789abcdef';
    const error = await refund({ provider: createAffixo({ apiKey: affiliateKey }), conversionId: 'o' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('apiKey');
    expect((error as ValidationError).message).toMatch(/affiliate key \(refa_…\)/);
    expect((error as ValidationError).message).not.toContain(affiliateKey);
    expect(calls).toHaveLength(0);
  });

  it.each([
    [400, { error: 'external_id_required' }, BadRequestError, 'external_id_required'],
    [400, { error: 'invalid_json' }, BadRequestError, 'invalid_json'],
    [401, { error: 'unauthorized' }, AuthenticationError, 'unauthorized'],
    [404, { error: 'unknown_resource', detail: 'no conversion with that external_id' }, NotFoundError, 'unknown_resource'],
  ] as const)('maps %d %j to %s', async (status, body, ErrorClass, code) => {
    mockPost(URL, json(body, status));
    const error = await refund({ provider: createAffixo({ apiKey: KEY }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toMatchObject({ provider: 'affixo', status, code, body, retryable: false });
  });

  it('maps 403 insufficient_scope to PermissionDeniedError with the missing scope', async () => {
    mockPost(URL, json({ error: 'insufficient_scope', need: 'track' }, 403));
    const error = await refund({ provider: createAffixo({ apiKey: KEY }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, code: 'insufficient_scope', need: 'track', retryable: false });
    expect((error as Error).message).toBe('Affixo answered 403 insufficient_scope: the key lacks the "track" scope.');
  });

  it('maps 500 conversion_failed to a retryable ServerError once retries are used up', async () => {
    const calls = mockPost(URL, json({ error: 'conversion_failed' }, 500, { 'retry-after': '0' }));
    const error = await refund({ provider: createAffixo({ apiKey: KEY }), conversionId: 'o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 500, code: 'conversion_failed', retryable: true });
    // external_id makes the reversal idempotent, so the two default retries were made
    expect(calls).toHaveLength(3);
  });
});

describe('affixo.track.refund (native)', () => {
  it('takes the documented body verbatim and resolves to the documented 200 body', async () => {
    const calls = mockPost(URL, json({ ok: true, conversion_id: 'cv_1', extra_field: 1 }));
    const response = await createAffixo({ apiKey: KEY }).track.refund({ external_id: 'order_1234' });
    expect(calls[0]?.rawBody).toBe('{"external_id":"order_1234"}');
    expect(response).toEqual({ ok: true, conversion_id: 'cv_1', extra_field: 1 });
  });

  it('rejects unknown body fields (a typo must not reach the vendor)', async () => {
    const calls = mockPost(URL, json({ ok: true }));
    const error = await createAffixo({ apiKey: KEY })
      // @ts-expect-error externalId is RefCampaign's spelling
      .track.refund({ externalId: 'order_1234' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'external_id', message: 'is required' },
      { path: 'externalId', message: 'is not a known option (did you mean "external_id"?)' },
    ]);
    expect(calls).toHaveLength(0);
  });
});
