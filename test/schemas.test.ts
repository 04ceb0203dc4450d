// clawback/schemas (#11): the schemas clawback validates with, public and first-class. Real zod
// schemas: Standard Schema works, and z.toJSONSchema() of each request body gives the vendor's
// fields, as its reference page lists them.
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import {
  affixoErrorSchema,
  affixoRefundBodySchema,
  affixoRefundResponseSchema,
  affonsoConversionSchema,
  affonsoErrorSchema,
  affonsoRefundBodySchema,
  affonsoRefundResponseSchema,
  customerSchema,
  firstPromoterErrorSchema,
  firstPromoterRefundBodySchema,
  firstPromoterRefundResponseSchema,
  moneySchema,
  refCampaignErrorSchema,
  refCampaignRefundBodySchema,
  refCampaignRefundResponseSchema,
  refundOptionsSchema,
} from 'clawback/schemas';

const jsonSchema = (schema: z.ZodMiniType) => z.toJSONSchema(schema) as { type: string; properties: Record<string, { type?: unknown; pattern?: string; minLength?: number; maxLength?: number }>; required?: string[]; additionalProperties?: boolean };

describe('z.toJSONSchema() of each request body: the vendor documented fields', () => {
  it('Affixo: { external_id } only', () => {
    const schema = jsonSchema(affixoRefundBodySchema);
    expect(Object.keys(schema.properties)).toEqual(['external_id']);
    expect(schema).toMatchObject({ type: 'object', required: ['external_id'], additionalProperties: false, properties: { external_id: { type: 'string' } } });
  });

  it('Affonso: every field optional; amount a number of major units; currency three letters', () => {
    const schema = jsonSchema(affonsoRefundBodySchema);
    expect(Object.keys(schema.properties)).toEqual(['amount', 'currency', 'reason', 'external_event_id', 'refunded_at']);
    expect(schema.required ?? []).toEqual([]);
    expect(schema.properties.amount).toMatchObject({ type: 'number', exclusiveMinimum: 0 });
    expect(schema.properties.currency).toMatchObject({ type: 'string', pattern: '^[A-Za-z]{3}$' });
  });

  it('RefCampaign: externalId of 1 to 255 characters, amount an integer of minor units, reason up to 500', () => {
    const schema = jsonSchema(refCampaignRefundBodySchema);
    expect(Object.keys(schema.properties)).toEqual(['externalId', 'amount', 'reason']);
    expect(schema.properties.reason).toMatchObject({ type: 'string', minLength: 1, maxLength: 500 });
    expect(schema.required).toEqual(['externalId']);
    expect(schema.properties.externalId).toMatchObject({ type: 'string', maxLength: 255 });
    expect(schema.properties.amount).toMatchObject({ type: 'integer', exclusiveMinimum: 0 });
  });

  it('FirstPromoter: event_id and amount (a string of cents) required, the lead by email or uid', () => {
    const schema = jsonSchema(firstPromoterRefundBodySchema);
    expect(Object.keys(schema.properties)).toEqual(['event_id', 'amount', 'email', 'uid', 'currency', 'quantity', 'sale_event_id', 'skip_email_notification']);
    expect(schema.required).toEqual(['event_id', 'amount']);
    expect(schema.properties.amount).toMatchObject({ type: 'string', pattern: '^[1-9]\\d*$' });
    expect(schema.properties.skip_email_notification).toMatchObject({ type: 'boolean' });
  });

  it('money: { value, currency }, value a positive integer', () => {
    expect(jsonSchema(moneySchema)).toMatchObject({ required: ['value', 'currency'], properties: { value: { type: 'integer' }, currency: { type: 'string' } } });
  });
});

describe('Standard Schema', () => {
  const schemas = {
    affixoRefundBodySchema,
    affixoRefundResponseSchema,
    affixoErrorSchema,
    affonsoRefundBodySchema,
    affonsoRefundResponseSchema,
    affonsoConversionSchema,
    affonsoErrorSchema,
    refCampaignRefundBodySchema,
    refCampaignRefundResponseSchema,
    refCampaignErrorSchema,
    firstPromoterRefundBodySchema,
    firstPromoterRefundResponseSchema,
    firstPromoterErrorSchema,
    moneySchema,
    customerSchema,
    refundOptionsSchema,
  };

  it.each(Object.entries(schemas))('%s has ~standard (zod, version 1)', (_, schema) => {
    expect(schema['~standard']).toMatchObject({ version: 1, vendor: 'zod' });
  });

  it('validates with clawback\'s messages, synchronously', () => {
    const result = moneySchema['~standard'].validate({ value: 49.5, currency: 'USD' });
    expect(result).not.toBeInstanceOf(Promise);
    expect((result as { issues: Array<{ message: string; path: PropertyKey[] }> }).issues).toEqual([
      expect.objectContaining({ path: ['value'], message: 'must be a whole number of minor units (4950 = 49.50), got 49.5' }),
    ]);
    expect(affonsoRefundBodySchema['~standard'].validate({ amount: 49.5, currency: 'USD' })).toEqual({ value: { amount: 49.5, currency: 'USD' } });
  });
});

describe("a merchant's own use: checking refund jobs before queueing them", () => {
  const refundJobSchema = z.omit(refundOptionsSchema, { provider: true, signal: true });

  it('accepts a job, refuses one with a major-unit amount, naming the field', () => {
    expect(refundJobSchema.safeParse({ conversionId: 'com_1', amount: { value: 4950, currency: 'usd' }, idempotencyKey: 're_1' }).success).toBe(true);
    const refused = refundJobSchema.safeParse({ conversionId: 'com_1', amount: { value: 49.5, currency: 'USD' } });
    expect(refused.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['amount.value', 'must be a whole number of minor units (4950 = 49.50), got 49.5']]);
  });
});
