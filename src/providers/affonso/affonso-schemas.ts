import * as z from '../../core/schema.js';
import { isIsoDateTime, literalTrue, looseObject, matches, nonEmptyString, omittable, optional, strictObject } from '../../core/validation.js';

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
    amount: omittable(
      z.number({ error: 'must be a number of major units' }).check(
        z.refine((value) => Number.isFinite(value) && value > 0, 'must be a finite number greater than zero'),
      ),
    ),
    currency: optional(z.string().check(matches(/^[A-Za-z]{3}$/, 'must be a three-letter currency code'))),
    reason: optional(z.string()),
    /** Idempotency key: reuse it when retrying the same upstream refund. */
    external_event_id: optional(nonEmptyString()),
    refunded_at: optional(z.string().check(z.refine(isIsoDateTime, 'must be an ISO 8601 date-time'))),
  },
  { error: 'must be an object like { amount?, currency?, reason?, external_event_id?, refunded_at? }' },
);

/**
 * The conversion object. Checked at run time: what the mapping reads. Typed (`AffonsoConversion`):
 * every documented field. The rest is not checked, so a change in a field clawback does not
 * read cannot turn a refund Affonso applied into an error, and costs no bundle size.
 */
export const affonsoConversionSchema = looseObject({
  id: z.string(),
  /** pending, pending_manual_approval, ready_for_payment, processing_payout, paid, declined, refunded, dispute */
  status: z.string(),
  /** open, complete, trialing, failed, refunded, partial_refunded */
  sales_status: z.string(),
  /** True when Affonso replayed an earlier refund with the same `external_event_id` (seen in @affonso/sdk). */
  replayed: z.optional(z.boolean()),
});

export const affonsoRefundResponseSchema = looseObject({
  success: literalTrue,
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

export type AffonsoRefundBody = z.input<typeof affonsoRefundBodySchema>;
/** The conversion as documented; only `id`, `status`, `sales_status` and `replayed` are checked at run time. */
export type AffonsoConversion = z.output<typeof affonsoConversionSchema> & {
  referral_id?: string | null;
  affiliate_id?: string | null;
  program_id?: string | null;
  sale_amount?: number | null;
  sale_amount_currency?: string | null;
  commission_amount?: number | null;
  commission_currency?: string | null;
  hold_period_days?: number | null;
  payment_intent_id?: string | null;
  invoice_id?: string | null;
  earning_id?: string | null;
  earning_type?: string | null;
  external_event_id?: string | null;
  calculation_mode?: string | null;
  matched_incentive_id?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
};
export type AffonsoRefundResponse = Omit<z.output<typeof affonsoRefundResponseSchema>, 'data'> & { data: AffonsoConversion };
