import * as z from 'zod/mini';
import { documented, isIsoDateTime, looseObject, matches, nonEmptyString, omittable, optional, strictObject } from '../../core/validation.js';

// POST https://api.affonso.io/v1/conversions/{id}/refund
// https://docs.affonso.io/api/endpoint/conversions/refund

/** The `{id}` path segment: Affonso's own conversion id (`com_abc123`), not the merchant's order id. */
export const affonsoConversionIdSchema = nonEmptyString('an Affonso conversion id such as "com_abc123"').check(
  // "." and ".." pass through encodeURIComponent unchanged and are dot segments: URL
  // resolution would drop them and the request would reach another path.
  z.refine((id) => id !== '.' && id !== '..', 'is not a valid Affonso conversion id'),
);

/** Request body; every field optional. Without `amount` Affonso refunds the remaining balance. */
export const affonsoRefundBodySchema = strictObject(
  {
    /** Major units (49.50), > 0, at most the remaining sale amount. */
    amount: omittable(z.number({ error: 'must be a finite number of major units' }).check(z.positive('must be greater than zero'))),
    /** Three-letter currency code of the refund record. */
    currency: optional(z.string().check(matches(/^[A-Za-z]{3}$/, 'must be a three-letter currency code'))),
    /** Free-form, such as `customer_cancellation` or `chargeback`. */
    reason: optional(z.string()),
    /** Idempotency key: reuse it when retrying the same upstream refund. */
    external_event_id: optional(nonEmptyString()),
    /** When the refund happened upstream, ISO 8601. */
    refunded_at: optional(z.string().check(z.refine(isIsoDateTime, 'must be an ISO 8601 date-time'))),
  },
  { error: 'must be an object like { amount?, currency?, reason?, external_event_id?, refunded_at? }' },
);

const nullableString = () => documented<string | null>();
const nullableNumber = () => documented<number | null>();

/**
 * The conversion object. The reference page lists its fields only in an example, so none is
 * required. Checked when present: `sales_status` and `replayed`, which the mapping reads. Every
 * other documented field is `documented()`: typed, never checked, so a change in one cannot turn
 * a refund Affonso applied into an error.
 */
export const affonsoConversionSchema = looseObject({
  id: documented<string>(),
  /** pending, pending_manual_approval, ready_for_payment, processing_payout, paid, declined, refunded, dispute */
  status: documented<string>(),
  /** open, complete, trialing, failed, refunded, partial_refunded */
  sales_status: z.optional(z.string()),
  /** True when Affonso replayed an earlier refund with the same `external_event_id` (seen in @affonso/sdk). */
  replayed: z.optional(z.boolean()),
  referral_id: nullableString(),
  affiliate_id: nullableString(),
  program_id: nullableString(),
  sale_amount: nullableNumber(),
  sale_amount_currency: nullableString(),
  commission_amount: nullableNumber(),
  commission_currency: nullableString(),
  hold_period_days: nullableNumber(),
  payment_intent_id: nullableString(),
  invoice_id: nullableString(),
  earning_id: nullableString(),
  earning_type: nullableString(),
  external_event_id: nullableString(),
  calculation_mode: nullableString(),
  matched_incentive_id: nullableString(),
  created_at: nullableString(),
  updated_at: nullableString(),
});

/**
 * "The response returns the updated conversion object": `success` ("Always true for successful
 * responses") and `data`. A `success: false` under a 2xx is a failure (@affonso/sdk reads it so):
 * with Affonso's error envelope it is reported as that error; without one, as an ambiguous
 * failure quoting the body.
 */
export const affonsoRefundResponseSchema = looseObject({
  success: z.boolean(),
  data: affonsoConversionSchema,
});

/**
 * `{ success: false, error: { code, message, field?, details? } }`. On 429 the body also
 * carries `retryAfter` in seconds; where exactly is not documented [?], so both the top level
 * and `error` are read. https://docs.affonso.io/api/rate-limits
 */
export const affonsoErrorSchema = looseObject({
  success: z.optional(z.boolean()),
  error: looseObject({
    code: z.optional(z.string()),
    message: z.optional(z.string()),
    field: z.optional(z.string()),
    details: z.optional(z.unknown()),
    retryAfter: z.optional(z.number()),
  }),
  retryAfter: z.optional(z.number()),
});

/** The body of Affonso's `POST /v1/conversions/{id}/refund`, as documented (amounts in major units). */
export type AffonsoRefundBody = z.input<typeof affonsoRefundBodySchema>;
/** The conversion as documented (no field promised); only `sales_status` and `replayed` are checked at run time. */
export type AffonsoConversion = z.output<typeof affonsoConversionSchema>;
/** Affonso's 2xx answer to a refund: `{ success: true, data: conversion }`, as documented. */
export type AffonsoRefundResponse = z.output<typeof affonsoRefundResponseSchema>;
/** Affonso's error envelope, as documented. */
export type AffonsoError = z.output<typeof affonsoErrorSchema>;
