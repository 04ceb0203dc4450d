import * as z from 'zod/mini';
import { looseObject, nonEmptyString, optional } from '../../core/validation.js';

// POST https://api.firstpromoter.com/api/v2/track/refund (headers: Authorization + Account-ID)
// https://docs.firstpromoter.com/api-reference-v2/api-admin/tracking-api/refund

const centsString = z.string({ error: 'must be a string of whole cents, like "4950"' }).check(
  z.regex(/^[1-9]\d*$/, 'must be a string of whole cents greater than zero, like "4950"'),
);

/**
 * Request body. `event_id` is required and unique per refund (FirstPromoter's duplicate
 * guard); `amount` is required; the lead is identified by exactly one of `email` | `uid`.
 */
export const firstPromoterRefundBodySchema = z
  .strictObject(
    {
      event_id: nonEmptyString(),
      amount: centsString,
      email: optional(nonEmptyString()),
      uid: optional(nonEmptyString()),
      currency: optional(z.string().check(z.regex(/^[A-Za-z]{3}$/, 'must be a three-letter currency code'))),
      quantity: optional(z.string().check(z.regex(/^[1-9]\d*$/, 'must be a string of a whole number, like "2"'))),
      sale_event_id: optional(nonEmptyString()),
      skip_email_notification: optional(z.boolean({ error: 'must be a boolean' })),
    },
    { error: 'must be an object like { event_id, amount, email | uid, … }' },
  )
  .check(
    z.refine((body) => (body.email === undefined) !== (body.uid === undefined), {
      error: 'give exactly one of email or uid to identify the lead',
      path: ['email'],
    }),
  );

const leadSchema = looseObject({
  id: z.optional(z.number()),
  state: z.optional(z.string()),
  email: z.optional(z.nullable(z.string())),
  uid: z.optional(z.nullable(z.string())),
});

/** 200 body: the refund event, with its (negative) reward. */
export const firstPromoterRefundResponseSchema = looseObject({
  id: z.number(),
  type: z.optional(z.string()),
  /** Negative: the refunded amount in the account's currency. */
  amount_cents: z.optional(z.number()),
  reward: z.optional(
    z.nullable(
      looseObject({
        id: z.optional(z.number()),
        status: z.optional(z.string()),
        /** Negative: the commission clawed back, in `unit` (cents when `unit` is "cash"). */
        amount: z.optional(z.number()),
        unit: z.optional(z.string()),
        event_id: z.optional(z.string()),
        conversion_amount: z.optional(z.number()),
        tier_level: z.optional(z.number()),
        lead: z.optional(leadSchema),
      }),
    ),
  ),
  lead: z.optional(z.nullable(leadSchema)),
  promoter: z.optional(z.nullable(looseObject({ id: z.optional(z.number()), email: z.optional(z.string()) }))),
});

/** 400 `{ message: "Error. Amount blank or invalid." }`, 409 `{ message }`, 404 `{ message, code }`. */
export const firstPromoterErrorSchema = looseObject({
  message: z.string(),
  code: z.optional(z.string()),
});

export type FirstPromoterRefundBody = z.input<typeof firstPromoterRefundBodySchema>;
export type FirstPromoterRefundResponse = z.output<typeof firstPromoterRefundResponseSchema>;
