import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError, refundMany, type RefundProvider } from 'clawback';
import { createEmulator } from 'clawback/testing';
import { emulatorHandlers } from 'clawback/testing/msw';
import { fromStripeAmount, refundsFromStripeEvent, refundsFromStripeEventAsync, type StripeSource } from 'clawback/stripe';

const emulator = createEmulator({ rateLimits: { affixo: false, affonso: false, refcampaign: false, firstpromoter: false } });
const server = setupServer(...emulatorHandlers(emulator));
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => emulator.reset());
afterAll(() => server.close());

const providers = emulator.providers();
const CREATED = 1_763_900_000;

// Stripe objects as Stripe documents them (docs.stripe.com/api/refunds/object, /charges/object,
// /disputes/object, /events/object), with only a few of their many fields.
const refund = (fields: Record<string, unknown> = {}) => ({
  id: 're_1',
  object: 'refund',
  amount: 1_000,
  balance_transaction: 'txn_1',
  charge: 'ch_1',
  created: CREATED,
  currency: 'usd',
  metadata: {},
  payment_intent: 'pi_1',
  reason: 'requested_by_customer',
  status: 'succeeded',
  ...fields,
});
const charge = (fields: Record<string, unknown> = {}) => ({
  id: 'ch_1',
  object: 'charge',
  amount: 5_000,
  amount_captured: 5_000,
  amount_refunded: 1_000,
  currency: 'usd',
  metadata: { order_id: 'order_1' },
  payment_intent: 'pi_1',
  refunded: false,
  ...fields,
});
const dispute = (fields: Record<string, unknown> = {}) => ({
  id: 'dp_1',
  object: 'dispute',
  amount: 5_000,
  charge: 'ch_1',
  created: CREATED,
  currency: 'usd',
  metadata: {},
  payment_intent: 'pi_1',
  reason: 'fraudulent',
  status: 'needs_response',
  ...fields,
});
let eventCount = 0;
const event = (type: string, object: unknown) => ({
  id: `evt_${++eventCount}`,
  object: 'event',
  api_version: '2025-10-29.clover',
  created: CREATED,
  livemode: false,
  type,
  data: { object },
});

/** What a synchronous call threw. */
const thrown = (call: () => unknown): unknown => {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
};

const byCharge = (source: StripeSource) => (source.chargeId === 'ch_1' ? 'com_1' : undefined);
const usd = (value: number) => ({ value, currency: 'USD' });

describe('refundsFromStripeEvent: events', () => {
  it('refund.created (succeeded): one Affonso partial refund keyed by the re_ id, with what the lookup is given', async () => {
    const conversionId = vi.fn(byCharge);
    const object = refund({ metadata: { note: 'x' } });
    const { items, skipped } = refundsFromStripeEvent(event('refund.created', object), { provider: providers.affonso, conversionId });
    expect(skipped).toEqual([]);
    expect(items).toEqual([
      {
        provider: providers.affonso,
        conversionId: 'com_1',
        amount: usd(1_000),
        refundId: 're_1',
        reason: 'Stripe refund re_1 (requested_by_customer)',
        refundedAt: new Date(CREATED * 1000).toISOString(),
      },
    ]);
    expect(conversionId).toHaveBeenCalledOnce();
    expect(conversionId.mock.calls[0]?.[0]).toMatchObject({
      chargeId: 'ch_1',
      paymentIntentId: 'pi_1',
      refundId: 're_1',
      metadata: { note: 'x' },
      object: { id: 're_1', balance_transaction: 'txn_1' },
      eventType: 'refund.created',
    });
  });

  it('refund.updated and charge.refund.updated give the same item as refund.created, so they replay each other', async () => {
    const results = await Promise.all(
      ['refund.created', 'refund.updated', 'charge.refund.updated'].map((type) =>
        refundsFromStripeEvent(event(type, refund()), { provider: providers.affonso, conversionId: byCharge }),
      ),
    );
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('a pending or requires_action refund is skipped, pointing at refund.updated; the lookup is not called', async () => {
    for (const status of ['pending', 'requires_action']) {
      const conversionId = vi.fn(byCharge);
      const { items, skipped } = refundsFromStripeEvent(event('refund.created', refund({ status })), { provider: providers.affonso, conversionId });
      expect(items).toEqual([]);
      expect(skipped).toEqual([{ reason: expect.stringMatching(new RegExp(`re_1: is ${status}.*refund\\.updated`)) }]);
      expect(conversionId).not.toHaveBeenCalled();
    }
  });

  it('a failed or canceled refund is skipped, saying an earlier reversal is not restored', async () => {
    for (const [type, status] of [['refund.failed', 'failed'], ['refund.updated', 'canceled']]) {
      const { items, skipped } = refundsFromStripeEvent(event(type as string, refund({ status })), { provider: providers.affonso, conversionId: byCharge });
      expect(items).toEqual([]);
      expect(skipped[0]?.reason).toMatch(/nothing was refunded.*does not restore it/);
    }
  });

  it('charge.refunded with the refunds listed: one item per succeeded refund, the others skipped', async () => {
    const object = charge({
      amount_refunded: 3_000,
      refunds: {
        object: 'list',
        data: [refund({ id: 're_2', amount: 2_000 }), refund({ id: 're_1' }), refund({ id: 're_3', status: 'pending' })],
        has_more: false,
      },
    });
    const conversionId = vi.fn((source: StripeSource) => source.metadata.order_id && 'com_1');
    const { items, skipped } = refundsFromStripeEvent(event('charge.refunded', object), { provider: providers.affonso, conversionId });
    expect(items.map((item) => [item.refundId, item.amount])).toEqual([
      ['re_2', usd(2_000)],
      ['re_1', usd(1_000)],
    ]);
    expect(skipped).toEqual([{ reason: expect.stringContaining('refund re_3: is pending') }]);
    expect(conversionId.mock.calls.map(([source]) => [source.refundId, source.chargeId, source.object.id])).toEqual([
      ['re_2', 'ch_1', 'ch_1'],
      ['re_1', 'ch_1', 'ch_1'],
    ]);
  });

  it('charge.refunded without the refunds (API versions from 2022-11-15) is skipped, pointing at refund.created', async () => {
    const conversionId = vi.fn(byCharge);
    const { items, skipped } = refundsFromStripeEvent(event('charge.refunded', charge()), { provider: providers.affonso, conversionId });
    expect(items).toEqual([]);
    expect(skipped).toEqual([{ reason: expect.stringMatching(/ch_1: .*does not list the charge's refunds.*refund\.created/) }]);
    expect(conversionId).not.toHaveBeenCalled();
  });

  it('charge.refunded with has_more says the refunds left out come as refund.created', async () => {
    const object = charge({ refunds: { object: 'list', data: [refund()], has_more: true } });
    const { items, skipped } = refundsFromStripeEvent(event('charge.refunded', object), { provider: providers.affonso, conversionId: byCharge });
    expect(items).toHaveLength(1);
    expect(skipped).toEqual([{ reason: expect.stringMatching(/only the first 1 of its refunds in this event\. Pass listRefunds.*to have them all/) }]);
  });

  it('charge.dispute.created: the disputed amount, keyed by the dp_ id, found through the disputed charge', async () => {
    const conversionId = vi.fn(byCharge);
    const { items, skipped } = refundsFromStripeEvent(event('charge.dispute.created', dispute()), { provider: providers.affonso, conversionId });
    expect(skipped).toEqual([]);
    expect(items).toEqual([
      {
        provider: providers.affonso,
        conversionId: 'com_1',
        amount: usd(5_000),
        refundId: 'dp_1',
        reason: 'Stripe dispute dp_1 (fraudulent)',
        refundedAt: new Date(CREATED * 1000).toISOString(),
      },
    ]);
    expect(conversionId.mock.calls[0]?.[0]).toMatchObject({ chargeId: 'ch_1', paymentIntentId: 'pi_1', disputeId: 'dp_1' });
  });

  it('an inquiry (warning_*) is skipped; charge.dispute.funds_withdrawn gives the same item as charge.dispute.created', async () => {
    const inquiry = refundsFromStripeEvent(event('charge.dispute.created', dispute({ status: 'warning_needs_response' })), {
      provider: providers.affonso,
      conversionId: byCharge,
    });
    expect(inquiry.items).toEqual([]);
    expect(inquiry.skipped[0]?.reason).toMatch(/inquiry.*charge\.dispute\.funds_withdrawn/);
    const withdrawn = refundsFromStripeEvent(event('charge.dispute.funds_withdrawn', dispute({ charge: { id: 'ch_1', object: 'charge' } })), {
      provider: providers.affonso,
      conversionId: byCharge,
    });
    const created = refundsFromStripeEvent(event('charge.dispute.created', dispute()), { provider: providers.affonso, conversionId: byCharge });
    expect(withdrawn).toEqual(created);
  });

  it('any other event type: no items, one skip, no throw, no lookup', async () => {
    const conversionId = vi.fn(byCharge);
    for (const type of ['customer.created', 'charge.succeeded', 'payment_intent.succeeded']) {
      const result = refundsFromStripeEvent(event(type, { id: 'x_1', object: 'whatever' }), { provider: providers.affonso, conversionId });
      expect(result).toEqual({ items: [], skipped: [{ reason: expect.stringContaining(`clawback does not act on ${type} events`) }] });
    }
    const closed = refundsFromStripeEvent(event('charge.dispute.closed', dispute({ status: 'won' })), { provider: providers.affonso, conversionId });
    expect(closed).toEqual({ items: [], skipped: [{ reason: expect.stringMatching(/dp_1: closed as won.*never restores.*reinstate it at the vendor by hand/) }] });
    expect(conversionId).not.toHaveBeenCalled();
  });

  it('a payment with no conversion (the lookup returns undefined) is skipped', () => {
    const { items, skipped } = refundsFromStripeEvent(event('refund.created', refund({ charge: 'ch_other' })), { provider: providers.affonso, conversionId: byCharge });
    expect(items).toEqual([]);
    expect(skipped).toEqual([{ reason: 'refund re_1: conversionId() found no conversion for it, so there is no commission to reverse' }]);
  });

  it('is synchronous; lookups that return promises go through refundsFromStripeEventAsync, with the same result', async () => {
    const sync = refundsFromStripeEvent(event('refund.created', refund()), { provider: providers.firstpromoter, conversionId: byCharge, customer: () => ({ uid: 'lead_1' }) });
    expect(sync.items).toHaveLength(1);
    const viaAsync = await refundsFromStripeEventAsync(event('refund.created', refund()), {
      provider: providers.firstpromoter,
      conversionId: async (source) => byCharge(source),
      customer: async () => ({ uid: 'lead_1' }),
    });
    expect(viaAsync).toEqual(sync);
    await expect(refundsFromStripeEventAsync(event('refund.created', refund({ charge: 'ch_other' })), { provider: providers.affonso, conversionId: async () => undefined })).resolves.toEqual({
      items: [],
      skipped: [{ reason: expect.stringContaining('found no conversion') }],
    });
    for (const [options, field] of [
      [{ provider: providers.affonso, conversionId: async () => 'com_1' }, 'conversionId'],
      [{ provider: providers.firstpromoter, conversionId: byCharge, customer: async () => ({ uid: 'lead_1' }) }, 'customer'],
    ] as const) {
      const error = thrown(() => refundsFromStripeEvent(event('refund.created', refund()), options as never));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as ValidationError).message).toMatch(/returned a promise.*refundsFromStripeEventAsync/);
    }
  });
});

describe('refundsFromStripeEvent: vendor rules', () => {
  it('Affixo: a partial refund is skipped; a charge refunded in full is one whole reversal keyed by the ch_ id', async () => {
    const options = { provider: providers.affixo, conversionId: byCharge };
    const partial = refundsFromStripeEvent(event('charge.refunded', charge()), options);
    expect(partial.items).toEqual([]);
    expect(partial.skipped[0]?.reason).toMatch(/1000 of 5000 .*Affixo reverses whole conversions only/);

    const full = refundsFromStripeEvent(event('charge.refunded', charge({ amount_refunded: 5_000, refunded: true })), options);
    expect(full).toEqual({ items: [{ provider: providers.affixo, conversionId: 'com_1', refundId: 'ch_1' }], skipped: [] });

    // A refund event cannot tell, unless the charge is expanded.
    const bare = refundsFromStripeEvent(event('refund.created', refund({ amount: 5_000 })), options);
    expect(bare.items).toEqual([]);
    expect(bare.skipped[0]?.reason).toMatch(/Affixo reverses whole conversions only.*charge\.refunded/);
    const expanded = refundsFromStripeEvent(event('refund.created', refund({ amount: 4_000, charge: charge({ amount_refunded: 5_000, refunded: true }) })), options);
    expect(expanded.items).toEqual(full.items);

    // A dispute of the whole charge (its charge expanded, to tell) is a whole reversal.
    const disputed = refundsFromStripeEvent(event('charge.dispute.created', dispute({ charge: charge() })), options);
    expect(disputed.items).toEqual([{ provider: providers.affixo, conversionId: 'com_1', refundId: 'dp_1' }]);
  });

  it('RefCampaign: a partial refund is skipped with the reason and what to do; a charge refunded in full is one full refund', () => {
    const options = { provider: providers.refcampaign, conversionId: byCharge };
    const partial = refundsFromStripeEvent(event('charge.refunded', charge({ refunds: { data: [refund()] } })), options);
    expect(partial.items).toEqual([]);
    expect(partial.skipped[0]?.reason).toMatch(/1000 of 5000 .*no idempotency key.*refund\(\{ provider, conversionId, amount \}\)/);

    // Refunded in full, with or without the refunds listed (API versions from 2022-11-15 leave them out), in one refund or two.
    const item = { provider: providers.refcampaign, conversionId: 'com_1', refundId: 'ch_1', reason: 'Stripe charge ch_1 refunded in full' };
    for (const whole of [
      charge({ amount_refunded: 5_000, refunded: true }),
      charge({ amount_refunded: 5_000, refunded: true, refunds: { data: [refund({ amount: 5_000 })] } }),
      charge({ amount_refunded: 5_000, refunded: true, refunds: { data: [refund({ amount: 4_000 }), refund({ id: 're_2' })] } }),
    ]) {
      expect(refundsFromStripeEvent(event('charge.refunded', whole), options)).toEqual({ items: [item], skipped: [] });
    }

    const bare = refundsFromStripeEvent(event('refund.created', refund({ amount: 5_000 })), options);
    expect(bare.items).toEqual([]);
    expect(bare.skipped[0]?.reason).toMatch(/not expanded\): subscribe to charge\.refunded/);
    const expanded = refundsFromStripeEvent(event('refund.created', refund({ amount: 5_000, charge: charge({ amount_refunded: 5_000, refunded: true }) })), options);
    expect(expanded.items).toEqual([item]);

    const disputed = refundsFromStripeEvent(event('charge.dispute.created', dispute({ charge: charge() })), options);
    expect(disputed.items).toEqual([
      { provider: providers.refcampaign, conversionId: 'com_1', refundId: 'dp_1', reason: 'Stripe dispute dp_1 (fraudulent)' },
    ]);
  });

  it('FirstPromoter: the amount always (the disputed amount for a dispute) and the lead from customer()', async () => {
    const customer = vi.fn(() => ({ email: 'buyer@example.com' }));
    const options = { provider: providers.firstpromoter, conversionId: byCharge, customer };
    const refunded = refundsFromStripeEvent(event('refund.created', refund()), options);
    expect(refunded.items).toEqual([
      { provider: providers.firstpromoter, conversionId: 'com_1', amount: usd(1_000), refundId: 're_1', customer: { email: 'buyer@example.com' } },
    ]);
    const disputed = refundsFromStripeEvent(event('charge.dispute.created', dispute({ amount: 4_000 })), options);
    expect(disputed.items[0]).toMatchObject({ amount: usd(4_000), refundId: 'dp_1' });
  });

  it('FirstPromoter without a lead is skipped; an invalid lead is a ValidationError', async () => {
    const none = refundsFromStripeEvent(event('refund.created', refund()), { provider: providers.firstpromoter, conversionId: byCharge });
    expect(none.items).toEqual([]);
    expect(none.skipped[0]?.reason).toMatch(/FirstPromoter needs the lead.*pass customer:/);
    const bad = thrown(() =>
      refundsFromStripeEvent(event('refund.created', refund()), {
        provider: providers.firstpromoter,
        conversionId: byCharge,
        customer: () => ({ email: 'not an email' }),
      }),
    );
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).field).toBe('customer.email');
  });
});

describe('refundsFromStripeEvent: amounts', () => {
  it.each([
    ['usd', 4_950, { value: 4_950, currency: 'USD' }],
    ['jpy', 500, { value: 500, currency: 'JPY' }], // zero-decimal at Stripe and in ISO 4217
    ['kwd', 1_230, { value: 1_230, currency: 'KWD' }], // three-decimal at both
    ['bhd', 5, { value: 5, currency: 'BHD' }],
    ['mga', 500, { value: 50_000, currency: 'MGA' }], // zero-decimal at Stripe, two decimals in ISO 4217
    ['isk', 50_000, { value: 500, currency: 'ISK' }], // two-decimal at Stripe, zero in ISO 4217
    ['ugx', 100_000, { value: 1_000, currency: 'UGX' }],
    ['huf', 1_050, { value: 1_050, currency: 'HUF' }], // two-decimal for charges and refunds
    ['twd', 1_050, { value: 1_050, currency: 'TWD' }],
  ])('%s %i → %o', (currency, amount, money) => {
    expect(fromStripeAmount(amount, currency)).toEqual(money);
  });

  it.each([
    ['isk', 50_050, /not a whole number of ISK minor units/], // an old fractional-króna charge
    ['iqd', 1_000, /Stripe does not document the unit of its IQD amounts/],
    ['xyz', 1_000, /XYZ is not an ISO 4217 currency/],
  ])('%s %i cannot be converted exactly', (currency, amount, problem) => {
    expect(fromStripeAmount(amount, currency)).toEqual({ problem: expect.stringMatching(problem) });
  });

  it('a JPY and a KWD refund become items in ISO minor units; an inexact one is skipped, not rounded', async () => {
    const options = { provider: providers.affonso, conversionId: byCharge };
    const yen = refundsFromStripeEvent(event('refund.created', refund({ currency: 'jpy', amount: 500 })), options);
    expect(yen.items[0]?.amount).toEqual({ value: 500, currency: 'JPY' });
    const dinar = refundsFromStripeEvent(event('refund.created', refund({ currency: 'kwd', amount: 1_230 })), options);
    expect(dinar.items[0]?.amount).toEqual({ value: 1_230, currency: 'KWD' });
    const krona = refundsFromStripeEvent(event('refund.created', refund({ currency: 'isk', amount: 50_050 })), options);
    expect(krona.items).toEqual([]);
    expect(krona.skipped[0]?.reason).toMatch(/re_1: .*ISK.*Reverse its commission by hand/);
  });
});

describe('refundsFromStripeEvent: validation', () => {
  const options = { provider: providers.affonso, conversionId: byCharge };
  it.each([
    [null, '(input)'],
    ['{"id":"evt_1"}', '(input)'],
    [{ id: 'evt_1', type: 'refund.created' }, 'data'],
    [{ id: 'evt_1', type: 'refund.created', data: {} }, 'data.object'],
    [{ id: '', type: 'refund.created', data: { object: refund() } }, 'id'],
    [event('refund.created', refund({ amount: '10.00' })), 'amount'],
    [event('refund.created', refund({ amount: 10.5 })), 'amount'],
    [event('refund.created', refund({ currency: 'dollars' })), 'currency'],
    [event('refund.created', refund({ charge: 42 })), 'charge'],
    [event('refund.created', refund({ metadata: { n: 1 } })), 'metadata.n'],
    [event('charge.refunded', charge({ refunded: 'yes' })), 'refunded'],
    [event('charge.refunded', charge({ refunds: { data: [refund({ id: null })] } })), 'refunds.data.0.id'],
    [event('charge.dispute.created', dispute({ status: undefined })), 'status'],
  ])('%j → ValidationError naming %s', async (input, field) => {
    const error = thrown(() => refundsFromStripeEvent(input, options));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it('refuses invalid options and a lookup that returns something other than an id, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ conversionId: byCharge }, 'provider'],
      [{ provider: providers.affonso }, 'conversionId'],
      [{ provider: providers.affonso, conversionId: byCharge, customer: 'x' }, 'customer'],
      [{ provider: providers.affonso, conversionId: () => 42 }, 'conversionId'],
      [{ provider: providers.affonso, conversionId: () => '  ' }, 'conversionId'],
    ];
    for (const [bad, field] of cases) {
      const error = thrown(() => refundsFromStripeEvent(event('refund.created', refund()), bad as never));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });
});

describe('refundsFromStripeEvent → refundMany, against the emulator', () => {
  async function run<P extends RefundProvider>(provider: P, stripeEvent: unknown, extra: object = {}) {
    const { items } = refundsFromStripeEvent(stripeEvent, { provider, conversionId: byCharge, ...extra });
    return refundMany(items);
  }

  it('the same event delivered twice refunds once', async () => {
    emulator.seed({ affonso: [{ id: 'com_1', sale: usd(5_000) }] });
    const delivered = event('refund.created', refund());
    const first = await run(providers.affonso, delivered);
    const again = await run(providers.affonso, structuredClone(delivered));
    expect(first[0]).toMatchObject({ ok: true, result: { status: 'partially_refunded', duplicate: false } });
    expect(again[0]).toMatchObject({ ok: true, result: { duplicate: true } });
    expect(emulator.ledger.refunds({ provider: 'affonso' }).map((entry) => entry.amount)).toEqual([1_000]);
  });

  it('refund.created then refund.updated for one refund refunds once; charge.refunded listing it replays too', async () => {
    emulator.seed({ affonso: [{ id: 'com_1', sale: usd(5_000) }] });
    await run(providers.affonso, event('refund.created', refund()));
    await run(providers.affonso, event('refund.updated', refund()));
    await run(providers.affonso, event('charge.refunded', charge({ refunds: { data: [refund()] } })));
    expect(emulator.ledger.refunds({ provider: 'affonso' })).toHaveLength(1);
  });

  it('two equal partial refunds of one charge are two refunds', async () => {
    emulator.seed({ affonso: [{ id: 'com_1', sale: usd(5_000) }], firstpromoter: [{ id: 'com_1', sale: usd(5_000), lead: { email: 'buyer@example.com' } }] });
    for (const id of ['re_1', 're_2']) {
      await run(providers.affonso, event('refund.created', refund({ id })));
      await run(providers.firstpromoter, event('refund.created', refund({ id })), { customer: () => ({ email: 'buyer@example.com' }) });
    }
    expect(emulator.ledger.refunds({ provider: 'affonso' }).map((entry) => entry.amount)).toEqual([1_000, 1_000]);
    expect(emulator.ledger.refunds({ provider: 'firstpromoter' }).map((entry) => entry.amount)).toEqual([1_000, 1_000]);
    expect(emulator.ledger.conversion('affonso', 'com_1')?.refunded).toBe(2_000);
  });

  it('RefCampaign and Affixo: a charge refunded in full is one full refund, however often the event comes', async () => {
    emulator.seed({ refcampaign: [{ id: 'com_1', sale: usd(5_000) }], affixo: [{ id: 'com_1', sale: usd(5_000) }] });
    const whole = event('charge.refunded', charge({ amount_refunded: 5_000, refunded: true }));
    for (const provider of [providers.refcampaign, providers.affixo]) {
      for (let delivery = 0; delivery < 2; delivery++) expect((await run(provider, whole))[0]?.ok).toBe(true);
    }
    expect(emulator.ledger.refunds({ provider: 'refcampaign' }).map((entry) => entry.amount)).toEqual([5_000]);
    expect(emulator.ledger.refunds({ provider: 'affixo' })).toHaveLength(1);
  });

  it('a dispute of the whole charge reverses its amount on Affonso and the whole conversion on Affixo and RefCampaign, once each', async () => {
    emulator.seed({
      affonso: [{ id: 'com_1', sale: usd(5_000) }],
      affixo: [{ id: 'com_1', sale: usd(5_000) }],
      refcampaign: [{ id: 'com_1', sale: usd(5_000) }],
    });
    for (const provider of [providers.affonso, providers.affixo, providers.refcampaign]) {
      for (const type of ['charge.dispute.created', 'charge.dispute.funds_withdrawn']) {
        const outcomes = await run(provider, event(type, dispute({ charge: charge() })));
        expect(outcomes[0]?.ok).toBe(true);
      }
    }
    expect(emulator.ledger.conversion('affonso', 'com_1')?.refunded).toBe(5_000);
    expect(emulator.ledger.refunds({ provider: 'affonso' }).map((entry) => entry.amount)).toEqual([5_000]);
    expect(emulator.ledger.refunds({ provider: 'affixo' })).toHaveLength(1);
    expect(emulator.ledger.refunds({ provider: 'refcampaign' })).toHaveLength(1);
  });
});
