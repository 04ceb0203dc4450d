import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  ValidationError,
  createFirstPromoter,
  refund,
} from '../../src/index.js';
import { empty, json, mockPost, useVendorMock } from '../support/vendor-mock.js';

useVendorMock();

const URL = 'https://api.firstpromoter.com/api/v2/track/refund';
const KEY = 'fp_firstpromoter_test_key_0001';
const ACCOUNT = 'acc_42';
const provider = () => createFirstPromoter({ apiKey: KEY, accountId: ACCOUNT });

/** A valid refund of USD 1.00 for lead "u", with `extra` options on top. */
const refundOneDollar = (extra: { idempotencyKey?: string; reason?: string; refundedAt?: string; customer?: { email: string } } = {}) =>
  refund({ provider: provider(), conversionId: 's', amount: { value: 100, currency: 'USD' }, customer: { uid: 'u' }, ...extra });

/** The documented 200 body (trimmed lead and promoter). */
const refundEvent = {
  id: 33847726,
  type: 'refund',
  amount_cents: -1000,
  reward: {
    id: 10940148,
    status: 'approved',
    amount: -200,
    unit: 'cash',
    created_at: '2024-09-11T14:36:01.016Z',
    event_id: 'test_sale_12340987_refund',
    conversion_amount: -1000,
    tier_level: 1,
    split_type: null,
  },
  lead: { id: 20738339, state: 'cancelled', email: 'hello@testmintli.com', uid: null },
  promoter: { id: 3920164, status: 'active', email: 'peluwydo@mailinator.com' },
};

describe('fields clawback does not read', () => {
  it('does not fail a refund FirstPromoter applied because one of them changed shape', async () => {
    mockPost(URL, json({ ...refundEvent, amount_cents: '-1000', lead: 'cancelled', reward: { ...refundEvent.reward, tier_level: 'one' } }));
    const result = await refundOneDollar();
    expect(result.commission).toEqual({ value: -200 });
  });
});

describe('FirstPromoter refund()', () => {
  it('sends Bearer + Account-ID and the documented body: cents as a string, key as event_id', async () => {
    const calls = mockPost(URL, json(refundEvent));
    const result = await refund({
      provider: provider(),
      conversionId: 'sale_evt_1',
      amount: { value: 1000, currency: 'USD' },
      customer: { email: 'hello@testmintli.com' },
      idempotencyKey: 'test_sale_12340987_refund',
      providerOptions: { firstpromoter: { quantity: 2, skipEmailNotification: true } },
    });

    expect(calls[0]).toMatchObject({
      method: 'POST',
      url: URL,
      headers: { authorization: `Bearer ${KEY}`, 'account-id': ACCOUNT, 'content-type': 'application/json' },
    });
    expect(calls[0]?.rawBody).toBe(
      '{"event_id":"test_sale_12340987_refund","amount":"1000","currency":"USD","sale_event_id":"sale_evt_1","email":"hello@testmintli.com","quantity":"2","skip_email_notification":true}',
    );
    expect(result).toEqual({
      provider: 'firstpromoter',
      conversionId: 'sale_evt_1',
      status: 'accepted',
      duplicate: false,
      idempotencyKey: 'test_sale_12340987_refund',
      amount: { value: 1000, currency: 'USD' },
      commission: { value: -200 },
      warnings: [],
      raw: refundEvent,
    });
  });

  it.each([
    [4950, 'USD', '4950'],
    [500, 'JPY', '500'],
  ])('sends %d %s as the string %j', async (value, currency, wire) => {
    const calls = mockPost(URL, json(refundEvent));
    await refund({ provider: provider(), conversionId: 's', amount: { value, currency }, customer: { uid: 'u_1' } });
    expect(calls[0]?.body).toMatchObject({ amount: wire, currency, uid: 'u_1' });
    expect(calls[0]?.body).not.toHaveProperty('email');
  });

  it('refuses KWD (three decimals), whose unit FirstPromoter does not document', async () => {
    const calls = mockPost(URL, json(refundEvent));
    const error = await refund({
      provider: provider(),
      conversionId: 's',
      amount: { value: 1234, currency: 'KWD' },
      customer: { uid: 'u_1' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('amount.currency');
    expect(calls).toHaveLength(0);
  });

  it.each([
    [{}, ['amount', 'customer']],
    [{ amount: { value: 100, currency: 'USD' } }, ['customer']],
    [{ amount: { value: 100, currency: 'USD' }, customer: { email: 'a@b.co', uid: 'u' } }, ['customer']],
    [
      { amount: { value: 100, currency: 'USD' }, customer: { uid: 'u' }, providerOptions: { firstpromoter: { quantity: 0 } } },
      ['providerOptions.firstpromoter.quantity'],
    ],
    [
      { amount: { value: 100, currency: 'USD' }, customer: { uid: 'u' }, providerOptions: { firstpromoter: { qty: 2 } } },
      ['providerOptions.firstpromoter.qty'],
    ],
  ])('refuses %j before the network, naming %j', async (options, fields) => {
    const calls = mockPost(URL, json(refundEvent));
    const error = await refund({ provider: provider(), conversionId: 's', ...(options as object) } as never).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual(fields);
    expect(calls).toHaveLength(0);
  });

  it('reports a 409 on its own event_id as a duplicate, not an error', async () => {
    const body = { message: "The 'refund' event with the id 'evt_1' already exists." };
    mockPost(URL, json(body, 409));
    const result = await refundOneDollar({ idempotencyKey: 'evt_1' });
    expect(result).toMatchObject({ duplicate: true, status: 'accepted', idempotencyKey: 'evt_1', raw: body });
  });

  it.each([
    ['names another event id', "The 'refund' event with the id 'someone_else' already exists."],
    ['names no event id', 'Conflict'],
    ['names this id in other words', "Event 'evt_1' is locked"],
  ])('a 409 that %s is a ConflictError flagged ambiguous: never re-send it under a new key', async (_, message) => {
    mockPost(URL, json({ message }, 409));
    for (const call of [
      () => refundOneDollar({ idempotencyKey: 'evt_1' }),
      () => provider().track.refund({ event_id: 'evt_1', amount: '100', email: 'hello@testmintli.com' }),
    ]) {
      const error = await (call() as Promise<unknown>).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ status: 409, ambiguous: true, retryable: false, idempotencyKey: 'evt_1' });
      expect((error as Error).message).toBe(
        `FirstPromoter answered 409: ${message.replace(/\.$/, '')}. FirstPromoter documents a 409 only for a refund whose event_id already exists, and this answer does not say that of this call's event_id ('evt_1'), so the refund may or may not have been recorded. Check the refund at FirstPromoter; do not send it again under a new key, which could refund twice.`,
      );
    }
  });

  it('a 409 naming this event_id stays a plain ConflictError on the native call (refund() reads it as a replay)', async () => {
    mockPost(URL, json({ message: "The 'refund' event with the id 'evt_1' already exists." }, 409));
    const error = await provider().track.refund({ event_id: 'evt_1', amount: '100', email: 'hello@testmintli.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ ambiguous: false, retryable: false });
  });

  it('treats 204 No Content as NotFoundError: nothing was recorded', async () => {
    mockPost(URL, empty(204));
    const error = await refundOneDollar({ customer: { email: 'nobody@example.com' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 204, provider: 'firstpromoter', retryable: false });
    expect((error as Error).message).toMatch(/nothing was recorded/);
  });

  it('maps 400 "Amount blank or invalid." to BadRequestError', async () => {
    mockPost(URL, json({ message: 'Error. Amount blank or invalid.' }, 400));
    const error = await refundOneDollar().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toBe('FirstPromoter answered 400: Error. Amount blank or invalid.');
  });

  it('maps 404 { message, code } to NotFoundError with the code', async () => {
    mockPost(URL, json({ message: 'Lead not found', code: 'not_found' }, 404));
    const error = await refundOneDollar().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('warns about reason and refundedAt, which FirstPromoter has no field for', async () => {
    const calls = mockPost(URL, json(refundEvent));
    const result = await refundOneDollar({ reason: 'fraud', refundedAt: '2026-01-01T00:00:00Z' });
    expect(calls[0]?.body).not.toHaveProperty('reason');
    expect(result.warnings).toEqual([
      "reason was not sent: FirstPromoter's refund call has no reason field",
      "refundedAt was not sent: FirstPromoter's refund call has no refund date field",
    ]);
  });
});

describe('firstpromoter.track.refund (native)', () => {
  it('sends the body verbatim, key order included, and resolves to the documented 200 body', async () => {
    const calls = mockPost(URL, json(refundEvent));
    const body = { event_id: 'e1', amount: '1000', currency: 'USD', sale_event_id: 'sale_1', uid: 'lead_1' };
    const response = await provider().track.refund(body);
    expect(calls[0]?.rawBody).toBe(JSON.stringify(body));
    expect(response).toEqual(refundEvent);
  });

  it('throws ConflictError on 409, with FirstPromoter\'s message', async () => {
    mockPost(URL, json({ message: "The 'refund' event with the id 'e1' already exists." }, 409));
    const error = await provider()
      .track.refund({ event_id: 'e1', amount: '1000', uid: 'u' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ idempotencyKey: 'e1' });
  });

  it.each([
    [{ event_id: 'e', amount: 1000, uid: 'u' }, 'amount'],
    [{ event_id: 'e', amount: '10.50', uid: 'u' }, 'amount'],
    [{ event_id: 'e', amount: '1000' }, 'email'],
    [{ event_id: 'e', amount: '1000', uid: 'u', email: 'a@b.co' }, 'email'],
    [{ amount: '1000', uid: 'u' }, 'event_id'],
  ])('refuses %j before the network', async (body, field) => {
    const calls = mockPost(URL, json(refundEvent));
    const error = await provider()
      .track.refund(body as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(calls).toHaveLength(0);
  });
});
