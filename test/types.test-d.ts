import { describe, expectTypeOf, it } from 'vitest';
import type * as z from 'zod/mini';
import type * as schemas from '../src/schemas.js';
import {
  ApiError,
  ClawbackError,
  RateLimitError,
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  refund,
  type AffixoRefundBody,
  type AffonsoConversion,
  type AffonsoError,
  type AffonsoRefundBody,
  type FirstPromoterRefundBody,
  type FirstPromoterRefundResponse,
  type RefCampaignRefundBody,
  type RefundOptions,
  type RefundResult,
} from '../src/index.js';
import { createAffixo as createAffixoFromSubpath } from '../src/providers/affixo/index.js';

const affixo = createAffixo();
const affonso = createAffonso();
const refcampaign = createRefCampaign();
const firstpromoter = createFirstPromoter();
const usd = { value: 4950, currency: 'USD' };

describe('refund() types', () => {
  it('resolves to RefundResult', () => {
    expectTypeOf(refund({ provider: affonso, conversionId: 'com_1' })).toEqualTypeOf<Promise<RefundResult>>();
    expectTypeOf<RefundResult['status']>().toEqualTypeOf<'refunded' | 'partially_refunded' | 'accepted'>();
    expectTypeOf<RefundResult['provider']>().toEqualTypeOf<'affixo' | 'affonso' | 'refcampaign' | 'firstpromoter'>();
  });

  it('refuses an amount on Affixo with a type that says why', () => {
    expectTypeOf<RefundOptions<ReturnType<typeof createAffixo>>['amount']>().toEqualTypeOf<'Affixo reverses whole conversions only: omit amount' | undefined>();
  });

  it('refuses an amount on Affixo, which only reverses whole conversions', () => {
    void refund({ provider: affixo, conversionId: 'order_1' });
    // @ts-expect-error Affixo has no partial refunds
    void refund({ provider: affixo, conversionId: 'order_1', amount: usd });
    void refund({ provider: createAffixoFromSubpath(), conversionId: 'order_1' });
    // @ts-expect-error the same through the clawback/affixo entry point
    void refund({ provider: createAffixoFromSubpath(), conversionId: 'order_1', amount: usd });
  });

  it('requires an amount and one customer identifier on FirstPromoter', () => {
    void refund({ provider: firstpromoter, conversionId: 's', amount: usd, customer: { email: 'a@b.co' } });
    void refund({ provider: firstpromoter, conversionId: 's', amount: usd, customer: { uid: 'u_1' } });
    // @ts-expect-error no amount
    void refund({ provider: firstpromoter, conversionId: 's', customer: { uid: 'u_1' } });
    // @ts-expect-error no customer
    void refund({ provider: firstpromoter, conversionId: 's', amount: usd });
    // @ts-expect-error a customer with neither email nor uid
    void refund({ provider: firstpromoter, conversionId: 's', amount: usd, customer: {} });
    // @ts-expect-error both email and uid: FirstPromoter takes one of them
    void refund({ provider: firstpromoter, conversionId: 's', amount: usd, customer: { email: 'a@b.co', uid: 'u' } });
  });

  it('lets Affonso and RefCampaign refund in full or in part', () => {
    void refund({ provider: affonso, conversionId: 'com_1' });
    void refund({ provider: affonso, conversionId: 'com_1', amount: usd, refundedAt: new Date() });
    void refund({ provider: refcampaign, conversionId: 'order_1', amount: usd });
  });

  it('accepts a provider chosen at run time, leaving the rules to run-time validation', () => {
    const pick = (name: string) => (name === 'affixo' ? affixo : affonso);
    void refund({ provider: pick('affonso'), conversionId: 'x', amount: usd });
    expectTypeOf<RefundOptions['amount']>().toEqualTypeOf<{ value: number; currency: string } | undefined>();
  });

  it('catches misspelt and mistyped options', () => {
    // @ts-expect-error ammount is not an option
    void refund({ provider: affonso, conversionId: 'com_1', ammount: usd });
    // @ts-expect-error amounts are { value, currency } in minor units, not a number
    void refund({ provider: affonso, conversionId: 'com_1', amount: 49.5 });
    // @ts-expect-error conversionId is required
    void refund({ provider: affonso });
    // @ts-expect-error providerOptions slices are typed
    void refund({ provider: firstpromoter, conversionId: 's', amount: usd, customer: { uid: 'u' }, providerOptions: { firstpromoter: { quantity: '2' } } });
  });
});

describe('native call types', () => {
  it('takes each vendor body verbatim and returns its documented response', () => {
    expectTypeOf(affixo.track.refund({ external_id: 'order_1' })).resolves.toEqualTypeOf<{
      [key: string]: unknown;
      ok?: boolean | undefined;
      conversion_id?: string | undefined;
    }>();
    expectTypeOf(affonso.conversions.refund('com_1', { amount: 49.5 })).resolves.toEqualTypeOf<AffonsoConversion>();
    expectTypeOf(firstpromoter.track.refund({ event_id: 'e', amount: '4950', uid: 'u' })).resolves.toEqualTypeOf<FirstPromoterRefundResponse>();
    // @ts-expect-error FirstPromoter amounts are strings of cents
    void firstpromoter.track.refund({ event_id: 'e', amount: 4950, uid: 'u' });
    // @ts-expect-error FirstPromoter takes one of email | uid, not both
    void firstpromoter.track.refund({ event_id: 'e', amount: '4950', uid: 'u', email: 'a@b.co' });
    // @ts-expect-error RefCampaign needs externalId
    void refcampaign.conversions.refund({ amount: 100 });
    void refcampaign.conversions.refund({ externalId: 'o' }, { timeout: 5_000, maxRetries: 0, signal: AbortSignal.timeout(1) });
  });
});

describe('error types', () => {
  it('narrows with isInstance', () => {
    const error: unknown = new Error('x');
    if (RateLimitError.isInstance(error)) expectTypeOf(error.retryAfter).toEqualTypeOf<number | undefined>();
    if (ApiError.isInstance(error)) expectTypeOf(error.status).toEqualTypeOf<number>();
    if (ClawbackError.isInstance(error)) expectTypeOf(error.retryable).toEqualTypeOf<boolean>();
  });
});

describe('public types come from the public schemas', () => {
  it('bodies are z.input, responses and errors z.output, of clawback/schemas', () => {
    expectTypeOf<AffixoRefundBody>().toEqualTypeOf<z.input<typeof schemas.affixoRefundBodySchema>>();
    expectTypeOf<AffonsoRefundBody>().toEqualTypeOf<z.input<typeof schemas.affonsoRefundBodySchema>>();
    expectTypeOf<RefCampaignRefundBody>().toEqualTypeOf<z.input<typeof schemas.refCampaignRefundBodySchema>>();
    expectTypeOf<FirstPromoterRefundBody>().toEqualTypeOf<z.input<typeof schemas.firstPromoterRefundBodySchema>>();
    expectTypeOf<AffonsoConversion>().toEqualTypeOf<z.output<typeof schemas.affonsoConversionSchema>>();
    expectTypeOf<FirstPromoterRefundResponse>().toEqualTypeOf<z.output<typeof schemas.firstPromoterRefundResponseSchema>>();
    expectTypeOf<AffonsoError>().toEqualTypeOf<z.output<typeof schemas.affonsoErrorSchema>>();
  });

  it('documented fields clawback does not check are still typed', () => {
    expectTypeOf<AffonsoConversion['sale_amount']>().toEqualTypeOf<number | null | undefined>();
    expectTypeOf<AffonsoConversion['sales_status']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<NonNullable<FirstPromoterRefundResponse['reward']>['amount']>().toEqualTypeOf<number | undefined>();
  });
});

describe('clawback/stripe and clawback/webhooks types', () => {
  it('refundsFromStripeEvent items are refundMany items; async lookups only through the Async variant', async () => {
    const { refundsFromStripeEvent, refundsFromStripeEventAsync } = await import('clawback/stripe');
    const { refundMany } = await import('clawback');
    const provider = createAffonso();
    const result = refundsFromStripeEvent({}, { provider, conversionId: (source) => source.chargeId });
    expectTypeOf(refundMany).toBeCallableWith(result.items);
    expectTypeOf(refundsFromStripeEventAsync({}, { provider, conversionId: async () => 'com_1' })).resolves.toEqualTypeOf(result);
    // @ts-expect-error a lookup that returns a promise needs refundsFromStripeEventAsync
    refundsFromStripeEvent({}, { provider, conversionId: async () => 'com_1' });
  });

  it('verifyWebhook resolves to the vendor event: RefCampaign has idempotencyKey, Affonso an id', async () => {
    const { verifyWebhook } = await import('clawback/webhooks');
    const options = { payload: '', headers: {}, secret: 's' };
    expectTypeOf(verifyWebhook('refcampaign', options)).resolves.toHaveProperty('idempotencyKey').toEqualTypeOf<string | undefined>();
    expectTypeOf(verifyWebhook('affonso', options)).resolves.toHaveProperty('id').toEqualTypeOf<string>();
    // @ts-expect-error FirstPromoter's webhook signatures are not documented: not offered
    void verifyWebhook('firstpromoter', options);
  });
});
