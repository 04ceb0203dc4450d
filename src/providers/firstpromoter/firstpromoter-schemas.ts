import * as z from '../../core/schema.js';
import { looseObject, matches, nonEmptyString, optional } from '../../core/validation.js';

// POST https://api.firstpromoter.com/api/v2/track/refund (headers: Authorization + Account-ID)
// https://docs.firstpromoter.com/api-reference-v2/api-admin/tracking-api/refund

const centsString = z.string({ error: 'must be a string of whole cents, like "4950"' }).check(
  matches(/^[1-9]\d*$/, 'must be a string of whole cents greater than zero, like "4950"'),
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
      currency: optional(z.string().check(matches(/^[A-Za-z]{3}$/, 'must be a three-letter currency code'))),
      quantity: optional(z.string().check(matches(/^[1-9]\d*$/, 'must be a string of a whole number, like "2"'))),
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

/**
 * 200 body: the refund event, with its (negative) reward. Checked at run time: what the mapping
 * reads. Typed (`FirstPromoterRefundResponse`): every documented field. The rest is not checked,
 * so a change in a field clawback does not read cannot turn an applied refund into an error.
 */
export const firstPromoterRefundResponseSchema = looseObject({
  id: z.number(),
  reward: z.optional(
    z.nullable(
      looseObject({
        /** Negative: the commission clawed back, in `unit` (cents when `unit` is "cash"). */
        amount: z.optional(z.number()),
        unit: z.optional(z.string()),
      }),
    ),
  ),
});

interface FirstPromoterLead {
  id?: number;
  state?: string;
  email?: string | null;
  uid?: string | null;
}

/** 400 `{ message: "Error. Amount blank or invalid." }`, 409 `{ message }`, 404 `{ message, code }`. */
export const firstPromoterErrorSchema = looseObject({
  message: z.string(),
  code: z.optional(z.string()),
});

export type FirstPromoterRefundBody = z.input<typeof firstPromoterRefundBodySchema>;
/** The refund event as documented; only `id`, `reward.amount` and `reward.unit` are checked at run time. */
export type FirstPromoterRefundResponse = Omit<z.output<typeof firstPromoterRefundResponseSchema>, 'reward'> & {
  type?: string;
  /** Negative: the refunded amount in the account's currency. */
  amount_cents?: number;
  reward?:
    | (NonNullable<z.output<typeof firstPromoterRefundResponseSchema>['reward']> & {
        id?: number;
        status?: string;
        event_id?: string;
        conversion_amount?: number;
        tier_level?: number;
        lead?: FirstPromoterLead;
      })
    | null;
  lead?: FirstPromoterLead | null;
  promoter?: { id?: number; email?: string; [key: string]: unknown } | null;
};
