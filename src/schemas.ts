/**
 * `clawback/schemas`: the zod schemas clawback validates with, as a public API. `refund()`'s
 * options, money, and each vendor's refund request, response and error envelope, exactly as
 * clawback checks them before sending and after receiving. Standard Schema (`~standard`) works,
 * and `z.toJSONSchema()` of a request body schema gives the vendor's fields.
 */
export { refundOptionsSchema, customerSchema } from './refund.js';
export { callOptionsSchema, currencySchema, idempotencyKeySchema, moneySchema } from './core/validation.js';
export { affixoErrorSchema, affixoRefundBodySchema, affixoRefundResponseSchema } from './providers/affixo/affixo-schemas.js';
export {
  affonsoConversionIdSchema,
  affonsoConversionSchema,
  affonsoErrorSchema,
  affonsoRefundBodySchema,
  affonsoRefundResponseSchema,
} from './providers/affonso/affonso-schemas.js';
export {
  refCampaignErrorSchema,
  refCampaignExternalIdSchema,
  refCampaignRefundBodySchema,
  refCampaignRefundResponseSchema,
} from './providers/refcampaign/refcampaign-schemas.js';
export { firstPromoterErrorSchema, firstPromoterRefundBodySchema, firstPromoterRefundResponseSchema, type FirstPromoterLead } from './providers/firstpromoter/firstpromoter-schemas.js';
