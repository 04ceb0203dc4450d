import * as z from 'zod/mini';
import { documented, looseObject, matches, nonEmptyString, optional, strictObject } from '../../core/validation.js';

// POST https://api.firstpromoter.com/api/v2/track/refund (headers: Authorization + Account-ID)
// https://docs.firstpromoter.com/api-reference-v2/api-admin/tracking-api/refund

const centsString = z.string({ error: 'must be a string of whole cents, like "4950"' }).check(
  matches(/^[1-9]\d*$/, 'must be a string of whole cents greater than zero, like "4950"'),
);

/**
 * Request body. `event_id` is required and unique per refund (FirstPromoter's duplicate
 * guard); `amount` is required; the lead is identified by exactly one of `email` | `uid`.
 */
export const firstPromoterRefundBodySchema = strictObject(
  {
    /** Unique per refund: FirstPromoter's guard against recording it twice. */
    event_id: nonEmptyString(),
    /** The refund in cents, as a string ("4950"); zero-decimal currencies in whole units. */
    amount: centsString,
    /** The lead, by email … */
    email: optional(nonEmptyString()),
    /** … or by the uid given at signup. */
    uid: optional(nonEmptyString()),
    /** Only when it differs from the account's currency; FirstPromoter converts. */
    currency: optional(z.string().check(matches(/^[A-Za-z]{3}$/, 'must be a three-letter currency code'))),
    /** Subscriptions or items refunded, as a string. */
    quantity: optional(z.string().check(matches(/^[1-9]\d*$/, 'must be a string of a whole number, like "2"'))),
    /** The `event_id` of the sale being refunded. */
    sale_event_id: optional(nonEmptyString()),
    skip_email_notification: optional(z.boolean({ error: 'must be a boolean' })),
  },
  { error: 'must be an object like { event_id, amount, email | uid, … }' },
).check(
  z.refine((body) => (body.email === undefined) !== (body.uid === undefined), {
    error: 'give exactly one of email or uid to identify the lead',
    path: ['email'],
  }),
);

/** The lead FirstPromoter's refund answer may include, as documented. */
export interface FirstPromoterLead {
  id?: number;
  state?: string;
  email?: string | null;
  uid?: string | null;
  [key: string]: unknown;
}

/**
 * 200 body: the refund event, with its (negative) reward. The document requires none of its
 * fields. Checked when present: `reward.amount` and `reward.unit`, which the mapping reads; the
 * other documented fields are `documented()`, so a change in one cannot turn an applied refund
 * into an error.
 */
export const firstPromoterRefundResponseSchema = looseObject({
  id: documented<number>(),
  type: documented<string>(),
  /** Negative: the refunded amount in the account's currency. */
  amount_cents: documented<number>(),
  reward: z.optional(
    z.nullable(
      looseObject({
        /** Negative: the commission clawed back, in `unit` (cents when `unit` is "cash"). */
        amount: z.optional(z.number()),
        unit: z.optional(z.string()),
        id: documented<number>(),
        status: documented<string>(),
        event_id: documented<string>(),
        conversion_amount: documented<number>(),
        tier_level: documented<number>(),
        lead: documented<FirstPromoterLead>(),
      }),
    ),
  ),
  lead: documented<FirstPromoterLead | null>(),
  promoter: documented<{ id?: number; email?: string; [key: string]: unknown } | null>(),
});

/** 400 `{ message: "Error. Amount blank or invalid." }`, 409 `{ message }`, 404 `{ message, code }`. */
export const firstPromoterErrorSchema = looseObject({
  message: z.string(),
  code: z.optional(z.string()),
});

/** The body of FirstPromoter's `POST /api/v2/track/refund`, as documented (`amount` a string of cents). */
export type FirstPromoterRefundBody = z.input<typeof firstPromoterRefundBodySchema>;
/** The refund event as documented (no field required); only `reward.amount` and `reward.unit` are checked at run time. */
export type FirstPromoterRefundResponse = z.output<typeof firstPromoterRefundResponseSchema>;
/** FirstPromoter's error body, as documented. */
export type FirstPromoterError = z.output<typeof firstPromoterErrorSchema>;
