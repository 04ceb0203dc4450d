import * as z from 'zod/mini';
import { looseObject, nonEmptyString, strictObject } from '../../core/validation.js';

// POST https://go.affixo.dev/v1/track/refund
// https://docs.affixo.dev/api-reference/tracking/reverse-a-conversion.md

/** Request body: the conversion's `external_id` only. Affixo reverses the whole conversion. */
export const affixoRefundBodySchema = strictObject(
  { external_id: nonEmptyString() },
  { error: 'must be an object like { external_id }' },
);

/**
 * 200 "Conversion reversed": `{ ok: boolean, conversion_id: string }`, neither required by the
 * document, so neither is here. `ok: false` under a 200 is a value the document gives no meaning:
 * the provider reports it as an ambiguous failure (the reversal may have happened).
 */
export const affixoRefundResponseSchema = looseObject({
  ok: z.optional(z.boolean()),
  conversion_id: z.optional(z.string()),
});

/**
 * Every Affixo error: `{ error, need?, detail? }`, e.g. 400 `external_id_required`,
 * 401 `unauthorized`, 403 `insufficient_scope` with `need: "track"`, 500 `conversion_failed`.
 * https://docs.affixo.dev/authentication.md
 */
export const affixoErrorSchema = looseObject({
  error: z.string(),
  need: z.optional(z.string()),
  detail: z.optional(z.string()),
});

/** The body of Affixo's `POST /v1/track/refund`, as documented. */
export type AffixoRefundBody = z.input<typeof affixoRefundBodySchema>;
/** Affixo's 200 answer to a refund, as documented (every field optional). */
export type AffixoRefundResponse = z.output<typeof affixoRefundResponseSchema>;
/** Affixo's error envelope, as documented. */
export type AffixoError = z.output<typeof affixoErrorSchema>;
