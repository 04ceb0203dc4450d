import * as z from 'zod/mini';
import { expected, integer, looseObject, nonEmptyString, optional } from '../core/validation.js';

/**
 * The Stripe objects `refundsFromStripeEvent` reads, as zod schemas of only the fields it reads
 * (https://docs.stripe.com/api/events/object, /api/refunds/object, /api/charges/object,
 * /api/disputes/object). Objects are loose: Stripe's other fields, and fields it adds later, are
 * kept and ignored. Nullable where Stripe documents `nullable`.
 */

const nullish = <T extends z.ZodMiniType>(schema: T) => optional(z.nullable(schema));

const amountSchema = integer(expected('a whole number of Stripe minor units')).check(
  z.refine((value) => value >= 0, 'must not be negative'),
);

const stripeCurrencySchema = z
  .string({ error: expected('a three-letter currency code') })
  .check(z.regex(/^[A-Za-z]{3}$/, 'must be a three-letter currency code'));

/** An expandable reference: the id, or the object with its id. */
const expandable = () => z.union([nonEmptyString(), looseObject({ id: nonEmptyString() })], { error: expected('an id or an object with an id') });

/** Metadata is string to string; absent and null read as `{}`. */
const metadataSchema = nullish(z.record(z.string(), z.string(), { error: expected('an object of strings') }));

/** The fields of a Charge that tell how much of it was refunded. */
const chargeShape = {
  id: nonEmptyString(),
  amount: amountSchema,
  amount_refunded: amountSchema,
  currency: stripeCurrencySchema,
  refunded: z.boolean({ error: expected('true or false') }),
  payment_intent: nullish(expandable()),
  metadata: metadataSchema,
};
export const chargeSummarySchema = looseObject(chargeShape);

/** The fields of a Stripe Refund that clawback reads (others are kept). */
export const stripeRefundSchema = looseObject({
  id: nonEmptyString(),
  amount: amountSchema,
  currency: stripeCurrencySchema,
  /** pending, requires_action, succeeded, failed or canceled. */
  status: nullish(z.string({ error: expected('a string') })),
  /** The charge's id; the Charge when the event was built with `charge` expanded. */
  charge: nullish(z.union([nonEmptyString(), chargeSummarySchema], { error: expected('a charge id or a Charge') })),
  payment_intent: nullish(expandable()),
  reason: nullish(z.string({ error: expected('a string') })),
  created: optional(integer(expected('a unix timestamp'))),
  metadata: metadataSchema,
});

/** The fields of a Stripe Charge that clawback reads (others are kept). */
export const stripeChargeSchema = looseObject({
  ...chargeShape,
  /** The charge's refunds: included in events of API versions before 2022-11-15 only. */
  refunds: nullish(
    looseObject({
      data: z.array(stripeRefundSchema, { error: expected('an array of Refunds') }),
      has_more: optional(z.boolean({ error: expected('true or false') })),
    }),
  ),
});

/** What `stripe.refunds.list()` resolves to: `{ object: 'list', data, has_more }`; each Refund is read on its own. */
export const stripeRefundListSchema = looseObject(
  {
    data: z.array(z.unknown(), { error: expected('an array of Refunds') }),
    has_more: optional(z.boolean({ error: expected('true or false') })),
  },
  { error: expected('a list of Refunds ({ data: [...] }) or an array of them') },
);

/** The fields of a Stripe Dispute that clawback reads (others are kept). */
export const stripeDisputeSchema = looseObject({
  id: nonEmptyString(),
  amount: amountSchema,
  currency: stripeCurrencySchema,
  charge: expandable(),
  payment_intent: nullish(expandable()),
  reason: nullish(z.string({ error: expected('a string') })),
  /** warning_needs_response, warning_under_review, warning_closed (inquiries), needs_response, under_review, won, lost. */
  status: z.string({ error: expected('a string') }),
  created: optional(integer(expected('a unix timestamp'))),
  metadata: metadataSchema,
});

/** The event envelope. `data.object` is read by the schema of its type. */
export const stripeEventSchema = looseObject(
  {
    id: nonEmptyString(),
    type: nonEmptyString(),
    data: looseObject(
      { object: z.record(z.string(), z.unknown(), { error: expected('the Stripe object the event is about') }) },
      { error: expected('an object with the event\'s object') },
    ),
  },
  { error: expected('a Stripe event object (from stripe.webhooks.constructEvent)') },
);

/** A Stripe Refund, as far as clawback reads it. */
export type StripeRefund = z.output<typeof stripeRefundSchema>;
/** A Stripe Charge, as far as clawback reads it. */
export type StripeCharge = z.output<typeof stripeChargeSchema>;
/** A Charge's refund totals: what an expanded `refund.charge` is read for. */
export type StripeChargeSummary = z.output<typeof chargeSummarySchema>;
/** A Stripe Dispute, as far as clawback reads it. */
export type StripeDispute = z.output<typeof stripeDisputeSchema>;
