import { describe, expect, it } from 'vitest';
import { createEmulator, type ConversionSeed, type EmulatorOptions } from '../../src/testing/index.js';
import { call } from './support.js';

const usd = (value: number) => ({ value, currency: 'USD' });
const sale = (id: string, value = 12_000, extra: Partial<ConversionSeed> = {}): ConversionSeed => ({
  id,
  sale: usd(value),
  commission: 3_600,
  ...extra,
});
const emulatorWith = (options: EmulatorOptions) => createEmulator({ rateLimits: {}, ...options });

describe('Affixo emulation', () => {
  const seeded = () => emulatorWith({ seed: { affixo: [sale('order_1')] } });

  it('reverses the whole conversion', async () => {
    const emulator = seeded();
    const answer = await call(emulator, 'affixo', { external_id: 'order_1' });
    expect(answer).toMatchObject({ status: 200, body: { ok: true, conversion_id: expect.stringMatching(/^cv_/) } });
    expect(emulator.ledger.conversion('affixo', 'order_1')).toMatchObject({ refunded: 12_000, commission: 0, commissionStatus: 'refunded' });
    expect(emulator.ledger.refunds()).toEqual([expect.objectContaining({ amount: 12_000, commissionChange: -3_600 })]);
  });

  it('is idempotent on external_id', async () => {
    const emulator = seeded();
    await call(emulator, 'affixo', { external_id: 'order_1' });
    const again = await call(emulator, 'affixo', { external_id: 'order_1' });
    expect(again.status).toBe(200);
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it.each([
    ['an unknown conversion', { external_id: 'nope' }, {}, 404, { error: 'unknown_resource' }],
    ['no external_id', {}, {}, 400, { error: 'external_id_required' }],
    ['no key', { external_id: 'order_1' }, { authorization: '' }, 401, { error: 'unauthorized' }],
    ['a wrong key', { external_id: 'order_1' }, { authorization: 'Bearer sa_live_wrong' }, 401, { error: 'unauthorized' }],
    ['an affiliate key', { external_id: 'order_1' }, { authorization: 'Bearer refa_live_x' }, 403, { error: 'insufficient_scope', need: 'track' }],
  ])('answers %s', async (_, body, headers, status, expected) => {
    const emulator = seeded();
    const answer = await call(emulator, 'affixo', body, { headers });
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject(expected);
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it('answers invalid JSON with 400 invalid_json', async () => {
    const answer = await call(seeded(), 'affixo', undefined, { rawBody: '{"external_id":' });
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
  });

  it('refuses a workspace key without the track scope', async () => {
    const emulator = emulatorWith({
      seed: { affixo: [sale('order_1')] },
      apiKeys: { affixo: [{ key: 'sa_live_readonly', scopes: ['read'] }] },
    });
    const answer = await call(emulator, 'affixo', { external_id: 'order_1' }, { headers: { authorization: 'Bearer sa_live_readonly' } });
    expect(answer).toMatchObject({ status: 403, body: { error: 'insufficient_scope', need: 'track' } });
  });

  it('limits each key to its rate per minute', async () => {
    const emulator = emulatorWith({ seed: { affixo: [sale('order_1')] }, rateLimits: { affixo: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(emulator, 'affixo', { external_id: 'order_1' })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('Affonso emulation', () => {
  const seeded = (extra: Partial<ConversionSeed> = {}) => emulatorWith({ seed: { affonso: [sale('com_1', 12_000, extra), sale('com_2')] } });

  it('applies a partial refund in major units and reduces the commission in proportion', async () => {
    const emulator = seeded();
    const answer = await call(emulator, 'affonso', { amount: 25, currency: 'USD', external_event_id: 'e1' });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({
      id: 'com_1',
      sale_amount: 120,
      commission_amount: 28.5,
      sales_status: 'partial_refunded',
      status: 'ready_for_payment',
      replayed: false,
    });
    expect(emulator.ledger.refunds()).toEqual([expect.objectContaining({ amount: 2_500, commissionChange: -750, idempotencyKey: 'e1' })]);
  });

  it('refunds the remaining balance when amount is omitted, marking sale and commission refunded', async () => {
    const emulator = seeded();
    await call(emulator, 'affonso', { amount: 20 });
    const answer = await call(emulator, 'affonso', {});
    expect(answer.body.data).toMatchObject({ sales_status: 'refunded', status: 'refunded', commission_amount: 0 });
    expect(emulator.ledger.refunds().map((refund) => refund.amount)).toEqual([2_000, 10_000]);
  });

  it('replays a refund with the same external_event_id instead of applying it again', async () => {
    const emulator = seeded();
    await call(emulator, 'affonso', { amount: 10, external_event_id: 'evt_1' });
    const replay = await call(emulator, 'affonso', { amount: 10, external_event_id: 'evt_1' });
    expect(replay.body.data).toMatchObject({ replayed: true, sales_status: 'partial_refunded' });
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it('answers 409 DUPLICATE_ERROR for an external_event_id used on another conversion', async () => {
    const emulator = seeded();
    await call(emulator, 'affonso', { amount: 10, external_event_id: 'evt_1' });
    const answer = await call(emulator, 'affonso', { amount: 10, external_event_id: 'evt_1' }, { id: 'com_2' });
    expect(answer).toMatchObject({ status: 409, body: { error: { code: 'DUPLICATE_ERROR' } } });
  });

  it.each([
    ['an over-refund', { amount: 120.01 }, 'amount'],
    ['more decimals than the currency has', { amount: 10.005 }, 'amount'],
    ['a non-positive amount', { amount: 0 }, 'amount'],
    ['another currency', { amount: 10, currency: 'EUR' }, 'currency'],
    ['a malformed refunded_at', { refunded_at: 'yesterday' }, 'refunded_at'],
    ['a refunded_at that is not ISO 8601', { refunded_at: '-5' }, 'refunded_at'],
  ])('rejects %s with 400 VALIDATION_ERROR naming the field', async (_, body, field) => {
    const emulator = seeded();
    const answer = await call(emulator, 'affonso', body);
    expect(answer).toMatchObject({ status: 400, body: { success: false, error: { code: 'VALIDATION_ERROR', field } } });
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it('rejects a refund of a fully refunded conversion', async () => {
    const emulator = seeded({ refunded: 12_000 });
    const answer = await call(emulator, 'affonso', {});
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR' } } });
  });

  it('answers 404 NOT_FOUND for an unknown conversion id', async () => {
    const answer = await call(seeded(), 'affonso', {}, { id: 'com_missing' });
    expect(answer).toMatchObject({ status: 404, body: { success: false, error: { code: 'NOT_FOUND' } } });
  });

  it.each([
    ['no key', '', 'MISSING_API_KEY'],
    ['a key of the wrong format', 'Bearer pk_live_x', 'INVALID_API_KEY_FORMAT'],
    ['an unknown key', 'Bearer sk_live_unknown', 'INVALID_API_KEY'],
  ])('answers %s with 401 %s', async (_, authorization, code) => {
    const answer = await call(seeded(), 'affonso', {}, { headers: { authorization } });
    expect(answer).toMatchObject({ status: 401, body: { success: false, error: { code } } });
  });

  it('sends X-RateLimit-* on every response, and Retry-After with retryAfter on 429', async () => {
    const emulator = emulatorWith({ seed: { affonso: [sale('com_1')] }, rateLimits: { affonso: [{ limit: 100, interval: 60_000 }, { limit: 2, interval: 1_000 }] } });
    const first = await call(emulator, 'affonso', { amount: 1 });
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1' });
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    await call(emulator, 'affonso', { amount: 1 });
    const limited = await call(emulator, 'affonso', { amount: 1 });
    expect(limited).toMatchObject({
      status: 429,
      headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0' },
      body: { success: false, error: { code: 'RATE_LIMIT_EXCEEDED' }, retryAfter: 1 },
    });
    expect(emulator.ledger.refunds()).toHaveLength(2);
  });
});

describe('RefCampaign emulation', () => {
  const seeded = (extra: Partial<ConversionSeed> = {}) => emulatorWith({ seed: { refcampaign: [sale('order_1', 12_000, extra)] } });

  it('refunds in full, and treats a second full refund as a no-op (alreadyRefunded)', async () => {
    const emulator = seeded();
    const first = await call(emulator, 'refcampaign', { externalId: 'order_1' });
    expect(first.body).toMatchObject({ success: true, data: { alreadyRefunded: false }, meta: { requestId: expect.any(String) } });
    const second = await call(emulator, 'refcampaign', { externalId: 'order_1' });
    expect(second.body.data.alreadyRefunded).toBe(true);
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it('applies a partial refund every time it is sent: there is no key to deduplicate it', async () => {
    const emulator = seeded();
    await call(emulator, 'refcampaign', { externalId: 'order_1', amount: 1_000 });
    await call(emulator, 'refcampaign', { externalId: 'order_1', amount: 1_000 });
    expect(emulator.ledger.refunds().map((refund) => refund.amount)).toEqual([1_000, 1_000]);
    expect(emulator.ledger.conversion('refcampaign', 'order_1')?.refunded).toBe(2_000);
  });

  it('gives a paid commission a prorated negative clawback', async () => {
    const emulator = seeded({ commissionStatus: 'paid' });
    await call(emulator, 'refcampaign', { externalId: 'order_1', amount: 6_000 });
    expect(emulator.ledger.refunds()[0]?.commissionChange).toBe(-1_800);
  });

  it('rejects a pending commission with 409', async () => {
    const emulator = seeded({ commissionStatus: 'pending' });
    const answer = await call(emulator, 'refcampaign', { externalId: 'order_1' });
    expect(answer).toMatchObject({ status: 409, body: { success: false, error: { message: 'Conversion not refundable (status: PENDING)' } } });
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it.each([
    ['an over-refund', { externalId: 'order_1', amount: 12_001 }],
    ['a decimal amount', { externalId: 'order_1', amount: 10.5 }],
    ['an empty externalId', { externalId: '' }],
    ['an externalId over 255 characters', { externalId: 'x'.repeat(256) }],
  ])('rejects %s with 400 VALIDATION_FAILED', async (_, body) => {
    const emulator = seeded();
    const answer = await call(emulator, 'refcampaign', body);
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it('answers 404 NOT_FOUND and 401 UNAUTHORIZED in its envelope, with a requestId', async () => {
    const emulator = seeded();
    const missing = await call(emulator, 'refcampaign', { externalId: 'nope' });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' }, meta: { requestId: expect.any(String) } } });
    const unauthorized = await call(emulator, 'refcampaign', { externalId: 'order_1' }, { headers: { authorization: 'Bearer rc_live_wrong' } });
    expect(unauthorized).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
  });

  it('answers 429 RATE_LIMIT_EXCEEDED with Retry-After past its limit', async () => {
    const emulator = emulatorWith({ seed: { refcampaign: [sale('order_1')] }, rateLimits: { refcampaign: 1 } });
    await call(emulator, 'refcampaign', { externalId: 'order_1', amount: 1 });
    const limited = await call(emulator, 'refcampaign', { externalId: 'order_1', amount: 1 });
    expect(limited).toMatchObject({ status: 429, headers: { 'retry-after': expect.stringMatching(/^\d+$/) }, body: { error: { code: 'RATE_LIMIT_EXCEEDED' } } });
  });
});

describe('FirstPromoter emulation', () => {
  const lead = { email: 'ana@example.com', uid: 'u_ana' };
  const seeded = () =>
    emulatorWith({
      seed: {
        firstpromoter: [
          sale('sale_1', 10_000, { lead, commission: 2_000 }),
          sale('sale_2', 5_000, { lead, commission: 1_000 }),
        ],
      },
    });

  it('records a refund with negative amount and reward, for the lead by email', async () => {
    const emulator = seeded();
    const answer = await call(emulator, 'firstpromoter', { event_id: 'r1', amount: '2500', email: lead.email, sale_event_id: 'sale_1' });
    expect(answer).toMatchObject({
      status: 200,
      body: { type: 'refund', amount_cents: -2_500, reward: { amount: -500, unit: 'cash', event_id: 'r1' }, lead: { email: lead.email } },
    });
    expect(emulator.ledger.refunds()).toEqual([expect.objectContaining({ conversionId: 'sale_1', amount: 2_500, idempotencyKey: 'r1' })]);
  });

  it("finds the lead by uid, and without sale_event_id refunds the lead's latest sale", async () => {
    const emulator = seeded();
    await call(emulator, 'firstpromoter', { event_id: 'r1', amount: '1000', uid: lead.uid });
    expect(emulator.ledger.refunds()[0]?.conversionId).toBe('sale_2');
  });

  it('answers 409 for a repeated event_id, naming it, and records nothing more', async () => {
    const emulator = seeded();
    await call(emulator, 'firstpromoter', { event_id: 'r1', amount: '1000', uid: lead.uid });
    const again = await call(emulator, 'firstpromoter', { event_id: 'r1', amount: '1000', uid: lead.uid });
    expect(again).toMatchObject({ status: 409, body: { message: "The 'refund' event with the id 'r1' already exists." } });
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it.each([
    ['an unknown lead', { event_id: 'r1', amount: '100', email: 'nobody@example.com' }],
    ['a sale of another lead', { event_id: 'r1', amount: '100', email: lead.email, sale_event_id: 'sale_x' }],
  ])('answers 204 No Content, recording nothing, for %s', async (_, body) => {
    const emulator = seeded();
    const answer = await call(emulator, 'firstpromoter', body);
    expect(answer).toEqual({ status: 204, headers: {}, body: undefined });
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it.each([
    ['an amount that is not a string of cents', { event_id: 'r1', amount: 10.5, uid: lead.uid }, 'Error. Amount blank or invalid.'],
    ['no amount', { event_id: 'r1', uid: lead.uid }, 'Error. Amount blank or invalid.'],
    ['an over-refund', { event_id: 'r1', amount: '10001', uid: lead.uid, sale_event_id: 'sale_1' }, 'Error. Refund amount exceeds the amount left on the sale.'],
  ])('answers 400 for %s', async (_, body, message) => {
    const answer = await call(seeded(), 'firstpromoter', body);
    expect(answer).toMatchObject({ status: 400, body: { message } });
  });

  it('checks both the key and the Account-ID', async () => {
    const emulator = seeded();
    const body = { event_id: 'r1', amount: '100', uid: lead.uid };
    expect((await call(emulator, 'firstpromoter', body, { headers: { 'account-id': '' } })).status).toBe(401);
    expect((await call(emulator, 'firstpromoter', body, { headers: { 'account-id': 'acc_other' } })).status).toBe(401);
    expect((await call(emulator, 'firstpromoter', body, { headers: { authorization: 'Bearer fp_wrong' } })).status).toBe(401);
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it('limits each account to its rate per minute', async () => {
    const emulator = emulatorWith({ seed: { firstpromoter: [sale('sale_1', 10_000, { lead })] }, rateLimits: { firstpromoter: 1 } });
    await call(emulator, 'firstpromoter', { event_id: 'r1', amount: '1', uid: lead.uid });
    const limited = await call(emulator, 'firstpromoter', { event_id: 'r2', amount: '1', uid: lead.uid });
    expect(limited).toMatchObject({ status: 429, headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
  });
});

describe('seeding', () => {
  it('refuses a FirstPromoter conversion without a lead, and a non-integer sale', () => {
    expect(() => createEmulator({ seed: { firstpromoter: [sale('s')] } })).toThrow(/needs lead.email or lead.uid/);
    expect(() => createEmulator({ seed: { affixo: [sale('s', 10.5)] } })).toThrow(/positive integer of minor units/);
  });

  it('starts a conversion already partly refunded, with its commission reduced', () => {
    const emulator = createEmulator({ seed: { affonso: [sale('com_1', 12_000, { refunded: 6_000 })] } });
    expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 6_000, commission: 1_800, commissionStatus: 'approved' });
  });

  it('hands out copies: changing them does not change the ledger', () => {
    const emulator = createEmulator({ seed: { affixo: [sale('o')] } });
    const copy = emulator.ledger.conversion('affixo', 'o');
    if (copy) copy.refunded = 999;
    expect(emulator.ledger.conversion('affixo', 'o')?.refunded).toBe(0);
  });
});
