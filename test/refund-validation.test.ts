import { describe, expect, it } from 'vitest';
import { ValidationError, refund } from '../src/index.js';
import { mockPost, useVendorMock } from './support/vendor-mock.js';
import { vendors } from './support/vendors.js';

useVendorMock();

/** Invalid `refund()` options, whatever the provider: [what, override, field named, message pattern]. */
const invalidOptions: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['no conversionId', { conversionId: undefined }, 'conversionId', /is required/],
  ['an empty conversionId', { conversionId: '' }, 'conversionId', /must not be empty/],
  ['a blank conversionId', { conversionId: '   ' }, 'conversionId', /must not be empty/],
  ['a numeric conversionId', { conversionId: 1234 }, 'conversionId', /must be a non-empty string, got 1234/],
  ['a fractional amount', { amount: { value: 49.5, currency: 'USD' } }, 'amount.value', /whole number of minor units/],
  ['a zero amount', { amount: { value: 0, currency: 'USD' } }, 'amount.value', /greater than zero/],
  ['a negative amount', { amount: { value: -100, currency: 'USD' } }, 'amount.value', /greater than zero/],
  ['an unsafe amount', { amount: { value: 2 ** 60, currency: 'USD' } }, 'amount.value', /whole number/],
  ['an amount as a string', { amount: { value: '4950', currency: 'USD' } }, 'amount.value', /got string/],
  ['NaN', { amount: { value: Number.NaN, currency: 'USD' } }, 'amount.value', /whole number/],
  ['an unknown currency', { amount: { value: 100, currency: 'ABC' } }, 'amount.currency', /not a known ISO 4217/],
  ['a metal, not a currency', { amount: { value: 100, currency: 'XAU' } }, 'amount.currency', /not a known ISO 4217/],
  ['a missing currency', { amount: { value: 100 } }, 'amount.currency', /is required/],
  ['a major-unit amount', { amount: 49.5 }, 'amount', /must be \{ value, currency \}/],
  ['amount: undefined', { amount: undefined }, 'amount', /omit the amount key entirely for a full refund/],
  ['amount: null', { amount: null }, 'amount', /must be \{ value, currency \}/],
  ['a misspelt option', { ammount: { value: 1, currency: 'USD' } }, 'ammount', /is not a known option/],
  ['a misspelt option, by case', { ConversionId: 'x' }, 'ConversionId', /did you mean "conversionId"/],
  ['an extra amount field', { amount: { value: 1, currency: 'USD', unit: 'cents' } }, 'amount.unit', /not a known option/],
  ['an invalid refundedAt string', { refundedAt: 'yesterday' }, 'refundedAt', /ISO 8601/],
  ['a refundedAt without a zone', { refundedAt: '2026-06-22T10:00:00' }, 'refundedAt', /ISO 8601/],
  ['an invalid Date', { refundedAt: new Date('nope') }, 'refundedAt', /valid Date/],
  ['a day that does not exist', { refundedAt: '2026-02-30T10:00:00Z' }, 'refundedAt', /ISO 8601/],
  ['an hour that does not exist', { refundedAt: '2026-06-22T24:00:00Z' }, 'refundedAt', /ISO 8601/],
  ['a date without a time', { refundedAt: '2026-06-22' }, 'refundedAt', /ISO 8601/],
  ['an empty reason', { reason: '' }, 'reason', /must not be empty/],
  ['an empty customer', { customer: {} }, 'customer', /email or a uid/],
  ['a malformed email', { customer: { email: 'not-an-email' } }, 'customer.email', /email address/],
  ['an idempotencyKey with spaces', { idempotencyKey: 'my key' }, 'idempotencyKey', /printable ASCII/],
  ['an over-long idempotencyKey', { idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey', /1 to 255/],
  ['a timeout of 0', { timeout: 0 }, 'timeout', /between 1 and/],
  ['a fractional timeout', { timeout: 1.5 }, 'timeout', /whole number of milliseconds/],
  ['maxRetries over 10', { maxRetries: 11 }, 'maxRetries', /between 0 and 10/],
  ['a signal that is not one', { signal: { aborted: 'no' } }, 'signal', /AbortSignal/],
  ['a misspelt provider slice', { providerOptions: { firstpromotor: {} } }, 'providerOptions.firstpromotor', /not a known option/],
  ['no provider', { provider: undefined }, 'provider', /is required: pass the result of createAffixo/],
  ['a provider from elsewhere', { provider: { doRefund() {} } }, 'provider', /must be a provider from createAffixo/],
];

describe.each(vendors)('$name: invalid refund() options are refused before the network', (vendor) => {
  it.each(invalidOptions)('%s', async (_, override, field, message) => {
    const calls = mockPost(vendor.url, vendor.ok);
    const error = await refund({ provider: vendor.create(), ...vendor.options, ...override } as never).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const issue = (error as ValidationError).issues.find((i) => i.path === field);
    expect(issue, `issues: ${JSON.stringify((error as ValidationError).issues)}`).toBeDefined();
    expect(issue?.message).toMatch(message);
    expect((error as Error).message).toMatch(/^Invalid refund\(\) options: /);
    expect(calls).toHaveLength(0);
  });
});

describe('refund() input that is not even an object', () => {
  it.each([undefined, null, 'order_1', 42])('%j is a ValidationError, not a TypeError', async (input) => {
    const error = await refund(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/^Invalid refund\(\) options: \(input\): /);
  });

  it('names every problem at once', async () => {
    const error = await refund({ conversionId: '', amount: { value: 1.5, currency: 'usd!' } } as never).catch(
      (e: unknown) => e,
    );
    expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
      'provider',
      'conversionId',
      'amount.value',
      'amount.currency',
    ]);
  });

  it('treats optional options set to undefined as absent (but not amount, see above)', async () => {
    const [, affonso] = vendors;
    if (!affonso) throw new Error('vendor table is empty');
    const calls = mockPost(affonso.url, affonso.ok);
    const result = await refund({
      provider: affonso.create(),
      conversionId: 'com_1',
      reason: undefined,
      refundedAt: undefined,
      customer: undefined,
      idempotencyKey: undefined,
      timeout: undefined,
      providerOptions: undefined,
    });
    expect(calls[0]?.body).toEqual({ external_event_id: result.idempotencyKey });
    expect(result.warnings).toEqual([]);
  });

  it('accepts a lower-case currency and sends it upper-case', async () => {
    const [, affonso] = vendors;
    if (!affonso) throw new Error('vendor table is empty');
    const calls = mockPost(affonso.url, affonso.ok);
    const result = await refund({ provider: affonso.create(), conversionId: 'com_1', amount: { value: 100, currency: 'eur' } });
    expect(calls[0]?.body).toMatchObject({ currency: 'EUR', amount: 1 });
    expect(result.amount).toEqual({ value: 100, currency: 'EUR' });
  });
});

describe('refundedAt forms that are accepted', () => {
  it.each([
    ['2024-02-29T10:00:00Z', '2024-02-29T10:00:00.000Z'],
    ['2026-06-22T18:10+02:00', '2026-06-22T16:10:00.000Z'],
    ['2026-06-22T18:10:00.123456+0200', '2026-06-22T16:10:00.123Z'],
    ['2026-06-22T11:10:00-05:00', '2026-06-22T16:10:00.000Z'],
  ])('%s is sent as %s', async (refundedAt, sent) => {
    const [, affonso] = vendors;
    if (!affonso) throw new Error('vendor table is empty');
    const calls = mockPost(affonso.url, affonso.ok);
    await refund({ provider: affonso.create(), conversionId: 'com_1', refundedAt });
    expect(calls[0]?.body).toMatchObject({ refunded_at: sent });
  });
});
