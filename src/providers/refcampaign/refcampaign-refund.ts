import type { ValidationIssue } from '../../core/errors.js';
import { assertRefundable, unsupportedOptionWarnings } from '../../core/refund-call.js';
import { validateField } from '../../core/validation.js';
import type { RefundCall, RefundResult, RefundStatus } from '../../spec/refund-provider-v1.js';
import type { RefCampaignSend } from './refcampaign-provider.js';
import { refCampaignExternalIdSchema, refCampaignReasonSchema } from './refcampaign-schemas.js';

const notSent = {
  refundedAt: "RefCampaign's refund call takes only externalId, amount and reason",
  customer: 'RefCampaign identifies the conversion by its externalId alone',
};

/**
 * `refund()` on RefCampaign: `conversionId` → `externalId`, the amount as integer minor units
 * in the conversion's own currency.
 */
export async function refundWithRefCampaign(call: RefundCall, send: RefCampaignSend, ledgered = false): Promise<RefundResult> {
  const issues: ValidationIssue[] = [];
  validateField(refCampaignExternalIdSchema, call.conversionId, 'conversionId', issues);
  if (call.reason !== undefined) validateField(refCampaignReasonSchema, call.reason, 'reason', issues);
  if (call.amount !== undefined && !call.idempotencyKeyGenerated && !ledgered) {
    // A key the caller chose promises that calling again with it cannot refund twice. RefCampaign
    // cannot keep that promise for a partial refund, so refuse rather than ignore the key; with a
    // ledger, the ledger keeps it (one send per key, an ambiguous one held for an operator).
    issues.push({
      path: 'idempotencyKey',
      message:
        'cannot protect a RefCampaign partial refund: RefCampaign has no idempotency key for partial refunds, so calling again would claw back again. Give the provider a ledger (createRefCampaign({ ledger })), which sends each key once, or remove idempotencyKey and make sure your own system sends this refund once',
    });
  }
  assertRefundable(issues, 'RefCampaign', 'refcampaign');

  const warnings = unsupportedOptionWarnings(call, notSent);
  if (call.amount !== undefined) {
    warnings.push(
      `amount.currency was not sent: RefCampaign refunds ${call.amount.value} minor units of the conversion's own currency, which must be ${call.amount.currency}`,
    );
  }

  const { data, response } = await send(
    {
      externalId: call.conversionId,
      ...(call.amount === undefined ? {} : { amount: call.amount.value }),
      ...(call.reason === undefined ? {} : { reason: call.reason }),
    },
    call,
    // Without a ledger no key protects a partial refund, so its errors name none: "retry the
    // same request" after a failure that sent nothing, never "retry with this key".
    call.amount === undefined || ledgered ? call.idempotencyKey : undefined,
  );
  const already = data?.data?.alreadyRefunded;
  const duplicate = already === true;
  // The page documents no 200 body: without alreadyRefunded the refund is still applied.
  if (already === undefined) {
    warnings.push("data.alreadyRefunded was not in RefCampaign's answer, so whether the conversion had already been refunded is not known");
  }
  // A successful partial refund does not say whether anything is left to refund.
  const status: RefundStatus = duplicate || call.amount === undefined ? 'refunded' : 'accepted';
  const requestId = data?.meta?.requestId ?? response.requestId;
  return {
    provider: 'refcampaign',
    conversionId: call.conversionId,
    status,
    duplicate,
    idempotencyKey: call.idempotencyKey,
    // alreadyRefunded: an earlier refund emptied the conversion and this amount did not move.
    ...(call.amount === undefined || duplicate ? {} : { amount: call.amount }),
    ...(requestId === undefined ? {} : { requestId }),
    warnings,
    raw: response.body,
  };
}
