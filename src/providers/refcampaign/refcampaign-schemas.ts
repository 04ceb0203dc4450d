import * as z from 'zod/mini';
import { integer, looseObject, nonEmptyString, omittable, strictObject } from '../../core/validation.js';

// POST https://app.refcampaign.com/api/v1/conversions/refund
// https://docs.refcampaign.com/docs/api/reference/conversions/postConversionsRefund

/** The id the merchant sent when it reported the conversion: 1 to 255 characters. */
export const refCampaignExternalIdSchema = nonEmptyString().check(
  z.maxLength(255, 'must be at most 255 characters (RefCampaign externalId)'),
);

/** Integer minor units of the conversion's own currency; RefCampaign rejects decimals. */
export const refCampaignAmountSchema = integer('must be a whole number of minor units (cents)').check(
  z.positive('must be greater than zero'),
);

/**
 * Recorded in RefCampaign's clawback ledger: 1 to 500 characters. Not on the reference page;
 * @refcampaign/sdk 3.x sends it (VENDOR-NOTES.md).
 */
export const refCampaignReasonSchema = z.string({ error: 'must be a string of 1 to 500 characters' }).check(
  z.minLength(1, 'must not be empty (1 to 500 characters)'),
  z.maxLength(500, 'must be at most 500 characters (RefCampaign reason)'),
);

/** Request body. Without `amount`, a full refund. */
export const refCampaignRefundBodySchema = strictObject(
  {
    externalId: refCampaignExternalIdSchema,
    amount: omittable(refCampaignAmountSchema),
    reason: omittable(refCampaignReasonSchema),
  },
  { error: 'must be an object like { externalId, amount?, reason? }' },
);

const metaSchema = z.optional(
  looseObject({
    timestamp: z.optional(z.string()),
    requestId: z.optional(z.string()),
  }),
);

/**
 * 200 body. The reference page documents none ("Empty"), so every part of it is optional, and an
 * empty body is a success too. What is read when present is what @refcampaign/sdk reads:
 * `{ success: true, data: { success: true, conversionId, alreadyRefunded, message? }, meta }`.
 * A `success: false` (top level or in `data`) under a 2xx is a failure the page gives no meaning.
 */
export const refCampaignRefundResponseSchema = z.optional(
  looseObject({
    success: z.optional(z.boolean()),
    data: z.optional(
      looseObject({
        success: z.optional(z.boolean()),
        conversionId: z.optional(z.string()),
        /** A second full refund of the same conversion is a no-op and says so here. */
        alreadyRefunded: z.optional(z.boolean()),
        message: z.optional(z.string()),
      }),
    ),
    meta: metaSchema,
  }),
);

/**
 * `{ success: false, error: { code, message, details }, meta: { timestamp, requestId } }`.
 * https://docs.refcampaign.com/docs/error-handling
 */
export const refCampaignErrorSchema = looseObject({
  success: z.optional(z.boolean()),
  error: looseObject({
    code: z.optional(z.string()),
    message: z.optional(z.string()),
    details: z.optional(z.unknown()),
  }),
  meta: metaSchema,
});

/** The body of RefCampaign's `POST /api/v1/conversions/refund`, as documented (amounts in integer minor units). */
export type RefCampaignRefundBody = z.input<typeof refCampaignRefundBodySchema>;
/** RefCampaign's 2xx answer to a refund, in its `{ success, data, meta }` envelope, as documented. */
export type RefCampaignRefundResponse = z.output<typeof refCampaignRefundResponseSchema>;
/** RefCampaign's error envelope, as documented. */
export type RefCampaignError = z.output<typeof refCampaignErrorSchema>;
