import { assertRefundable, unsupportedOptionWarnings } from '../../core/refund-call.js';
import type { RefundCall, RefundResult } from '../../spec/refund-provider-v1.js';
import type { AffixoSend } from './affixo-provider.js';

const notSent = {
  reason: "Affixo's refund call takes only external_id",
  refundedAt: "Affixo's refund call takes only external_id",
  customer: "Affixo's refund call takes only external_id",
};

/** `refund()` on Affixo: `conversionId` → `external_id`; the whole conversion is reversed. */
export async function refundWithAffixo(call: RefundCall, send: AffixoSend): Promise<RefundResult> {
  assertRefundable(
    call.amount === undefined
      ? []
      : [
          {
            path: 'amount',
            message:
              'Affixo only reverses whole conversions (its refund call has no amount field). Omit amount to reverse the whole conversion; clawback will not turn a partial refund into a full one',
          },
        ],
    'Affixo',
    'affixo',
  );
  const warnings = unsupportedOptionWarnings(call, notSent);

  const { data, response } = await send({ external_id: call.conversionId }, call, call.idempotencyKey);
  // The document's 200 is "Conversion reversed", ok optional: its absence does not undo that.
  if (data.ok === undefined) warnings.push('ok was not in Affixo\'s answer: its 200 ("Conversion reversed") is taken as the reversal');
  return {
    provider: 'affixo',
    conversionId: call.conversionId,
    status: 'refunded',
    // Affixo documents no marker for a repeated reversal.
    duplicate: false,
    idempotencyKey: call.idempotencyKey,
    ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
    warnings,
    raw: response.body,
  };
}
