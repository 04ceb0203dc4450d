// clawback/stripe on Stripe's own published objects (test/fixtures/stripe, with SOURCES.md):
// partial chargebacks, and charge.refunded on the API versions whose charges list no refunds.
// Events are wrapped as SOURCES.md says, changing named fields only.
import { readFileSync } from 'node:fs';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError, refundMany } from 'clawback';
import { createEmulator } from 'clawback/testing';
import { emulatorHandlers } from 'clawback/testing/msw';
import { refundsFromStripeEvent, refundsFromStripeEventAsync } from 'clawback/stripe';

const emulator = createEmulator({ rateLimits: { affixo: false, affonso: false, refcampaign: false, firstpromoter: false } });
const server = setupServer(...emulatorHandlers(emulator));
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => emulator.reset());
afterAll(() => server.close());
const providers = emulator.providers();

type Fixture = Record<string, unknown>;
const fixture = (version: string, name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`./fixtures/stripe/stripe-openapi/${version}/${name}.json`, import.meta.url), 'utf8')) as Fixture;

/** An Event envelope with the fields of Stripe's event fixture, around `object`. */
const event = (version: string, type: string, object: Fixture) => ({
  ...fixture(version, 'event'),
  id: `evt_${type}_${String(object.id)}`,
  api_version: version,
  type,
  data: { object },
});

const V2022 = '2022-11-15';
const charge = fixture(V2022, 'charge');
const refundObject = fixture(V2022, 'refund');
/** charge.refunded as API 2022-11-15 sends it: refunded in full, and no `refunds` list. */
const refundedCharge = (() => {
  const { refunds: _refunds, ...rest } = charge;
  return { ...rest, refunded: true, amount_refunded: charge.amount };
})();
const conversionId = () => 'com_1';
const lead = () => ({ email: 'lead@example.com' });

describe('charge.refunded on API 2022-11-15 … 2024-09-30 (the charge lists no refunds)', () => {
  it('the sync form skips it, naming listRefunds and refundsFromStripeEventAsync', () => {
    const { items, skipped } = refundsFromStripeEvent(event(V2022, 'charge.refunded', refundedCharge), { provider: providers.affonso, conversionId });
    expect(items).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.reason).toContain('Pass listRefunds: (chargeId) => stripe.refunds.list({ charge: chargeId }) to refundsFromStripeEventAsync');
  });

  it('the sync form refuses listRefunds (Stripe answers asynchronously)', () => {
    const call = () => refundsFromStripeEvent(event(V2022, 'charge.refunded', refundedCharge), { provider: providers.affonso, conversionId, listRefunds: () => [] } as never);
    expect(call).toThrow(ValidationError);
    expect(call).toThrow(/listRefunds: asks Stripe, which answers asynchronously: pass it to refundsFromStripeEventAsync/);
  });

  it.each([
    ['affonso', {}],
    ['firstpromoter', { customer: lead }],
  ] as const)('%s: with listRefunds, one item per succeeded refund, keyed by its re_ id', async (vendor, extra) => {
    const second = { ...refundObject, id: 're_second', amount: 40 };
    const pending = { ...refundObject, id: 're_pending', status: 'pending' };
    const listRefunds = vi.fn(async (chargeId: string) => ({ object: 'list', data: [refundObject, second, pending], has_more: false, url: `/v1/refunds?charge=${chargeId}` }));
    const { items, skipped } = await refundsFromStripeEventAsync(event(V2022, 'charge.refunded', refundedCharge), {
      provider: providers[vendor],
      conversionId,
      listRefunds,
      ...extra,
    });
    expect(listRefunds).toHaveBeenCalledWith(charge.id);
    expect(items.map((item) => [item.refundId, item.amount])).toEqual([
      [refundObject.id, { value: 100, currency: 'USD' }],
      ['re_second', { value: 40, currency: 'USD' }],
    ]);
    expect(skipped.map((skip) => skip.reason)).toEqual([expect.stringMatching(/^refund re_pending: is pending/)]);
  });

  it('a later refund.created for the same refund replays at the vendor instead of refunding again', async () => {
    emulator.seed({ affonso: [{ id: 'com_1', sale: { value: 10_000, currency: 'USD' } }] });
    const fromCharge = await refundsFromStripeEventAsync(event(V2022, 'charge.refunded', refundedCharge), {
      provider: providers.affonso,
      conversionId,
      listRefunds: async () => [refundObject],
    });
    const fromRefund = refundsFromStripeEvent(event(V2022, 'refund.created', refundObject), { provider: providers.affonso, conversionId });
    const first = await refundMany(fromCharge.items);
    const again = await refundMany(fromRefund.items);
    expect(first.map((outcome) => outcome.ok && outcome.result.duplicate)).toEqual([false]);
    expect(again.map((outcome) => outcome.ok && outcome.result.duplicate)).toEqual([true]);
    expect(emulator.ledger.refunds({ provider: 'affonso' })).toHaveLength(1);
  });

  it('says when listRefunds did not return them all, and refuses what is not a list of Refunds', async () => {
    const partialList = await refundsFromStripeEventAsync(event(V2022, 'charge.refunded', refundedCharge), {
      provider: providers.affonso,
      conversionId,
      listRefunds: async () => ({ data: [refundObject], has_more: true }),
    });
    expect(partialList.items).toHaveLength(1);
    expect(partialList.skipped[0]?.reason).toMatch(/has_more.*autoPagingToArray/);
    const bad = refundsFromStripeEventAsync(event(V2022, 'charge.refunded', refundedCharge), {
      provider: providers.affonso,
      conversionId,
      listRefunds: async () => ({ data: [{ id: 're_x' }] }),
    });
    await expect(bad).rejects.toThrow(ValidationError);
    await expect(bad).rejects.toThrow(/listRefunds\("ch_1MRgUnHs0pPkhgo8IuTK8qXT"\) must return .*refund 0.*amount: is required/);
  });
});

describe('a partial chargeback (dispute.amount below the charge\'s)', () => {
  const dispute = fixture(V2022, 'dispute');
  /** The 2022-11-15 dispute fixture as a chargeback of half of its 10.00 charge. */
  const half = { ...dispute, status: 'needs_response', amount: 500 };
  const disputedCharge = { ...charge, id: dispute.charge, amount: 1_000, amount_refunded: 0 };

  it('Affonso and FirstPromoter reverse the disputed amount, not the whole conversion', () => {
    const affonso = refundsFromStripeEvent(event(V2022, 'charge.dispute.created', half), { provider: providers.affonso, conversionId });
    expect(affonso.items).toEqual([expect.objectContaining({ refundId: dispute.id, amount: { value: 500, currency: 'USD' } })]);
    const firstpromoter = refundsFromStripeEvent(event(V2022, 'charge.dispute.created', half), { provider: providers.firstpromoter, conversionId, customer: lead });
    expect(firstpromoter.items).toEqual([expect.objectContaining({ refundId: dispute.id, amount: { value: 500, currency: 'USD' } })]);
  });

  it.each(['affixo', 'refcampaign'] as const)('%s: a dispute of part of the charge is skipped with the reason, never reversed whole', async (vendor) => {
    const expanded = refundsFromStripeEvent(event(V2022, 'charge.dispute.created', { ...half, charge: disputedCharge }), { provider: providers[vendor], conversionId });
    expect(expanded.items).toEqual([]);
    expect(expanded.skipped[0]?.reason).toMatch(new RegExp(`^dispute ${dispute.id}: disputes 500 usd \\(Stripe units\\) of charge ${String(dispute.charge)}'s 1000 usd, not the whole charge`));
    const retrieved = await refundsFromStripeEventAsync(event(V2022, 'charge.dispute.created', half), {
      provider: providers[vendor],
      conversionId,
      retrieveCharge: async () => disputedCharge,
    });
    expect(retrieved).toEqual(expanded);
  });

  it.each(['affixo', 'refcampaign'] as const)('%s: a dispute of the whole charge is one full reversal; not knowing the charge, nothing is sent', async (vendor) => {
    const whole = { ...half, amount: 1_000 };
    const retrieveCharge = vi.fn(async () => disputedCharge);
    const retrieved = await refundsFromStripeEventAsync(event(V2022, 'charge.dispute.funds_withdrawn', whole), { provider: providers[vendor], conversionId, retrieveCharge });
    expect(retrieveCharge).toHaveBeenCalledWith(dispute.charge);
    expect(retrieved.items).toEqual([expect.objectContaining({ refundId: dispute.id, conversionId: 'com_1' })]);
    expect(retrieved.items[0]).not.toHaveProperty('amount');
    const unknown = refundsFromStripeEvent(event(V2022, 'charge.dispute.created', whole), { provider: providers[vendor], conversionId });
    expect(unknown.items).toEqual([]);
    expect(unknown.skipped[0]?.reason).toMatch(/not expanded\), so nothing is sent\. Pass retrieveCharge: \(chargeId\) => stripe\.charges\.retrieve\(chargeId\) to refundsFromStripeEventAsync$/);
  });

  it('against the emulator: a 5.00 dispute of a 10.00 Affonso conversion reverses 5.00 of it', async () => {
    emulator.seed({ affonso: [{ id: 'com_1', sale: { value: 1_000, currency: 'USD' }, commission: 300 }] });
    const { items } = refundsFromStripeEvent(event(V2022, 'charge.dispute.created', half), { provider: providers.affonso, conversionId });
    const [outcome] = await refundMany(items);
    expect(outcome).toMatchObject({ ok: true, result: { status: 'partially_refunded', amount: { value: 500, currency: 'USD' } } });
    expect(emulator.ledger.refunds({ provider: 'affonso' }).map((entry) => entry.amount)).toEqual([500]);
  });
});
